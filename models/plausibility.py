"""Records that look implausible: flagged on the ledger and counted on the dashboard, never
refused. The same person filing at another asset a few seconds after their last record (a desk
walking a photocopied label sheet), a meter reading below the reading before it, or a photo
captured long before its record arrived or with no capture time at all (album, screenshot), a
photo forwarded to the bot from another chat, or a record filed by a phone far from its school
(its position and radius, models/positions.py).

Read from what each record keeps when filed (the asset of the person's previous record, when
another, and the seconds between: models.records), against the threshold of the day, so a
changed threshold applies to every record and the dashboard counts without pairing records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, CompoundSelect, and_, func, or_, select, union
from sqlalchemy.orm import Session, aliased

from models.assets import Asset, AssetKind
from models.checklists import FormTemplate
from models.meters import METER_READING, READING, REPLACED, consumption_for
from models.org import School
from models.places import Distance
from models.records import Record

# What the config's ledgers.implausible_within_seconds defaults to.
DEFAULT_WITHIN = timedelta(seconds=30)
# What the config's ledgers.photo_older_than_minutes defaults to.
DEFAULT_PHOTO_OLDER = timedelta(minutes=60)


# How many times the configured gap (for the same floor, or places not known) the walk to an
# asset on another floor, or in another building, may take: 30 s, 60 s and 180 s by default.
WALK_FACTORS = {
    Distance.SAME_FLOOR: 1,
    Distance.OTHER_FLOOR: 2,
    Distance.OTHER_BUILDING: 6,
}


def quick_threshold(within: timedelta, distance: str | None) -> int:
    """The seconds under which a record after another asset at `distance` looks too quick."""
    factor = WALK_FACTORS.get(Distance(distance), 1) if distance in WALK_FACTORS else 1
    return int(within.total_seconds()) * factor


def quick_clause(within: timedelta) -> ColumnElement[bool] | None:
    """A record filed too soon after the same person's at another asset, for its distance."""
    if within.total_seconds() <= 0:
        return None
    return or_(
        and_(
            or_(
                Record.after_distance.is_(None),
                Record.after_distance.not_in([Distance.OTHER_FLOOR, Distance.OTHER_BUILDING]),
            ),
            Record.after_seconds < quick_threshold(within, None),
        ),
        *(
            and_(
                Record.after_distance == distance.value,
                Record.after_seconds < quick_threshold(within, distance),
            )
            for distance in (Distance.OTHER_FLOOR, Distance.OTHER_BUILDING)
        ),
    )


def photo_clause(older: timedelta = DEFAULT_PHOTO_OLDER) -> ColumnElement[bool] | None:
    """A record with a photo captured more than `older` before it arrived, or a photo with no
    capture time (None when the check is off: `older` of 0)."""
    seconds = int(older.total_seconds())
    if seconds <= 0:
        return None
    return or_(Record.photo_age_seconds > seconds, Record.photos_untimed > 0)


def far_clause() -> ColumnElement[bool]:
    """A record filed farther from its school than the school's radius (of the day) plus the
    accuracy the phone gave; a record with no location is never flagged for it."""
    # Its own alias, so a query already reading the school table (the score) does not
    # correlate the radius away.
    school = aliased(School)
    radius = (
        select(school.radius_m)
        .where(school.id == Record.school_id)
        .correlate_except(school)
        .scalar_subquery()
    )
    return and_(
        Record.school_distance_m.is_not(None),
        Record.school_distance_m > radius + func.coalesce(Record.accuracy_m, 0),
    )


def _meter_templates() -> Any:
    return select(FormTemplate.id).where(FormTemplate.key == METER_READING)


def implausible_clause(
    within: timedelta = DEFAULT_WITHIN, photo_older: timedelta = DEFAULT_PHOTO_OLDER
) -> ColumnElement[bool]:
    """Whether a Record row is implausible, for a query's WHERE: what `implausible_reasons`
    finds, counted in the database (the ledger's "flagged only", the dashboard's figure)."""
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
        Record.asset_kind == AssetKind.METER,
        Record.template_id.in_(_meter_templates()),
        func.coalesce(Record.answers[REPLACED].as_string(), "") != "yes",
        Record.answers[READING].as_float() < previous_reading,
    )
    clauses = [
        backwards,
        Record.changed_from_id.is_not(None),
        Record.forwarded_at.is_not(None),
        far_clause(),
    ]
    quick = quick_clause(within)
    if quick is not None:
        clauses.append(quick)
    photo = photo_clause(photo_older)
    if photo is not None:
        clauses.append(photo)
    return or_(*clauses)


def flagged_records(
    within: timedelta,
    *where: ColumnElement[bool],
    photo_older: timedelta = DEFAULT_PHOTO_OLDER,
) -> CompoundSelect:
    """The (id, school_id) of the records among `where` that the ledger flags, as a union of
    one narrow query per rule, each along an index of its own (the same photo, the quick
    succession, a meter's readings): a district's year is counted without reading its records,
    which one query of `flagged_clause` would."""
    rows = select(Record.id, Record.school_id).where(*where)
    parts = [
        rows.where(Record.same_photo_as_id.is_not(None)),
        rows.where(Record.changed_from_id.is_not(None)),
        rows.where(implausible_clause(timedelta(0), timedelta(0))),
    ]
    quick = quick_clause(within)
    if quick is not None:
        parts.append(rows.where(Record.after_seconds.is_not(None), quick))

    photo = photo_clause(photo_older)
    if photo is not None:
        parts.append(rows.where(photo))
    return union(*parts)


def flagged_clause(
    within: timedelta = DEFAULT_WITHIN, photo_older: timedelta = DEFAULT_PHOTO_OLDER
) -> ColumnElement[bool]:
    """A record the ledger flags: the same photo as another record, or implausible."""
    return or_(Record.same_photo_as_id.is_not(None), implausible_clause(within, photo_older))


@dataclass(frozen=True)
class QuickSuccession:
    """The same person's record at another asset just before this one."""

    asset_code: str
    asset_name: str
    seconds: int
    distance: Distance | None = None


@dataclass(frozen=True)
class Backwards:
    """A meter reading below the reading before it (and the meter not replaced)."""

    reading: float
    last: float
    since: str


@dataclass(frozen=True)
class OldPhoto:
    """A photo captured long before its record arrived (`taken_at`, UTC), or photos with no
    capture time at all (`untimed`, how many)."""

    taken_at: datetime | None = None
    age_seconds: int = 0
    untimed: int = 0


@dataclass(frozen=True)
class FarAway:
    """A record filed farther from its school than its radius plus the phone's accuracy."""

    distance_m: int


@dataclass(frozen=True)
class Implausible:
    quick: QuickSuccession | None = None
    backwards: Backwards | None = None
    photo: OldPhoto | None = None
    far: FarAway | None = None
    # When the message a photo was forwarded from was first sent (UTC).
    forwarded_at: datetime | None = None


def _far_away(record: Record) -> FarAway | None:
    """How far from its school the record was filed, when farther than the school allows."""
    distance = record.school_distance_m
    if distance is None:
        return None
    if distance <= record.asset.school.radius_m + (record.accuracy_m or 0):
        return None
    return FarAway(distance)


def _old_photo(record: Record, older: timedelta) -> OldPhoto | None:
    """What the record keeps of its photos' capture times, when it reads as implausible."""
    limit = older.total_seconds()
    if limit <= 0:
        return None
    age = record.photo_age_seconds
    old = age is not None and age > limit
    if not old and not record.photos_untimed:
        return None
    return OldPhoto(
        taken_at=record.submitted_at - timedelta(seconds=age) if old and age else None,
        age_seconds=(age or 0) if old else 0,
        untimed=record.photos_untimed or 0,
    )


def implausible_reasons(
    session: Session,
    records: Sequence[Record],
    within: timedelta = DEFAULT_WITHIN,
    photo_older: timedelta = DEFAULT_PHOTO_OLDER,
) -> dict[int, Implausible]:
    """Why each implausible record among `records` is flagged, by record id; reads nothing
    before the records but each meter's one reading before them."""
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
            found[record_id] = replace(found.get(record_id, Implausible()), backwards=backwards)
    for record in records:
        photo = _old_photo(record, photo_older)
        if photo is not None:
            found[record.id] = replace(found.get(record.id, Implausible()), photo=photo)
        far = _far_away(record)
        if far is not None:
            found[record.id] = replace(found.get(record.id, Implausible()), far=far)
        if record.forwarded_at is not None:
            found[record.id] = replace(
                found.get(record.id, Implausible()), forwarded_at=record.forwarded_at
            )
    return found


def _quick_successions(
    session: Session, records: Sequence[Record], within: timedelta
) -> dict[int, QuickSuccession]:
    """From what each record keeps of the person's previous one (models.records)."""
    quick = {
        r.id: (r.after_asset_id, r.after_seconds, r.after_distance)
        for r in records
        if r.after_asset_id is not None
        and r.after_seconds is not None
        and r.after_seconds < quick_threshold(within, r.after_distance)
    }
    assets = (
        {
            a.id: a
            for a in session.scalars(
                select(Asset).where(
                    Asset.id.in_(sorted({asset_id for asset_id, _, _ in quick.values()}))
                )
            )
        }
        if quick
        else {}
    )
    return {
        record_id: QuickSuccession(
            assets[asset_id].code,
            assets[asset_id].name,
            seconds,
            Distance(distance) if distance in WALK_FACTORS else None,
        )
        for record_id, (asset_id, seconds, distance) in quick.items()
        if asset_id in assets
    }
