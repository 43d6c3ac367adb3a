"""Fire drills (中小学校、幼儿园消防安全十项规定: at least every six months): the one rule for how
many a school owes over a stretch of days and how many it held, read by the dashboard, the
score and the inspection pack alike."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.checklists import FormTemplate
from models.records import Record

DRILL_TEMPLATE = "fire_drill"
# One drill due every so many days; a district's score scheme may set its own.
DRILL_EVERY_DAYS = 180


def drill_window(first: date, last: date, every_days: int = DRILL_EVERY_DAYS) -> tuple[date, date]:
    """The days drills are counted over: the period, or the `every_days` up to its last day
    when that is longer, so a month's figure still sees the drill of the half-year."""
    return min(first, last - timedelta(days=every_days - 1)), last


def drills_due(first: date, last: date, every_days: int = DRILL_EVERY_DAYS) -> int:
    """Drills owed over the window of first…last: one per `every_days` days begun in it."""
    start, end = drill_window(first, last, every_days)
    return -(-((end - start).days + 1) // every_days)


def drills_held(
    session: Session, school_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, int]:
    """Per school, the drill records filed in [start, end), counted in one grouped query."""
    templates = session.execute(
        select(FormTemplate.id, FormTemplate.kind).where(FormTemplate.key == DRILL_TEMPLATE)
    ).all()
    if not templates or not school_ids:
        return {}
    rows = session.execute(
        select(Record.school_id, func.count())
        .where(
            Record.school_id.in_(school_ids),
            # The template's asset kind first, so the count reads the (school, kind, time) index.
            Record.asset_kind.in_({kind for _, kind in templates}),
            Record.submitted_at >= start,
            Record.submitted_at < end,
            Record.template_id.in_([template_id for template_id, _ in templates]),
        )
        .group_by(Record.school_id)
    )
    return {school_id: count for school_id, count in rows}
