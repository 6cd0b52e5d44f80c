"""Boundaries and incidents.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "boundaries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("behavior", sa.String(32), nullable=False),
        sa.Column("max_count", sa.Integer, nullable=True),
        sa.Column("period_days", sa.Integer, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("user_id", "behavior", name="uq_boundaries_user_behavior"),
    )
    op.create_index("ix_boundaries_user_id", "boundaries", ["user_id"])
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "client_id", sa.Integer, sa.ForeignKey("clients.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("behavior", sa.String(32), nullable=False),
        sa.Column("occurred_on", sa.Date, nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("source", sa.String(16), nullable=False, server_default="chat"),
        sa.Column("case", sa.String(32), nullable=True),
        sa.Column("level_hint", sa.Integer, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_incidents_user_id", "incidents", ["user_id"])
    op.create_index("ix_incidents_client_id", "incidents", ["client_id"])
    op.create_index("ix_incidents_occurred_on", "incidents", ["occurred_on"])


def downgrade() -> None:
    op.drop_index("ix_incidents_occurred_on", table_name="incidents")
    op.drop_index("ix_incidents_client_id", table_name="incidents")
    op.drop_index("ix_incidents_user_id", table_name="incidents")
    op.drop_table("incidents")
    op.drop_index("ix_boundaries_user_id", table_name="boundaries")
    op.drop_table("boundaries")
