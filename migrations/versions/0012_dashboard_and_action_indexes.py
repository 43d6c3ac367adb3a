"""dashboard and action indexes: a year of the district dashboard reads indexes only, and a
record's corrective actions are found by the record

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 05:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_task_school_id_state_due_at", "task", ["school_id", "state", "due_at"], unique=False
    )
    op.create_index(
        "ix_task_late_school_id_state_due_at",
        "task",
        ["school_id", "state", "due_at", "done_at"],
        unique=False,
        sqlite_where=sa.text("done_at > due_at"),
        postgresql_where=sa.text("done_at > due_at"),
    )
    op.create_index(
        "ix_record_flagged_school_id_submitted_at",
        "record",
        ["school_id", "submitted_at", "same_photo_as_id"],
        unique=False,
        sqlite_where=sa.text("same_photo_as_id IS NOT NULL"),
        postgresql_where=sa.text("same_photo_as_id IS NOT NULL"),
    )
    op.create_index(
        op.f("ix_corrective_action_record_id"), "corrective_action", ["record_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_corrective_action_record_id"), table_name="corrective_action")
    op.drop_index("ix_record_flagged_school_id_submitted_at", table_name="record")
    op.drop_index("ix_task_late_school_id_state_due_at", table_name="task")
    op.drop_index("ix_task_school_id_state_due_at", table_name="task")
