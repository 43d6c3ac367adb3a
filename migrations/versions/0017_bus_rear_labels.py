"""bus rear labels: a label says where it is stuck (front, or a bus's rear 车尾), and every
bus already registered gets its rear label, so the arrival can wait for the walk to the back;
a trip keeps who scanned it

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 06:30:00
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("label") as batch:
        batch.add_column(
            sa.Column("position", sa.String(length=8), nullable=False, server_default="front")
        )
    with op.batch_alter_table("trip") as batch:
        batch.add_column(sa.Column("rear_checked_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_trip_rear_checked_by_id_person"), "person", ["rear_checked_by_id"], ["id"]
        )
    connection = op.get_bind()
    buses = connection.execute(sa.text("SELECT id FROM asset WHERE kind = 'bus'")).scalars().all()
    label = sa.table(
        "label",
        sa.column("asset_id", sa.Integer()),
        sa.column("token", sa.String()),
        sa.column("position", sa.String()),
        sa.column("issued_at", sa.DateTime()),
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    if buses:
        op.bulk_insert(
            label,
            [
                {
                    "asset_id": bus_id,
                    "token": secrets.token_urlsafe(24),
                    "position": "rear",
                    "issued_at": now,
                }
                for bus_id in buses
            ],
        )


def downgrade() -> None:
    with op.batch_alter_table("trip") as batch:
        batch.drop_constraint(batch.f("fk_trip_rear_checked_by_id_person"), type_="foreignkey")
        batch.drop_column("rear_checked_by_id")
    op.execute("DELETE FROM label WHERE position = 'rear'")
    with op.batch_alter_table("label") as batch:
        batch.drop_column("position")
