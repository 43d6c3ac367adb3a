"""Utility meters: a reading is plausible only if it does not run backwards, and each one
says how much was used since the one before (point 10, an energy-saving school)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from models.messages import N_, Message

if TYPE_CHECKING:
    from models.assets import Asset
    from models.checklists import TemplateSpec
    from models.records import Record

METER_READING = "meter_reading"
READING = "reading"
# Answered "yes" when the meter was swapped: a lower reading is then the new meter's.
REPLACED = "meter_replaced"
# The new meter's reading when it was fitted; consumption after a swap counts from it.
NEW_START = "new_meter_start"
UNITS = {
    "electricity": {"zh_CN": "度", "en": "kWh"},
    "water": {"zh_CN": "立方米", "en": "m³"},
}


def _previous(session: Session, asset: Asset) -> Record | None:
    from models.records import Record  # records import this module

    return session.scalar(
        select(Record)
        .where(Record.asset_id == asset.id, Record.template.has(key=METER_READING))
        .order_by(Record.submitted_at.desc(), Record.id.desc())
        .limit(1)
    )


def reading_errors(
    session: Session, asset: Asset, spec: TemplateSpec, answers: Mapping[str, Any]
) -> dict[str, Message]:
    """A reading below the last one is refused unless the meter was replaced."""
    if spec.key != METER_READING or not isinstance(answers.get(READING), int | float):
        return {}
    reading = answers[READING]
    if answers.get(REPLACED) == "yes":
        start = answers.get(NEW_START)
        if isinstance(start, int | float) and start > reading:
            return {
                NEW_START: Message(
                    N_("The new meter's start cannot be above this reading (%(reading)s)."),
                    {"reading": _fmt(reading)},
                )
            }
        return {}
    previous = _previous(session, asset)
    last = previous.answers.get(READING) if previous is not None else None
    if isinstance(last, int | float) and reading < last:
        return {
            READING: Message(
                N_(
                    "Lower than the last reading (%(last)s on %(date)s). Check the digits; "
                    "if the meter was replaced, answer “the meter was replaced” below."
                ),
                {"last": _fmt(last), "date": read_on(previous)},
            )
        }
    return {}


@dataclass(frozen=True)
class Consumption:
    """What a reading says was used: since the previous reading, or since a new meter."""

    amount: float
    since: str | None  # the previous reading's date; None after a replacement
    unit: dict[str, str] | None
    last: float | None = None  # the previous reading; None after a replacement

    def message(self) -> Message:
        params: dict[str, Any] = {"amount": _fmt(self.amount), "unit": self.unit or {}}
        if self.since is None:
            return Message(N_("Used since the new meter was fitted: %(amount)s %(unit)s"), params)
        params["date"] = self.since
        return Message(N_("Used since %(date)s: %(amount)s %(unit)s"), params)


# The readings around a record are read for their answers and times only, not for who filed
# them, their photos or their checklist.
ANSWERS_ONLY = lazyload("*")


def consumption_for(session: Session, records: Sequence[Record]) -> dict[int, Consumption]:
    """Each meter reading among `records` with its consumption; a first reading has none.

    Reads the meters' readings from the first of `records` to the last, and each meter's one
    reading before them: a year's ledger costs the same whatever history lies before it."""
    from models.records import Record

    meters = {r.asset_id: r.asset for r in records if r.template.key == METER_READING}
    if not meters:
        return {}
    ours = [r for r in records if r.asset_id in meters]
    first = min(r.submitted_at for r in ours)
    is_reading = Record.template.has(key=METER_READING)
    before = [
        last
        for asset_id in meters
        if (
            last := session.scalar(
                select(Record)
                .where(Record.asset_id == asset_id, is_reading, Record.submitted_at < first)
                .options(ANSWERS_ONLY)
                .order_by(Record.submitted_at.desc(), Record.id.desc())
                .limit(1)
            )
        )
        is not None
    ]
    readings = session.scalars(
        select(Record)
        .where(Record.asset_id.in_(meters), is_reading)
        .where(Record.submitted_at >= first)
        .where(Record.submitted_at <= max(r.submitted_at for r in ours))
        .options(ANSWERS_ONLY)
        .order_by(Record.asset_id, Record.submitted_at, Record.id)
    )
    wanted = {r.id for r in records}
    found: dict[int, Consumption] = {}
    previous: dict[int, Record] = {r.asset_id: r for r in before}
    for record in readings:
        unit = UNITS.get(str(meters[record.asset_id].attributes.get("meter_type")))
        consumption = consumption_between(previous.get(record.asset_id), record, unit)
        if consumption is not None and record.id in wanted:
            found[record.id] = consumption
        previous[record.asset_id] = record
    return found


class Filed(Protocol):
    """What a reading needs of its record: its answers and when it was filed."""

    @property
    def answers(self) -> dict[str, Any]: ...

    @property
    def submitted_at(self) -> datetime: ...


def consumption_between(
    previous: Filed | None, record: Filed, unit: dict[str, str] | None
) -> Consumption | None:
    reading = record.answers.get(READING)
    if not isinstance(reading, int | float):
        return None
    if record.answers.get(REPLACED) == "yes":
        start = record.answers.get(NEW_START)
        start = start if isinstance(start, int | float) else 0
        return Consumption(amount=reading - start, since=None, unit=unit)
    last = previous.answers.get(READING) if previous is not None else None
    if not isinstance(last, int | float):
        return None
    return Consumption(amount=reading - last, since=read_on(previous), unit=unit, last=last)


def read_on(record: Any) -> str:
    return str(record.answers.get("read_on") or record.submitted_at.date().isoformat())


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else f"{number:.2f}".rstrip("0")
