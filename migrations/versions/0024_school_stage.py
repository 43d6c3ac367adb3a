"""a school's stage (学段): the grades its uniform and exercise-book orders offer

Revision ID: 0024
Revises: 0023_records
Create Date: 2026-12-02 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023_records"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("school") as batch_op:
        batch_op.add_column(sa.Column("stage", sa.String(length=24), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("school") as batch_op:
        batch_op.drop_column("stage")
