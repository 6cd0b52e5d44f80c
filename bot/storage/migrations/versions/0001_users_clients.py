"""Users and clients.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender_id", sa.String(128), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_seen_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "clients",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("name_key", sa.String(120), nullable=False),
        sa.Column("mentions", sa.Integer, nullable=False, server_default="1"),
        sa.Column("first_mentioned_at", sa.DateTime, nullable=False),
        sa.Column("last_mentioned_at", sa.DateTime, nullable=False),
        sa.Column("last_case", sa.String(32), nullable=True),
        sa.UniqueConstraint("user_id", "name_key", name="uq_clients_user_name"),
    )
    op.create_index("ix_clients_user_id", "clients", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_clients_user_id", table_name="clients")
    op.drop_table("clients")
    op.drop_table("users")
