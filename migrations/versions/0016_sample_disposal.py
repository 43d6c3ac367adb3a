"""sample disposal: the second step of a food sample, recorded 48 hours after it was sampled

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 06:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sample_disposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("disposed_at", UTCDateTime(), nullable=False),
        sa.Column("disposed_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["disposed_by_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["record_id"], ["record.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_id"),
    )


def downgrade() -> None:
    op.drop_table("sample_disposal")
