"""Role-play results.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "roleplay_results",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("scenario_id", sa.String(64), nullable=False),
        sa.Column("difficulty", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("overall", sa.Float, nullable=False),
        sa.Column("scores", sa.Text, nullable=False),
        sa.Column("transcript", sa.Text, nullable=False),
        sa.Column("group_code", sa.String(32), nullable=True),
        sa.Column("finished_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_roleplay_results_user_id", "roleplay_results", ["user_id"])
    op.create_index("ix_roleplay_results_group_code", "roleplay_results", ["group_code"])


def downgrade() -> None:
    op.drop_index("ix_roleplay_results_group_code", table_name="roleplay_results")
    op.drop_index("ix_roleplay_results_user_id", table_name="roleplay_results")
    op.drop_table("roleplay_results")
