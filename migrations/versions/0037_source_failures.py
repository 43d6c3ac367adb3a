"""failed logins per address, whichever logins they tried, and from every address together

Revision ID: 0037_source_failures
Revises: 0036_login_sessions
Create Date: 2026-12-03 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0037_source_failures"
down_revision = "0036_login_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_at", UTCDateTime(), nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_failure")),
        sa.UniqueConstraint("source", name=op.f("uq_source_failure_source")),
    )


def downgrade() -> None:
    op.drop_table("source_failure")
