"""New logins at a school: checked field by field, unique usernames and phones."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.accounts import add_person
from models.clock import SettableClock
from models.messages import SubmissionInvalid
from models.people import Person, Role, authenticate
from models.staff import (
    school_people,
)
from tests.factories import make_person, make_school


def _count(session: Session, entity: type) -> int:
    return session.scalar(select(func.count()).select_from(entity))


def test_an_admin_adds_a_person_who_can_then_log_in(session: Session, clock: SettableClock) -> None:
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")

    person = add_person(
        session,
        admin,
        school,
        username=" Wang ",
        display_name="王师傅",
        phone="138-0000-0002",
        password="long-enough",
        role="canteen_staff",
        now=clock.now(),
    )

    assert authenticate(session, "13800000002", "long-enough", now=clock.now()) is person
    assert person.username == "wang"
    assert [(p.username, roles) for p, roles in school_people(session, school)] == [
        ("admin", [Role.SCHOOL_ADMIN]),
        ("wang", [Role.CANTEEN_STAFF]),
    ]


def test_usernames_and_phones_are_unique_across_both(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin", phone="13800000001")

    with pytest.raises(SubmissionInvalid) as refused:
        add_person(
            session,
            admin,
            school,
            username="13800000001",
            display_name="",
            phone="138 0000 0001",
            password="short",
            role="cook",
            now=clock.now(),
        )

    errors = refused.value.errors
    assert set(errors) == {"username", "display_name", "phone", "password", "role"}
    assert errors["phone"].params == {"value": "13800000001"}
    assert _count(session, Person) == 1
