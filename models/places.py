"""A school's places (building, floor, room), where its assets are."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from models.audit import audit, fields_of
from models.fields import clean_text
from models.messages import N_, Message, SubmissionInvalid
from models.org import Location, School
from models.paging import PAGE_SIZE, Page, page_of
from models.people import Person

PLACE_MAX = {"building": 100, "floor": 20, "room": 100}


class Distance(enum.StrEnum):
    """How far apart two assets lie in a school, from their places."""

    SAME_FLOOR = "same_floor"
    OTHER_FLOOR = "other_floor"
    OTHER_BUILDING = "other_building"


DISTANCE_LABELS = {
    Distance.SAME_FLOOR: N_("same floor"),
    Distance.OTHER_FLOOR: N_("another floor"),
    Distance.OTHER_BUILDING: N_("another building"),
}


def distance_between(first: Location | None, second: Location | None) -> Distance | None:
    """Same floor, another floor or another building; None when a place is not known (an
    asset with no place, or a floor left blank in the same building)."""
    if first is None or second is None:
        return None
    if first.school_id != second.school_id or first.building != second.building:
        return Distance.OTHER_BUILDING
    if not first.floor or not second.floor:
        return None
    return Distance.SAME_FLOOR if first.floor == second.floor else Distance.OTHER_FLOOR


def _locations(school: School) -> Select[Location]:
    """A school's places, by building, floor and room."""
    return (
        select(Location)
        .where(Location.school_id == school.id)
        .order_by(Location.building, Location.floor, Location.room, Location.id)
    )


def school_locations(session: Session, school: School) -> list[Location]:
    return list(session.scalars(_locations(school)))


def location_page(
    session: Session, school: School, page: Any = 1, size: int = PAGE_SIZE
) -> Page[Location]:
    """One page of `school_locations`."""
    return page_of(session, _locations(school), page, size)


def find_location(
    session: Session, school: School, building: str, floor: str, room: str
) -> Location | None:
    return session.scalar(
        select(Location).where(
            Location.school_id == school.id,
            Location.building == building,
            Location.floor == floor,
            Location.room == room,
        )
    )


def clean_place(
    building: str, floor: str, room: str, errors: dict[str, Message]
) -> tuple[str, str, str]:
    """Building, floor and room as typed; a floor or room needs its building."""
    building = clean_text(building, "building", PLACE_MAX["building"], errors, required=False)
    floor = clean_text(floor, "floor", PLACE_MAX["floor"], errors, required=False)
    room = clean_text(room, "room", PLACE_MAX["room"], errors, required=False)
    if not building and "building" not in errors:
        errors["building"] = Message(
            N_("Give the building too.") if floor or room else N_("Fill this in.")
        )
    return building, floor, room


def add_location(
    session: Session,
    school: School,
    *,
    building: str,
    floor: str = "",
    room: str = "",
    actor: Person,
    now: datetime,
) -> Location:
    """A new place at the school; the same building, floor and room twice is refused."""
    errors: dict[str, Message] = {}
    building, floor, room = clean_place(building, floor, room, errors)
    if not errors and find_location(session, school, building, floor, room) is not None:
        errors["building"] = Message(N_("This place is already listed at this school."))
    if errors:
        raise SubmissionInvalid(errors)
    location = Location(school=school, building=building, floor=floor, room=room)
    session.add(location)
    session.flush()
    added = fields_of(location, ("building", "floor", "room"))
    audit(session, actor, "place.added", location, {}, added, now=now)
    return location
