"""Bus trips: a departure scan and an arrival scan by the teacher on board, then the scan of
the label at the back of the bus (车尾) that says the escort walked every row.

Every child who boarded must get off. A mismatch, an overloaded bus, a departure the
register or the day's pre-trip check forbids, or a trip with no rear scan in time is a
critical alert to the school's administrators at once; the trip with no rear scan, once
its arrival window has passed, when the scheduler's sweep finds it. A bus runs one trip at a
time: it leaves again only once the last one ended.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.answers import answer_values
from models.assets import Asset
from models.base import Base
from models.bus_papers import driver_of_the_day, message_in, papers_refusal
from models.catalogue import LOCALES
from models.checklists import latest_template, templates_for_kind
from models.messages import N_, DomainError, Message
from models.notifications import Severity, notify, school_admins
from models.paging import PAGE_SIZE, Page, page_of
from models.people import Person, visible_school_ids

if TYPE_CHECKING:
    from models.checklists import TemplateSpec

# The driver's check before the bus leaves (校车安全管理条例 §41), filed the same local day.
PRE_TRIP_CHECK = "bus_pre_trip_check"
# The departure item in which the escort teacher confirms being on board (§38).
ESCORT_ITEM = "teacher_on_board"
# An arrival still ends a trip flagged as not arrived, if it left at most this long ago.
ARRIVAL_LIMIT = timedelta(hours=12)


class TripStatus(enum.StrEnum):
    EN_ROUTE = "en_route"
    ARRIVED = "arrived"
    NO_ARRIVAL = "no_arrival"


class Trip(Base):
    __tablename__ = "trip"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    bus_id: Mapped[int] = mapped_column(ForeignKey("asset.id"), index=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    driver: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(16), index=True)
    departed_at: Mapped[datetime]
    boarded: Mapped[int]
    departure_record_id: Mapped[int] = mapped_column(ForeignKey("record.id"))
    arrived_at: Mapped[datetime | None]
    got_off: Mapped[int | None]
    arrival_record_id: Mapped[int | None] = mapped_column(ForeignKey("record.id"))
    arrival_teacher_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    # Who scanned the rear label; `arrived_at` is when: the arrival completes only then.
    rear_checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))

    bus: Mapped[Asset] = relationship()
    teacher: Mapped[Person] = relationship(foreign_keys=[teacher_id])
    rear_checked_by: Mapped[Person | None] = relationship(foreign_keys=[rear_checked_by_id])

    @property
    def mismatch(self) -> bool:
        return self.got_off is not None and self.got_off != self.boarded

    @property
    def awaiting_rear_check(self) -> bool:
        """The arrival is filed but nobody has yet scanned the label at the back."""
        return self.arrival_record_id is not None and self.arrived_at is None


def trip_to_end(session: Session, bus: Asset, now: datetime) -> Trip | None:
    """The trip an arrival ends: the bus's latest, if it has no arrival and left recently.

    A trip already flagged as not arrived is still ended by a late arrival scan, so its
    head count is kept; an older one, or one a newer departure replaced, is not.
    """
    latest = _latest_recent_trip(session, bus, now)
    if latest is None or latest.arrival_record_id is not None:
        return None
    return latest


def trip_awaiting_rear_check(session: Session, bus: Asset, now: datetime) -> Trip | None:
    """The trip whose arrival is filed and waits for the scan of the label at the back."""
    latest = _latest_recent_trip(session, bus, now)
    if latest is None or not latest.awaiting_rear_check:
        return None
    return latest


def _latest_recent_trip(session: Session, bus: Asset, now: datetime) -> Trip | None:
    latest = session.scalar(
        select(Trip)
        .where(Trip.bus_id == bus.id)
        .order_by(Trip.departed_at.desc(), Trip.id.desc())
        .limit(1)
    )
    if latest is None or latest.arrived_at is not None or latest.departed_at < now - ARRIVAL_LIMIT:
        return None
    return latest


class TripRefused(DomainError):
    """A departure or arrival that must not be filed; the message says why and what to do."""


def escort_errors(
    session: Session,
    spec: TemplateSpec,
    actor: Person,
    bus: Asset,
    raw: Mapping[str, Any],
    *,
    key: str,
    now: datetime,
) -> dict[str, Message]:
    """No escort teacher on board stops the bus (§38): refused next to the item, and the
    administrators hear of it at once, as of an overloaded bus."""
    if spec.trip != "departure" or not spec.has(ESCORT_ITEM):
        return {}
    if answer_values(raw, ESCORT_ITEM) != ["no"]:
        return {}
    _refusal_alert(
        session,
        bus,
        actor,
        N_("%(bus)s: %(teacher)s tried to leave with no escort teacher on board."),
        {},
        f"no_escort:{bus.id}:{key}",
        now,
    )
    return {
        ESCORT_ITEM: Message(
            N_(
                "The bus must not leave without its escort teacher on board. "
                "The school office has been told."
            )
        )
    }


def trip_refusal(session: Session, spec: TemplateSpec, bus: Asset, now: datetime) -> Message | None:
    """Why this departure or arrival cannot be filed now, or None.

    A departure needs the bus's last trip ended (its arrival and rear scan), the day's
    pre-trip check, passed (§41), and every paper of the bus and of its driver on file and in
    date (§§20–26, models/bus_papers.py); an arrival needs a departure.
    """
    if spec.trip == "arrival" and trip_to_end(session, bus, now) is None:
        if trip_awaiting_rear_check(session, bus, now) is not None:
            return Message(
                N_(
                    "The arrival is already recorded. Walk to the back of the bus, check "
                    "every row, and scan the label there (车尾) to complete it."
                )
            )
        return Message(
            N_(
                "No departure of this bus is open, so there is no trip to end. "
                "Scan the departure when the bus leaves; if children rode without one, "
                "tell the school office."
            )
        )
    if spec.trip != "departure":
        return None
    if (unfinished := _latest_recent_trip(session, bus, now)) is not None:
        return _unfinished_trip_refusal(bus, unfinished, now)
    template = latest_template(session, PRE_TRIP_CHECK, district_id=bus.school.district_id)
    check = dict(template.spec.title) if template else dict.fromkeys(LOCALES, PRE_TRIP_CHECK)
    zone = bus.school.district.zone
    latest = todays_pre_trip_check(session, bus, now)
    if latest is None:
        return Message(
            N_(
                "The driver's %(check)s has not been recorded today: brakes, steering, lights, "
                "tyres, emergency door, seats and belts are checked before the bus leaves."
            ),
            {"check": check},
        )
    if not latest.passed:
        return Message(
            N_(
                "Today's %(check)s at %(time)s found a fault: the bus must not leave "
                "until a new check passes."
            ),
            {"check": check, "time": latest.submitted_at.astimezone(zone).strftime("%H:%M")},
        )
    return papers_refusal(session, bus, driver_of_the_day(session, bus, latest), now)


def _unfinished_trip_refusal(bus: Asset, trip: Trip, now: datetime) -> Message:
    """A bus runs one trip at a time: the last one ends with its arrival and rear scan."""
    zone = bus.school.district.zone
    left = trip.departed_at.astimezone(zone)
    at = left.strftime("%H:%M" if left.date() == now.astimezone(zone).date() else "%m-%d %H:%M")
    if trip.awaiting_rear_check:
        return Message(
            N_(
                "This bus has a trip that has not ended (left at %(time)s): its arrival is "
                "filed but nobody scanned the label at the back. Walk to the back, check every "
                "row and scan the label there (车尾) to end it; then the bus may leave again."
            ),
            {"time": at},
        )
    return Message(
        N_(
            "This bus has a trip that has not ended (left at %(time)s). End it first: file "
            "the arrival at the label by the door, then walk to the back and scan the label "
            "there (车尾); then the bus may leave again."
        ),
        {"time": at},
    )


def todays_pre_trip_check(session: Session, bus: Asset, now: datetime) -> Any | None:
    """The bus's latest pre-trip check filed this local day, passed or not."""
    from models.records import Record  # records import this module

    zone = bus.school.district.zone
    midnight = datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)
    return session.scalar(
        select(Record)
        .where(
            Record.asset_id == bus.id,
            Record.template.has(key=PRE_TRIP_CHECK),
            Record.submitted_at >= midnight.astimezone(UTC),
            Record.submitted_at <= now,
        )
        .order_by(Record.submitted_at.desc(), Record.id.desc())
        .limit(1)
    )


def alert_refused_departure(
    session: Session, bus: Asset, teacher: Person, refusal: Message, key: str, now: datetime
) -> None:
    """A departure refused for a missing check or an expired paper reaches the administrators
    at once, with the reason the teacher was given."""
    notify(
        session,
        [*school_admins(session, bus.school_id, bus.school.district_id), teacher],
        message=N_("%(bus)s: the departure %(teacher)s tried was refused. %(reason)s"),
        params={
            "bus": _bus_name(bus),
            "teacher": teacher.display_name,
            "reason": {locale: message_in(locale, refusal) for locale in LOCALES},
        },
        severity=Severity.CRITICAL,
        dedup_key=f"departure_refused:{bus.id}:{key}",
        now=now,
        link=f"/trips/{bus.school.code}",
    )


def arrival_failures(
    session: Session, bus: Asset, answers: dict[str, Any], now: datetime
) -> list[str]:
    """An arrival fails when fewer or more children got off than boarded at departure."""
    trip = trip_to_end(session, bus, now)
    got_off = answers.get("children_got_off")
    if trip is None or got_off is None or got_off == trip.boarded:
        return []
    return ["children_got_off"]


def record_trip(session: Session, record: Any, *, now: datetime) -> Trip | None:
    """Start or end the bus's trip from a departure or arrival record, and raise the alarms."""
    trip_kind = record.template.spec.trip
    bus: Asset = record.asset
    if trip_kind == "departure":
        return _depart(session, record, bus, now)
    if trip_kind == "arrival":
        return _arrive(session, record, bus, now)
    return None


def _depart(session: Session, record: Any, bus: Asset, now: datetime) -> Trip:
    # One trip at a time (trip_refusal); a trip never ended is the sweep's to flag, once its
    # arrival window has passed (sweep_trips), never the request's.
    driver = driver_of_the_day(session, bus, todays_pre_trip_check(session, bus, now))
    trip = Trip(
        school_id=bus.school_id,
        bus=bus,
        teacher=record.submitted_by,
        driver=driver.display_name if driver else str(bus.attributes.get("driver", "")),
        status=TripStatus.EN_ROUTE,
        departed_at=now,
        boarded=int(record.answers["children_boarded"]),
        departure_record_id=record.id,
    )
    session.add(trip)
    session.flush()
    return trip


def _arrive(session: Session, record: Any, bus: Asset, now: datetime) -> Trip | None:
    trip = trip_to_end(session, bus, now)
    if trip is None:
        return None
    # Not arrived yet: that waits for the scan at the back of the bus (check_rear).
    trip.got_off = int(record.answers["children_got_off"])
    trip.arrival_record_id = record.id
    trip.arrival_teacher_id = record.submitted_by.id
    session.flush()
    if trip.mismatch:
        _alert(
            session,
            trip,
            N_("%(bus)s: %(boarded)d children boarded but %(got_off)d got off. Check the bus now!"),
            {"boarded": trip.boarded, "got_off": trip.got_off},
            f"trip:{trip.id}:mismatch",
            now,
        )
    return trip


def check_rear(session: Session, actor: Person, bus: Asset, *, now: datetime) -> Trip:
    """The escort scanned the label at the back of the bus after walking every row: the
    trip's arrival is complete. Refused when no filed arrival waits for it."""
    from models.checklist_roles import check_may_file  # it imports this module

    arrival = next(
        (
            t
            for t in templates_for_kind(session, bus.school.district_id, bus.kind)
            if t.spec.trip == "arrival"
        ),
        None,
    )
    if arrival is not None:
        check_may_file(session, actor, bus, arrival)
    trip = trip_awaiting_rear_check(session, bus, now)
    if trip is None:
        raise TripRefused(
            Message(
                N_(
                    "No arrival of this bus waits for the check at the back. File the "
                    "arrival at the label by the door first, then walk to the back and "
                    "scan this label."
                )
            )
        )
    # A trip already flagged as not arrived is ended all the same by a late walk to the back.
    trip.status = TripStatus.ARRIVED
    trip.arrived_at = now
    trip.rear_checked_by = actor
    session.flush()
    return trip


def alert_overload(
    session: Session,
    bus: Asset,
    teacher: Person,
    children: int,
    seats: int,
    key: str,
    now: datetime,
) -> None:
    """A refused departure with more children than seats still reaches the administrators."""
    _refusal_alert(
        session,
        bus,
        teacher,
        N_(
            "%(bus)s: %(teacher)s tried to leave with %(children)d children; "
            "the bus has %(seats)d seats."
        ),
        {"children": children, "seats": seats},
        f"overload:{bus.id}:{key}",
        now,
    )


def _refusal_alert(
    session: Session,
    bus: Asset,
    teacher: Person,
    message: str,
    params: dict[str, Any],
    dedup_key: str,
    now: datetime,
) -> None:
    """A departure refused for the children's safety is a critical alert all the same."""
    notify(
        session,
        [*school_admins(session, bus.school_id, bus.school.district_id), teacher],
        message=message,
        params={"bus": _bus_name(bus), "teacher": teacher.display_name, **params},
        severity=Severity.CRITICAL,
        dedup_key=dedup_key,
        now=now,
        link=f"/trips/{bus.school.code}",
    )


def sweep_trips(session: Session, *, now: datetime, within: timedelta) -> list[Trip]:
    """Trips still without an arrival scan `within` after leaving: alarm once per trip."""
    late = list(
        session.scalars(
            select(Trip).where(Trip.status == TripStatus.EN_ROUTE, Trip.departed_at < now - within)
        )
    )
    for trip in late:
        _no_arrival(session, trip, now)
    return late


def _no_arrival(session: Session, trip: Trip, now: datetime) -> None:
    trip.status = TripStatus.NO_ARRIVAL
    session.flush()
    if trip.awaiting_rear_check:
        _alert(
            session,
            trip,
            N_(
                "%(bus)s left at %(at)s with %(boarded)d children; the arrival was filed but "
                "nobody scanned the label at the back of the bus. A child may still be on "
                "the bus: check it now!"
            ),
            {"boarded": trip.boarded, "at": trip.departed_at.isoformat()},
            f"trip:{trip.id}:no_arrival",
            now,
        )
        return
    _alert(
        session,
        trip,
        N_(
            "%(bus)s left at %(at)s with %(boarded)d children and no arrival was confirmed. "
            "A child may still be on the bus: check it now!"
        ),
        {"boarded": trip.boarded, "at": trip.departed_at.isoformat()},
        f"trip:{trip.id}:no_arrival",
        now,
    )


def _alert(
    session: Session, trip: Trip, message: str, params: dict[str, Any], key: str, now: datetime
) -> None:
    bus = trip.bus
    notify(
        session,
        [*school_admins(session, bus.school_id, bus.school.district_id), trip.teacher],
        message=message,
        params={"bus": _bus_name(bus), **params},
        severity=Severity.CRITICAL,
        dedup_key=key,
        now=now,
        link=f"/trips/{bus.school.code}",
    )


def _bus_name(bus: Asset) -> str | dict[str, str]:
    """The bus and its plate, in each language's brackets."""
    plate = bus.attributes.get("plate")
    if not plate:
        return bus.name
    return {"zh_CN": f"{bus.name}（{plate}）", "en": f"{bus.name} ({plate})"}


def trip_ledger(session: Session, viewer: Person, school_id: int, limit: int = 100) -> list[Trip]:
    return list(
        session.scalars(
            select(Trip)
            .where(Trip.school_id == school_id, Trip.school_id.in_(visible_school_ids(viewer)))
            .order_by(Trip.departed_at.desc())
            .limit(limit)
        )
    )


def trip_page(
    session: Session, viewer: Person, school_id: int, page: Any = 1, size: int = PAGE_SIZE
) -> Page[Trip]:
    """One page of a school's trips, the latest first."""
    query = (
        select(Trip)
        .where(Trip.school_id == school_id, Trip.school_id.in_(visible_school_ids(viewer)))
        .order_by(Trip.departed_at.desc(), Trip.id.desc())
    )
    return page_of(session, query, page, size)
