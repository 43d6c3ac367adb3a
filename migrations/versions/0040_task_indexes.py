"""a task's indexes grow with the current tasks, not with the years of history

Revision ID: 0040_task_indexes
Revises: 0039_district_checklists
Create Date: 2026-12-04 19:30:00

The year-end sweep closes and starts some thirty thousand tasks at once. Two indexes took one
page of their own for nearly each of them, and more pages every year: the unique (duty, asset,
due time), whose new entries fell one into each (duty, asset) run of the whole history, and
(asset, checklist) over every task ever made. The unique one now leads with the due time, so a
roll's new tasks sit together; the asset's holds only current tasks, as every lookup through
it asks; and the next-action index leaves out the past tasks, which have none. The tasks
that records did get an index of their own (a food-safety report read the whole table to
find them). The same rows are kept; on SQLite the table is copied once to change its unique
constraint; on PostgreSQL writes to the task table wait while its new indexes are built.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0040_task_indexes"
down_revision = "0039_district_checklists"
branch_labels = None
depends_on = None

NOT_PAST = sa.text("next_action_at IS NOT NULL")
DONE_BY_A_RECORD = sa.text("record_id IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_task_asset_id_template_key", table_name="task")
    op.drop_index("ix_task_next_action_at", table_name="task")
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_constraint("uq_task_duty_id_asset_id_due_at", type_="unique")
        batch_op.create_unique_constraint(
            "uq_task_due_at_duty_id_asset_id", ["due_at", "duty_id", "asset_id"]
        )
    op.create_index(
        "ix_task_next_action_at",
        "task",
        ["next_action_at"],
        sqlite_where=NOT_PAST,
        postgresql_where=NOT_PAST,
    )
    op.create_index(
        "ix_task_current_asset_id_template_key",
        "task",
        ["asset_id", "template_key"],
        sqlite_where=sa.text("current = 1"),
        postgresql_where=sa.text("current"),
    )
    op.create_index(
        "ix_task_record_id",
        "task",
        ["record_id"],
        sqlite_where=DONE_BY_A_RECORD,
        postgresql_where=DONE_BY_A_RECORD,
    )


def downgrade() -> None:
    op.drop_index("ix_task_record_id", table_name="task")
    op.drop_index("ix_task_current_asset_id_template_key", table_name="task")
    op.drop_index("ix_task_next_action_at", table_name="task")
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_constraint("uq_task_due_at_duty_id_asset_id", type_="unique")
        batch_op.create_unique_constraint(
            "uq_task_duty_id_asset_id_due_at", ["duty_id", "asset_id", "due_at"]
        )
    op.create_index("ix_task_next_action_at", "task", ["next_action_at"])
    op.create_index("ix_task_asset_id_template_key", "task", ["asset_id", "template_key"])
