"""a boarding school's own built-in meal schedules: 陪餐 and 留样 at breakfast, lunch and dinner

The district's built-in schedules stay one per checklist; a school may now hold one built-in
schedule per checklist too (models/duties.py BOARDING_MEALS). The schedules themselves come
from the sweep, as every built-in schedule does.

Revision ID: 0023_records
Revises: 0022_supply
Create Date: 2026-12-02 17:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023_records"
down_revision = "0022_supply"
branch_labels = None
depends_on = None

duty = sa.table(
    "duty",
    sa.column("school_id", sa.Integer()),
    sa.column("builtin", sa.Boolean()),
)


def upgrade() -> None:
    op.drop_index("ix_duty_builtin", table_name="duty")
    op.create_index(
        "ix_duty_builtin",
        "duty",
        ["district_id", "template_key"],
        unique=True,
        sqlite_where=sa.text("builtin = 1 AND school_id IS NULL"),
        postgresql_where=sa.text("builtin AND school_id IS NULL"),
    )
    op.create_index(
        "ix_duty_builtin_school",
        "duty",
        ["school_id", "template_key"],
        unique=True,
        sqlite_where=sa.text("builtin = 1 AND school_id IS NOT NULL"),
        postgresql_where=sa.text("builtin AND school_id IS NOT NULL"),
    )


def downgrade() -> None:
    # A boarding school's meal schedules stay, as schedules of its own.
    op.execute(sa.update(duty).where(duty.c.school_id.is_not(None)).values(builtin=False))
    op.drop_index("ix_duty_builtin_school", table_name="duty")
    op.drop_index("ix_duty_builtin", table_name="duty")
    op.create_index(
        "ix_duty_builtin",
        "duty",
        ["district_id", "template_key"],
        unique=True,
        sqlite_where=sa.text("builtin = 1"),
        postgresql_where=sa.text("builtin"),
    )
