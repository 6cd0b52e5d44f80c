"""Boundaries and incidents in the user's own words: a label next to the behaviour key.

A behaviour no category fits ("Nachrichten nach Feierabend") is stored with a key derived
from its words (``custom:…``, see bot/boundaries.py) and the words themselves as ``label``.
Existing rows keep their category and get no label.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

LABEL_MAX = 120


def upgrade() -> None:
    with op.batch_alter_table("boundaries") as batch:
        batch.add_column(sa.Column("label", sa.String(LABEL_MAX), nullable=True))
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("label", sa.String(LABEL_MAX), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("label")
    with op.batch_alter_table("boundaries") as batch:
        batch.drop_column("label")
