"""food-safety reports: a school's weekly report and monthly minutes, their notes and signature

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 03:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "food_safety_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=True),
        sa.Column("updated_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("signed_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("signed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_food_safety_report_school_id_school")
        ),
        sa.ForeignKeyConstraint(
            ["signed_by_id"],
            ["person.id"],
            name=op.f("fk_food_safety_report_signed_by_id_person"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["person.id"],
            name=op.f("fk_food_safety_report_updated_by_id_person"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_food_safety_report")),
        sa.UniqueConstraint(
            "school_id",
            "kind",
            "starts_on",
            name=op.f("uq_food_safety_report_school_id_kind_starts_on"),
        ),
    )
    op.create_index(
        op.f("ix_food_safety_report_school_id"), "food_safety_report", ["school_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_food_safety_report_school_id"), table_name="food_safety_report")
    op.drop_table("food_safety_report")
