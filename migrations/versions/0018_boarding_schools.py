"""boarding schools: a school flag that adds the night fire patrol to its schedules

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("school") as batch_op:
        batch_op.add_column(
            sa.Column("boarding", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("school") as batch_op:
        batch_op.drop_column("boarding")
