"""training sessions: topic, day, trainer and the people who attended

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 06:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("trainer", sa.String(length=100), nullable=False),
        sa.Column("hours", sa.Float(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_training_session_school_id", "training_session", ["school_id"], unique=False
    )
    op.create_table(
        "training_attendee",
        sa.Column("training_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["training_id"], ["training_session.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("training_id", "person_id"),
    )
    op.create_index(
        "ix_training_attendee_person_id", "training_attendee", ["person_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_training_attendee_person_id", table_name="training_attendee")
    op.drop_table("training_attendee")
    op.drop_index("ix_training_session_school_id", table_name="training_session")
    op.drop_table("training_session")
