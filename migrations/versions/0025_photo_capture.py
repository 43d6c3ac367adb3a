"""a photo keeps when it was taken (EXIF DateTimeOriginal), though its file keeps no EXIF

Revision ID: 0025_photo_capture
Revises: 0024
Create Date: 2026-12-03 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0025_photo_capture"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("photo") as batch:
        batch.add_column(sa.Column("taken_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("photo") as batch:
        batch.drop_column("taken_at")
