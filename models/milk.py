"""The student milk programme (point 21): how many in each class subscribe, and the rate the
district asks schools to raise."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.messages import N_, Message

if TYPE_CHECKING:
    from models.records import Record

MILK_SUBSCRIPTION = "milk_subscription"
# A class's latest count stands for it this long; older counts are from classes since moved on.
COUNTS_KEPT = timedelta(days=365)


@dataclass(frozen=True)
class Rate:
    subscribed: int
    students: int
    classes: int = 1

    @property
    def percent(self) -> int:
        return round(100 * self.subscribed / self.students) if self.students else 0

    def message(self) -> Message:
        """One class's rate, as its record and the ledger show it."""
        return Message(
            N_("Subscription rate %(percent)d%% (%(subscribed)d of %(students)d)"),
            {"percent": self.percent, "subscribed": self.subscribed, "students": self.students},
        )

    def school_message(self) -> Message:
        """A school's rate over its classes, as the school's page shows it."""
        return Message(
            N_(
                "Milk subscription rate %(percent)d%%: %(subscribed)d of %(students)d students "
                "(classes counted: %(classes)d)"
            ),
            {
                "percent": self.percent,
                "subscribed": self.subscribed,
                "students": self.students,
                "classes": self.classes,
            },
        )


def class_rate(record: Record) -> Rate | None:
    """One class's count, as filed."""
    if record.template.key != MILK_SUBSCRIPTION:
        return None
    students = record.answers.get("students")
    subscribed = record.answers.get("subscribed")
    if not isinstance(students, int) or not isinstance(subscribed, int):
        return None
    return Rate(subscribed=subscribed, students=students)


def rates_for(records: Iterable[Record]) -> dict[int, Rate]:
    return {r.id: rate for r in records if (rate := class_rate(r)) is not None}


def school_rates(session: Session, school_ids: Sequence[int], *, now: datetime) -> dict[int, Rate]:
    """Each school's rate over its classes, each class by its latest count of the past year."""
    from models.records import Record  # records import what this module's callers import

    if not school_ids:
        return {}
    counts = session.scalars(
        select(Record)
        .where(
            Record.school_id.in_(school_ids),
            Record.template.has(key=MILK_SUBSCRIPTION),
            Record.submitted_at >= now - COUNTS_KEPT,
        )
        .order_by(Record.submitted_at, Record.id)
    )
    latest: dict[tuple[int, str], Rate] = {}
    for record in counts:
        rate = class_rate(record)
        if rate is not None:
            name = "".join(str(record.answers.get("class_name", "")).split()).lower()
            latest[(record.school_id, name)] = rate
    totals: dict[int, Rate] = {}
    for (school_id, _), rate in latest.items():
        total = totals.get(school_id, Rate(0, 0, 0))
        totals[school_id] = Rate(
            total.subscribed + rate.subscribed,
            total.students + rate.students,
            total.classes + 1,
        )
    return totals


def last_months(today: date, count: int) -> list[date]:
    """The first days of the `count` months up to today's, oldest first."""
    index = today.year * 12 + today.month - 1
    return [date((i) // 12, i % 12 + 1, 1) for i in range(index - count + 1, index + 1)]


def _month_end(first: date) -> date:
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return following - timedelta(days=1)


def _counted_on(answers: dict[str, Any], submitted_at: datetime) -> date:
    try:
        return date.fromisoformat(str(answers.get("counted_on")))
    except ValueError:
        return submitted_at.date()


def _total(rates: Iterable[Rate]) -> Rate:
    rates = list(rates)
    return Rate(
        sum(r.subscribed for r in rates),
        sum(r.students for r in rates),
        sum(r.classes for r in rates),
    )


@dataclass(frozen=True)
class RateHistory:
    """Subscription rates at the end of each month: each class by its latest count of the
    year before (as counted on), each school over its classes, all the schools together."""

    months: list[date]
    # (school id, class as first written) → month → the class's rate; a class not yet counted
    # (or counted over a year before) has no entry for that month.
    classes: dict[tuple[int, str], dict[date, Rate]]
    schools: dict[int, dict[date, Rate]]
    district: dict[date, Rate]


def rate_history(
    session: Session, school_ids: Sequence[int], months: Sequence[date]
) -> RateHistory:
    """The rates at the end of each of `months` (first days), for the district's dashboard and
    a school's page: the share subscribed, month by month."""
    from models.checklists import FormTemplate
    from models.records import Record  # records import what this module's callers import

    months = list(months)
    empty = RateHistory(months, {}, {}, {})
    if not school_ids or not months:
        return empty
    since = datetime.combine(months[0] - COUNTS_KEPT - timedelta(days=31), time(), UTC)
    # Only the columns a count needs: a district's classes file thousands of them a year.
    counts = session.execute(
        select(Record.school_id, Record.answers, Record.submitted_at)
        .join(FormTemplate, FormTemplate.id == Record.template_id)
        .where(
            Record.school_id.in_(school_ids),
            FormTemplate.key == MILK_SUBSCRIPTION,
            Record.submitted_at >= since,
        )
        .order_by(Record.submitted_at, Record.id)
    )
    # Each class's counts in the order filed: a later filing stands over an earlier one.
    by_class: dict[tuple[int, str], list[tuple[date, Rate]]] = {}
    names: dict[tuple[int, str], str] = {}
    for school_id, answers, submitted_at in counts:
        students, subscribed = answers.get("students"), answers.get("subscribed")
        if not isinstance(students, int) or not isinstance(subscribed, int):
            continue
        shown = str(answers.get("class_name", "")).strip()
        key = "".join(shown.split()).lower()
        names.setdefault((school_id, key), shown)
        by_class.setdefault((school_id, key), []).append(
            (_counted_on(answers, submitted_at), Rate(subscribed, students))
        )
    classes: dict[tuple[int, str], dict[date, Rate]] = {}
    for (school_id, key), filed in by_class.items():
        for month in months:
            end = _month_end(month)
            standing = [r for day, r in filed if end - COUNTS_KEPT < day <= end]
            if standing:
                classes.setdefault((school_id, names[(school_id, key)]), {})[month] = standing[-1]
    schools: dict[int, dict[date, Rate]] = {}
    for (school_id, _), by_month in classes.items():
        for month, rate in by_month.items():
            schools.setdefault(school_id, {}).setdefault(month, Rate(0, 0, 0))
            schools[school_id][month] = _total([schools[school_id][month], rate])
    district = {
        month: _total(s[month] for s in schools.values() if month in s)
        for month in months
        if any(month in s for s in schools.values())
    }
    return RateHistory(months, dict(sorted(classes.items())), schools, district)
