"""Energy use by month (point 10): each meter's consumption and its school's, per month, beside
the same month a year before, from the monthly meter readings.

What was used between two readings is spread evenly over the days between them, so a reading
on 1 April counts March's use in March, and readings on odd days still add up by month."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.assets import Asset, AssetKind
from models.checklists import FormTemplate
from models.meters import METER_READING, UNITS, consumption_between, read_on
from models.records import Record


def _first_of(day: date) -> date:
    return day.replace(day=1)


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def year_before(month: date) -> date:
    return month.replace(year=month.year - 1)


def months_up_to(last: date, count: int) -> list[date]:
    """The first days of the `count` months ending with `last`'s month, oldest first."""
    months = [_first_of(last)]
    while len(months) < count:
        months.insert(0, _first_of(months[0] - timedelta(days=1)))
    return months


def _spread(amount: float, start: date, end: date, into: dict[date, float]) -> None:
    """`amount` used from `start` to `end` (exclusive), shared out by day into months."""
    days = (end - start).days
    if days <= 0:
        into[_first_of(end)] += amount
        return
    day = start
    while day < end:
        following = min(_next_month(_first_of(day)), end)
        into[_first_of(day)] += amount * (following - day).days / days
        day = following


@dataclass(frozen=True)
class Reading:
    """A meter reading's answers and filing time, without the rest of its record."""

    answers: dict[str, Any]
    submitted_at: datetime


@dataclass(frozen=True)
class MonthlyUse:
    """One meter's (or one school's, per meter type) use by month, this year and the last."""

    meter_type: str
    by_month: dict[date, float] = field(default_factory=dict)

    @property
    def unit(self) -> dict[str, str]:
        return UNITS.get(self.meter_type, {"zh_CN": "", "en": ""})

    def used(self, month: date) -> float | None:
        value = self.by_month.get(month)
        return None if value is None else round(value, 1)

    def change(self, month: date) -> int | None:
        """Per cent up (+) or down (−) on the same month a year before; None without it."""
        now, then = self.by_month.get(month), self.by_month.get(year_before(month))
        if now is None or not then:
            return None
        return round(100 * (now - then) / then)


@dataclass(frozen=True)
class EnergyUse:
    months: list[date]
    meters: list[tuple[Asset, MonthlyUse]]
    # (school id, meter type) → the school's meters of that type together
    schools: dict[tuple[int, str], MonthlyUse]


def energy_use(session: Session, school_ids: Sequence[int], months: Sequence[date]) -> EnergyUse:
    """Each meter's and each school's use in `months` (first days) and the year before them."""
    months = list(months)
    if not school_ids or not months:
        return EnergyUse(months, [], {})
    meters = list(
        session.scalars(
            select(Asset)
            .where(Asset.school_id.in_(school_ids), Asset.kind == AssetKind.METER)
            .order_by(Asset.school_id, Asset.code)
        )
    )
    since = datetime.combine(year_before(months[0]) - timedelta(days=400), time(), UTC)
    # Only the columns a reading needs: a district's meters have tens of thousands of them.
    rows = session.execute(
        select(Record.asset_id, Record.answers, Record.submitted_at)
        .join(FormTemplate, FormTemplate.id == Record.template_id)
        .where(
            Record.asset_id.in_([m.id for m in meters]),
            FormTemplate.key == METER_READING,
            Record.submitted_at >= since,
        )
        .order_by(Record.asset_id, Record.submitted_at, Record.id)
    )
    used: dict[int, dict[date, float]] = {m.id: defaultdict(float) for m in meters}
    previous: dict[int, Reading] = {}
    for asset_id, answers, submitted_at in rows:
        record = Reading(answers, submitted_at)
        before = previous.get(asset_id)
        previous[asset_id] = record
        consumption = consumption_between(before, record, None)
        if before is None or consumption is None:
            continue
        start = date.fromisoformat(read_on(before))
        _spread(consumption.amount, start, date.fromisoformat(read_on(record)), used[asset_id])
    wanted = set(months) | {year_before(m) for m in months}
    per_meter = []
    schools: dict[tuple[int, str], dict[date, float]] = {}
    for meter in meters:
        kind = str(meter.attributes.get("meter_type", ""))
        by_month = {m: v for m, v in used[meter.id].items() if m in wanted}
        per_meter.append((meter, MonthlyUse(kind, by_month)))
        total = schools.setdefault((meter.school_id, kind), defaultdict(float))
        for month, value in by_month.items():
            total[month] += value
    return EnergyUse(
        months,
        per_meter,
        {key: MonthlyUse(key[1], dict(by_month)) for key, by_month in schools.items()},
    )
