"""problems reported without an account: the label, the client address, the reference

Revision ID: 0026_public_reports
Revises: 0025_photo_capture
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0026_public_reports"
down_revision = "0025_photo_capture"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "public_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("label_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("reported_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["corrective_action.id"],
            name="fk_public_report_action_id_corrective_action",
        ),
        sa.ForeignKeyConstraint(["label_id"], ["label.id"], name="fk_public_report_label_id_label"),
        sa.PrimaryKeyConstraint("id", name="pk_public_report"),
        sa.UniqueConstraint("action_id", name="uq_public_report_action_id"),
        sa.UniqueConstraint("reference", name="uq_public_report_reference"),
    )
    op.create_index("ix_public_report_label_id", "public_report", ["label_id"])
    op.create_index("ix_public_report_source", "public_report", ["source"])
    op.create_index("ix_public_report_reported_at", "public_report", ["reported_at"])


def downgrade() -> None:
    op.drop_index("ix_public_report_reported_at", table_name="public_report")
    op.drop_index("ix_public_report_source", table_name="public_report")
    op.drop_index("ix_public_report_label_id", table_name="public_report")
    op.drop_table("public_report")
