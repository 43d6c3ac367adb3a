"""proof of presence: a school's position and radius; where the phone was when a record was
filed, with its accuracy and its distance from the school

Revision ID: 0028_location
Revises: 0027_presence
Create Date: 2026-12-04 10:00:00

Nothing is filled for the records already kept: they came with no location, and a record
with no location is never flagged for it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028_location"
down_revision = "0027_presence"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("school", schema=None) as batch_op:
        batch_op.add_column(sa.Column("latitude", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("longitude", sa.Double(), nullable=True))
        batch_op.add_column(
            sa.Column("radius_m", sa.Integer(), server_default=sa.text("300"), nullable=False)
        )
    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("latitude", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("longitude", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("accuracy_m", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("school_distance_m", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.drop_column("school_distance_m")
        batch_op.drop_column("accuracy_m")
        batch_op.drop_column("longitude")
        batch_op.drop_column("latitude")
    with op.batch_alter_table("school", schema=None) as batch_op:
        batch_op.drop_column("radius_m")
        batch_op.drop_column("longitude")
        batch_op.drop_column("latitude")
