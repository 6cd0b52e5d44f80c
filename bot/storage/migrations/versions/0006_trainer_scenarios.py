"""Scenarios written by trainers: the scenario (slug, owner, published) and its versions.

Every save of a scenario adds a row to ``trainer_scenario_versions`` (number, YAML text,
author, time); nothing is updated in place except the published flag and ``updated_at``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trainer_scenarios",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("slug", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "owner_user_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("published", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_trainer_scenarios_owner_user_id", "trainer_scenarios", ["owner_user_id"])
    op.create_table(
        "trainer_scenario_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "scenario_id",
            sa.Integer,
            sa.ForeignKey("trainer_scenarios.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("yaml_text", sa.Text, nullable=False),
        sa.Column("author", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("scenario_id", "number", name="uq_trainer_scenario_versions"),
    )
    op.create_index(
        "ix_trainer_scenario_versions_scenario_id", "trainer_scenario_versions", ["scenario_id"]
    )


def downgrade() -> None:
    op.drop_index(
        "ix_trainer_scenario_versions_scenario_id", table_name="trainer_scenario_versions"
    )
    op.drop_table("trainer_scenario_versions")
    op.drop_index("ix_trainer_scenarios_owner_user_id", table_name="trainer_scenarios")
    op.drop_table("trainer_scenarios")
