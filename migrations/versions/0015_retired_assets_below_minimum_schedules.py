"""retired assets and schedules confirmed below the statutory minimum

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("asset") as batch:
        batch.add_column(sa.Column("retired_at", models.base.UTCDateTime(), nullable=True))
        batch.add_column(
            sa.Column("retired_reason", sa.String(length=200), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("retired_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_asset_retired_by_id_person"), "person", ["retired_by_id"], ["id"]
        )
    with op.batch_alter_table("duty") as batch:
        batch.add_column(sa.Column("below_minimum_confirmed_by_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("below_minimum_confirmed_at", models.base.UTCDateTime(), nullable=True)
        )
        batch.create_foreign_key(
            op.f("fk_duty_below_minimum_confirmed_by_id_person"),
            "person",
            ["below_minimum_confirmed_by_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("duty") as batch:
        batch.drop_constraint(
            op.f("fk_duty_below_minimum_confirmed_by_id_person"), type_="foreignkey"
        )
        batch.drop_column("below_minimum_confirmed_at")
        batch.drop_column("below_minimum_confirmed_by_id")
    with op.batch_alter_table("asset") as batch:
        batch.drop_constraint(op.f("fk_asset_retired_by_id_person"), type_="foreignkey")
        batch.drop_column("retired_by_id")
        batch.drop_column("retired_reason")
        batch.drop_column("retired_at")
