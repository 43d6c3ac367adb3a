"""record after asset: the asset of a person's previous record, when another, and the gap

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 06:10:00

Filled for the records already kept, person by person in the order they were filed, so the
implausible flag (models.plausibility) reads the same for old records as for new ones.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = "0014"
# The chain in this branch ends at 0011; merged after 0012 and 0013, this revises 0013.
down_revision = "0013"
branch_labels = None
depends_on = None

AFTER_WITHIN = timedelta(hours=1)  # models.records.AFTER_WITHIN when this was written


def upgrade() -> None:
    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("after_asset_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("after_seconds", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_record_after_asset_id_asset"), "asset", ["after_asset_id"], ["id"]
        )
        batch_op.create_index(
            "ix_record_submitted_by_id_submitted_at", ["submitted_by_id", "submitted_at"]
        )
    _fill()
    op.create_index(
        "ix_record_quick_school_id_submitted_at",
        "record",
        ["school_id", "submitted_at", "after_seconds"],
        unique=False,
        sqlite_where=sa.text("after_seconds IS NOT NULL"),
        postgresql_where=sa.text("after_seconds IS NOT NULL"),
    )


def _fill() -> None:
    connection = op.get_bind()
    record = sa.table(
        "record",
        sa.column("id", sa.Integer()),
        sa.column("asset_id", sa.Integer()),
        sa.column("submitted_by_id", sa.Integer()),
        sa.column("submitted_at", sa.DateTime()),
        sa.column("after_asset_id", sa.Integer()),
        sa.column("after_seconds", sa.Integer()),
    )
    rows = connection.execute(
        sa.select(
            record.c.id, record.c.asset_id, record.c.submitted_by_id, record.c.submitted_at
        ).order_by(record.c.submitted_by_id, record.c.submitted_at, record.c.id)
    )
    updates = []
    previous = None
    for row in rows:
        if previous is not None and previous.submitted_by_id == row.submitted_by_id:
            gap = row.submitted_at - previous.submitted_at
            if previous.asset_id != row.asset_id and gap < AFTER_WITHIN:
                updates.append(
                    {
                        "row_id": row.id,
                        "asset": previous.asset_id,
                        "seconds": int(gap.total_seconds()),
                    }
                )
        previous = row
    if updates:
        connection.execute(
            record.update()
            .where(record.c.id == sa.bindparam("row_id"))
            .values(after_asset_id=sa.bindparam("asset"), after_seconds=sa.bindparam("seconds")),
            updates,
        )


def downgrade() -> None:
    op.drop_index("ix_record_quick_school_id_submitted_at", table_name="record")
    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.drop_index("ix_record_submitted_by_id_submitted_at")
        batch_op.drop_constraint(batch_op.f("fk_record_after_asset_id_asset"), type_="foreignkey")
        batch_op.drop_column("after_seconds")
        batch_op.drop_column("after_asset_id")
