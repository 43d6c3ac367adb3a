"""a public report's submission key (a retried or twice-tapped form is one report); when the
message a bot photo was forwarded from was first sent (flagged)

Revision ID: 0034_report_keys_forwards
Revises: 0033_bot_state
Create Date: 2026-12-03 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0034_report_keys_forwards"
down_revision = "0033_bot_state"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("public_report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submission_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_public_report_submission_key"), ["submission_key"]
        )
    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("forwarded_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.drop_column("forwarded_at")
    with op.batch_alter_table("public_report", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_public_report_submission_key"), type_="unique")
        batch_op.drop_column("submission_key")
