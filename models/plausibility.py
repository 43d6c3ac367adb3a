"""Records that look implausible: flagged on the ledger and counted on the dashboard, never
refused. The same person filing at another asset a few seconds after their last record (a desk
walking a photocopied label sheet), or a meter reading below the reading before it.

Computed from the stored records when read, so a changed threshold applies to every record."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import DateTime

from models.assets import Asset
from models.checklists import FormTemplate
from models.meters import METER_READING, READING, REPLACED, consumption_for
from models.records import Record

# What the config's ledgers.implausible_within_seconds defaults to.
DEFAULT_WITHIN = timedelta(seconds=30)


class _SecondsBefore(FunctionElement[datetime]):
    """A stored time less a whole number of seconds, in each database's own words."""

    type = DateTime()
    inherit_cache = True


@compiles(_SecondsBefore)
def _seconds_before_default(element: _SecondsBefore, compiler: Any, **kw: Any) -> str:
    column, seconds = list(element.clauses)
    amount = compiler.process(seconds, **kw)
    return f"({compiler.process(column, **kw)} - {amount} * interval '1 second')"


@compiles(_SecondsBefore, "sqlite")
def _seconds_before_sqlite(element: _SecondsBefore, compiler: Any, **kw: Any) -> str:
    # SQLite keeps times as text with six decimals: the same shape compares as text.
    column, seconds = list(element.clauses)
    shifted = f"strftime('%Y-%m-%d %H:%M:%f', {compiler.process(column, **kw)}, "
    return f"({shifted}'-' || {compiler.process(seconds, **kw)} || ' seconds') || '000')"


def _meter_templates() -> Any:
    return select(FormTemplate.id).where(FormTemplate.key == METER_READING)


def implausible_clause(within: timedelta = DEFAULT_WITHIN) -> ColumnElement[bool]:
    """Whether a Record row is implausible, for a query's WHERE: what `implausible_reasons`
    finds, counted in the database (the ledger's "flagged only", the dashboard's figure)."""
    earlier = aliased(Record)
    seconds = int(within.total_seconds())
    quick = exists().where(
        earlier.submitted_by_id == Record.submitted_by_id,
        earlier.asset_id != Record.asset_id,
        earlier.submitted_at > _SecondsBefore(Record.submitted_at, seconds),
        or_(
            earlier.submitted_at < Record.submitted_at,
            and_(earlier.submitted_at == Record.submitted_at, earlier.id < Record.id),
        ),
    )
    before = aliased(Record)
    previous_reading = (
        select(before.answers[READING].as_float())
        .where(
            before.asset_id == Record.asset_id,
            before.template_id.in_(_meter_templates()),
            or_(
                before.submitted_at < Record.submitted_at,
                and_(before.submitted_at == Record.submitted_at, before.id < Record.id),
            ),
        )
        .order_by(before.submitted_at.desc(), before.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    backwards = and_(
        Record.template_id.in_(_meter_templates()),
        func.coalesce(Record.answers[REPLACED].as_string(), "") != "yes",
        Record.answers[READING].as_float() < previous_reading,
    )
    clause = backwards if seconds <= 0 else or_(quick, backwards)
    return clause


def flagged_clause(within: timedelta = DEFAULT_WITHIN) -> ColumnElement[bool]:
    """A record the ledger flags: the same photo as another record, or implausible."""
    return or_(Record.same_photo_as_id.is_not(None), implausible_clause(within))


@dataclass(frozen=True)
class QuickSuccession:
    """The same person's record at another asset just before this one."""

    asset_code: str
    asset_name: str
    seconds: int


@dataclass(frozen=True)
class Backwards:
    """A meter reading below the reading before it (and the meter not replaced)."""

    reading: float
    last: float
    since: str


@dataclass(frozen=True)
class Implausible:
    quick: QuickSuccession | None = None
    backwards: Backwards | None = None


def implausible_reasons(
    session: Session, records: Sequence[Record], within: timedelta = DEFAULT_WITHIN
) -> dict[int, Implausible]:
    """Why each implausible record among `records` is flagged, by record id.

    Reads only the people's records from `within` before the first of `records` to the last,
    so a year's ledger costs the same whatever history lies before it."""
    found: dict[int, Implausible] = {}
    for record_id, quick in _quick_successions(session, records, within).items():
        found[record_id] = Implausible(quick=quick)
    for record_id, consumption in consumption_for(session, records).items():
        if consumption.amount < 0 and consumption.last is not None:
            backwards = Backwards(
                reading=consumption.last + consumption.amount,
                last=consumption.last,
                since=consumption.since or "",
            )
            found[record_id] = Implausible(
                quick=found.get(record_id, Implausible()).quick, backwards=backwards
            )
    return found


def _quick_successions(
    session: Session, records: Sequence[Record], within: timedelta
) -> dict[int, QuickSuccession]:
    if not records or within <= timedelta(0):
        return {}
    people = sorted({r.submitted_by_id for r in records})
    first = min(r.submitted_at for r in records) - within
    last = max(r.submitted_at for r in records)
    filed: dict[int, list[tuple[datetime, int, int]]] = defaultdict(list)
    for chunk in range(0, len(people), 900):
        for record_id, person_id, asset_id, at in session.execute(
            select(Record.id, Record.submitted_by_id, Record.asset_id, Record.submitted_at)
            .where(
                Record.submitted_by_id.in_(people[chunk : chunk + 900]),
                Record.submitted_at >= first,
                Record.submitted_at <= last,
            )
            .order_by(Record.submitted_at, Record.id)
        ):
            filed[person_id].append((at, record_id, asset_id))
    earlier: dict[int, tuple[int, int]] = {}
    for record in records:
        theirs = filed.get(record.submitted_by_id, [])
        position = bisect.bisect_left(theirs, (record.submitted_at, record.id, -1))
        for at, _record_id, asset_id in reversed(theirs[:position]):
            if record.submitted_at - at >= within:
                break
            if asset_id != record.asset_id:
                earlier[record.id] = (asset_id, int((record.submitted_at - at).total_seconds()))
                break
    assets = {
        a.id: a
        for a in session.scalars(
            select(Asset).where(Asset.id.in_({asset_id for asset_id, _ in earlier.values()}))
        )
    }
    return {
        record_id: QuickSuccession(assets[asset_id].code, assets[asset_id].name, seconds)
        for record_id, (asset_id, seconds) in earlier.items()
    }
