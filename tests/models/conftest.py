"""Fixtures shared by the domain's tests."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.org import School
from models.people import Person, Role
from tests.factories import make_person, make_school


@pytest.fixture
def canteen_school(session: Session, clock: SettableClock) -> tuple[School, Person, Person]:
    """A school with its administrator and a cook."""
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    cook = make_person(session, clock, school, Role.CANTEEN_STAFF, "cook")
    return school, admin, cook
