"""checklist roles, same photo

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-01 22:16:50
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checklist_roles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("template_key", sa.String(length=64), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"], ["district.id"], name=op.f("fk_checklist_roles_district_id_district")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["person.id"], name=op.f("fk_checklist_roles_updated_by_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checklist_roles")),
        sa.UniqueConstraint(
            "district_id", "template_key", name=op.f("uq_checklist_roles_district_id_template_key")
        ),
    )
    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("same_photo_as_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_record_same_photo_as_id_record"), "record", ["same_photo_as_id"], ["id"]
        )

    with op.batch_alter_table("record_photo", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_record_photo_photo_id"), ["photo_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("record_photo", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_record_photo_photo_id"))

    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_record_same_photo_as_id_record"), type_="foreignkey"
        )
        batch_op.drop_column("same_photo_as_id")

    op.drop_table("checklist_roles")
