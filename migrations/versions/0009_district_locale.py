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
    with op.batch_alter_table("district") as batch:
        batch.add_column(sa.Column("locale", sa.String(length=10), nullable=True))
    locale = context.config.attributes.get("default_locale", DEFAULT_LOCALE)
    district = sa.table("district", sa.column("locale", sa.String))
    op.execute(district.update().values(locale=locale))
    with op.batch_alter_table("district") as batch:
        batch.alter_column("locale", existing_type=sa.String(length=10), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("district") as batch:
        batch.drop_column("locale")
