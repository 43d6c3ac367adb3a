"""the night fire patrol opens after dark: 19:00, due by 22:00, on the built-in schedule

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

duty = sa.table(
    "duty",
    sa.column("id", sa.Integer()),
    sa.column("template_key", sa.String()),
    sa.column("builtin", sa.Boolean()),
    sa.column("rule", sa.JSON()),
)


def _change(old: dict[str, str], new: dict[str, str], drop: str | None) -> None:
    """Move the built-in night patrols still on the old times; a district's own are kept."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(duty.c.id, duty.c.rule).where(
            duty.c.template_key == "fire_night_patrol", duty.c.builtin
        )
    ).all()
    for duty_id, rule in rows:
        if any(rule.get(key) != value for key, value in old.items()):
            continue
        changed = {k: v for k, v in rule.items() if k != drop} | new
        connection.execute(sa.update(duty).where(duty.c.id == duty_id).values(rule=changed))


def upgrade() -> None:
    _change({"at": "21:30"}, {"at": "22:00", "opens": "19:00"}, drop=None)


def downgrade() -> None:
    _change({"at": "22:00", "opens": "19:00"}, {"at": "21:30"}, drop="opens")
