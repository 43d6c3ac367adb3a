"""delivery leases: the sender holding a delivery and until when; pieces of a long notice sent

Revision ID: 0030_delivery_leases
Revises: 0028_location
Create Date: 2026-12-03 11:30:00

Deliveries queued before this are unclaimed, with no piece sent: the next sender takes them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0030_delivery_leases"
down_revision = "0028_location"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("claimed_until", UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("pieces_sent", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("pieces_sent")
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claimed_by")
