"""published scores: a district's frozen ranking per period, with its history; the task
index that counts a school's tasks over a period covers their state and done time

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 05:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "published_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("period_kind", sa.String(length=8), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("scheme_version", sa.Integer(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=False),
        sa.Column("published_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["district_id"], ["district.id"]),
        sa.ForeignKeyConstraint(["published_by_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_published_score_period",
        "published_score",
        ["district_id", "period_kind", "starts_on", "ends_on"],
        unique=False,
    )
    with op.batch_alter_table("task") as batch_op:
        batch_op.create_index(
            "ix_task_school_due_state", ["school_id", "due_at", "state", "done_at"], unique=False
        )
        batch_op.drop_index("ix_task_school_id_due_at")


def downgrade() -> None:
    with op.batch_alter_table("task") as batch_op:
        batch_op.create_index("ix_task_school_id_due_at", ["school_id", "due_at"], unique=False)
        batch_op.drop_index("ix_task_school_due_state")
    op.drop_index("ix_published_score_period", table_name="published_score")
    op.drop_table("published_score")
