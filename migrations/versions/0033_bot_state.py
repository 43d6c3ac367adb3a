"""what a chat is in the middle of (the bot's /report), kept in the database so a restart of
the bot does not lose it

Revision ID: 0033_bot_state
Revises: 0032_notice_preferences
Create Date: 2026-12-03 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033_bot_state"
down_revision = "0032_notice_preferences"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_state")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_conversation_state_scope_key")),
    )


def downgrade() -> None:
    op.drop_table("conversation_state")
