"""a supplier's QS certificate is a food production licence (食品生产许可证, SC): the QS mark is gone

Revision ID: 0022_supply
Revises: 0021
Create Date: 2026-12-02 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022_supply"
down_revision = "0021"
branch_labels = None
depends_on = None

document = sa.table("document", sa.column("kind", sa.String()))


def upgrade() -> None:
    op.execute(
        document.update()
        .where(document.c.kind == "qs_certificate")
        .values(kind="food_production_licence")
    )


def downgrade() -> None:
    op.execute(
        document.update()
        .where(document.c.kind == "food_production_licence")
        .values(kind="qs_certificate")
    )
