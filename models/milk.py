"""The student milk programme (point 21): how many in each class subscribe, and the rate the
district asks schools to raise."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

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
