"""district locale: the language of a district's people who chose none

Existing districts take the configured i18n.default_locale (houqin db upgrade passes it), so
an install set to English stays English.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 02:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from models.catalogue import DEFAULT_LOCALE

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One ALTER TABLE ... ADD COLUMN, not a batch rebuild: on SQLite a rebuild drops the
    # district table, which its schools' foreign keys refuse.
    locale = context.config.attributes.get("default_locale", DEFAULT_LOCALE)
    op.add_column(
        "district",
        sa.Column("locale", sa.String(length=10), nullable=False, server_default=locale),
    )
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("district", "locale", server_default=None)


def downgrade() -> None:
    op.drop_column("district", "locale")
