"""each person's choice of what reaches them where: per channel the lowest severity and the
daily summary, and quiet hours

Revision ID: 0032_notice_preferences
Revises: 0031_channel_groups
Create Date: 2026-12-03 12:00:00

Nobody has a row yet: every channel keeps its defaults (chats everything, e-mail critical
alerts and the daily summary) and nobody has quiet hours.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032_notice_preferences"
down_revision = "0031_channel_groups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_preference",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("lowest", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_channel_preference_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_preference")),
        sa.UniqueConstraint(
            "person_id", "channel", name=op.f("uq_channel_preference_person_id_channel")
        ),
    )
    op.create_table(
        "quiet_hours",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("starts", sa.Time(), nullable=False),
        sa.Column("ends", sa.Time(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_quiet_hours_person_id_person")
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_quiet_hours")),
    )


def downgrade() -> None:
    op.drop_table("quiet_hours")
    op.drop_table("channel_preference")
