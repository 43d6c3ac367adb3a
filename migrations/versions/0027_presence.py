"""proof of presence: how old a record's photos were when it arrived; answers changed;
how far the person walked from their previous record's asset; the phone's time; a flag
explained by an administrator (flag_note)

Revision ID: 0027_presence
Revises: 0026_public_reports
Create Date: 2026-12-03 10:00:00

Not filled for the records already kept: their photos came before capture times were kept
(0025), so every one would read as a photo without a capture time; an old quick succession
with no distance keeps the same-floor threshold it was flagged by.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0027_presence"
down_revision = "0026_public_reports"
branch_labels = None
depends_on = None

PHOTO_WHERE = "photo_age_seconds IS NOT NULL OR photos_untimed > 0"


def upgrade() -> None:
    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("photo_age_seconds", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("photos_untimed", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(sa.Column("changed_from_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("after_distance", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("phone_at", UTCDateTime(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_record_changed_from_id_record"), "record", ["changed_from_id"], ["id"]
        )
    op.create_table(
        "flag_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["by_id"], ["person.id"], name=op.f("fk_flag_note_by_id_person")),
        sa.ForeignKeyConstraint(
            ["record_id"], ["record.id"], name=op.f("fk_flag_note_record_id_record")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flag_note")),
        sa.UniqueConstraint("record_id", name=op.f("uq_flag_note_record_id")),
    )
    op.create_index(
        "ix_record_photo_school_id_submitted_at",
        "record",
        ["school_id", "submitted_at", "photo_age_seconds", "photos_untimed"],
        unique=False,
        sqlite_where=sa.text(PHOTO_WHERE),
        postgresql_where=sa.text(PHOTO_WHERE),
    )


def downgrade() -> None:
    op.drop_table("flag_note")
    op.drop_index("ix_record_photo_school_id_submitted_at", table_name="record")
    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_record_changed_from_id_record"), type_="foreignkey")
        batch_op.drop_column("phone_at")
        batch_op.drop_column("after_distance")
        batch_op.drop_column("changed_from_id")
        batch_op.drop_column("photos_untimed")
        batch_op.drop_column("photo_age_seconds")
