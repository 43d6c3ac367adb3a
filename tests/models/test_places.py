"""A school's places: listed once, a floor with its building."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.messages import SubmissionInvalid
from models.org import Location
from models.places import add_location
from tests.factories import make_district_admin, make_school


def _count(session: Session, entity: type) -> int:
    return session.scalar(select(func.count()).select_from(entity))


def test_a_place_is_listed_once_per_school(session: Session, clock: SettableClock) -> None:
    school = make_school(session, "S1")
    other = make_school(session, "S2", "第二中学")
    by = {"actor": make_district_admin(session, clock, school), "now": clock.now()}
    add_location(session, school, building="教学楼", floor="1层", room="101", **by)

    with pytest.raises(SubmissionInvalid) as refused:
        add_location(session, school, building=" 教学楼", floor="1层 ", room="101", **by)
    add_location(session, school, building="教学楼", floor="1层", **by)
    add_location(session, other, building="教学楼", floor="1层", room="101", **by)

    assert list(refused.value.errors) == ["building"]
    assert _count(session, Location) == 3


def test_a_floor_needs_its_building(session: Session, clock: SettableClock) -> None:
    school = make_school(session)
    district = make_district_admin(session, clock, school)

    with pytest.raises(SubmissionInvalid) as refused:
        add_location(session, school, building="", floor="1层", actor=district, now=clock.now())

    assert refused.value.errors["building"].msgid == "Give the building too."
