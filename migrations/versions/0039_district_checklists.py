"""checklists belong to a district: a district's own versions carry its id

Revision ID: 0039_district_checklists
Revises: 0037_source_failures
Create Date: 2026-12-03 18:30:00

Every version stored before stays the installation's base (district_id NULL): nothing records
who made an edit, and the base is what every district's schools filed until now, so each
school files the same checklists after the upgrade as before it; from then on a district's
edit is its own. Downgrading keeps every version (records point at them), each district's own
ones becoming shared again; where two districts' versions share a number, all but the first
stored are numbered after the checklist's newest, as the old schema keeps one version per
number.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0039_district_checklists"
down_revision = "0038_audit_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("form_template", schema=None) as batch_op:
        batch_op.add_column(sa.Column("district_id", sa.Integer(), nullable=True))
        batch_op.drop_constraint("uq_form_template_key_version", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_form_template_key_district_id_version"),
            ["key", "district_id", "version"],
        )
        batch_op.create_index(
            batch_op.f("ix_form_template_district_id"), ["district_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_form_template_district_id_district"), "district", ["district_id"], ["id"]
        )


def downgrade() -> None:
    _renumber_clashes()
    with op.batch_alter_table("form_template", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_form_template_district_id_district"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_form_template_district_id"))
        batch_op.drop_constraint(
            batch_op.f("uq_form_template_key_district_id_version"), type_="unique"
        )
        batch_op.create_unique_constraint("uq_form_template_key_version", ["key", "version"])
        batch_op.drop_column("district_id")


def _renumber_clashes() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, key, version FROM form_template ORDER BY key, version, id")
    ).all()
    highest: dict[str, int] = {}
    for _id, key, version in rows:
        highest[key] = max(highest.get(key, 0), version)
    seen: set[tuple[str, int]] = set()
    for row_id, key, version in rows:
        if (key, version) not in seen:
            seen.add((key, version))
            continue
        highest[key] += 1
        bind.execute(
            sa.text("UPDATE form_template SET version = :version WHERE id = :id"),
            {"version": highest[key], "id": row_id},
        )
