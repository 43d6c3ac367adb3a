"""mobile numbers as eleven digits

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 22:40:00

Phones were kept as typed digits, "+8613800000007" beside "13800000007". A login now looks a
mobile up by its 11 digits, so the stored ones are rewritten to that form; a number that
would then be someone else's is left as it was, for an administrator to sort out.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_MOBILE = re.compile(r"(?:\+86|0086|86)?(1\d{10})")


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, phone FROM person WHERE phone IS NOT NULL"))
    people = {row.id: row.phone for row in rows}
    taken = set(people.values())
    for person_id, phone in sorted(people.items()):
        match = _MOBILE.fullmatch(phone)
        if match is None or match.group(1) == phone or match.group(1) in taken:
            continue
        taken.discard(phone)
        taken.add(match.group(1))
        connection.execute(
            sa.text("UPDATE person SET phone = :phone WHERE id = :id"),
            {"phone": match.group(1), "id": person_id},
        )


def downgrade() -> None:
    """The old spelling is not kept; eleven digits were always a valid phone."""
