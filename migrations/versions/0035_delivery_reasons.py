"""why a person's delivery failed or was dropped, for an administrator (a catalogue message
and its parameters)

Revision ID: 0035_delivery_reasons
Revises: 0034_report_keys_forwards
Create Date: 2026-12-03 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0035_delivery_reasons"
down_revision = "0034_report_keys_forwards"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("reason")
