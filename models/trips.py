"""Bus trips: a departure scan and an arrival scan by the teacher on board.

Every child who boarded must get off. A mismatch, an overloaded bus, or a trip with no
arrival in time is a critical alert to the school's administrators at once.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.assets import Asset
from models.base import Base
from models.messages import N_
from models.notifications import Severity, notify, school_admins
from models.paging import PAGE_SIZE, Page, page_of
from models.people import Person, visible_school_ids


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

    bus: Mapped[Asset] = relationship()
    teacher: Mapped[Person] = relationship(foreign_keys=[teacher_id])

    @property
    def mismatch(self) -> bool:
        return self.got_off is not None and self.got_off != self.boarded


def open_trip(session: Session, bus: Asset) -> Trip | None:
    return session.scalar(
        select(Trip)
        .where(Trip.bus_id == bus.id, Trip.status == TripStatus.EN_ROUTE)
        .order_by(Trip.departed_at.desc())
    )


def arrival_failures(session: Session, bus: Asset, answers: dict[str, Any]) -> list[str]:
    """An arrival fails when fewer or more children got off than boarded at departure."""
    trip = open_trip(session, bus)
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
    previous = open_trip(session, bus)
    if previous is not None:
        # A new departure while the last trip never arrived: that trip needs checking now.
        _no_arrival(session, previous, now)
    trip = Trip(
        school_id=bus.school_id,
        bus=bus,
        teacher=record.submitted_by,
        driver=str(bus.attributes.get("driver", "")),
        status=TripStatus.EN_ROUTE,
        departed_at=now,
        boarded=int(record.answers["children_boarded"]),
        departure_record_id=record.id,
    )
    session.add(trip)
    session.flush()
    return trip


def _arrive(session: Session, record: Any, bus: Asset, now: datetime) -> Trip | None:
    trip = open_trip(session, bus)
    if trip is None:
        return None
    trip.status = TripStatus.ARRIVED
    trip.arrived_at = now
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
    notify(
        session,
        [*school_admins(session, bus.school_id, bus.school.district_id), teacher],
        message=N_(
            "%(bus)s: %(teacher)s tried to leave with %(children)d children; "
            "the bus has %(seats)d seats."
        ),
        params={
            "bus": _bus_name(bus),
            "teacher": teacher.display_name,
            "children": children,
            "seats": seats,
        },
        severity=Severity.CRITICAL,
        dedup_key=f"overload:{bus.id}:{key}",
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


def _bus_name(bus: Asset) -> str:
    plate = bus.attributes.get("plate")
    return f"{bus.name}（{plate}）" if plate else bus.name


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
