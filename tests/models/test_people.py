"""Logging in and seeing only one's own schools."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

import models.people
from models.clock import SettableClock
from models.messages import DomainError
from models.people import Role, authenticate, create_person, grant_role, visible_schools
from tests.factories import PASSWORD, make_person, make_school


def test_a_person_logs_in_with_username_or_phone(session: Session, clock: SettableClock) -> None:
    school = make_school(session)
    person = make_person(session, clock, school, username="Zhang", phone="138 0000 0001")

    assert authenticate(session, "zhang", PASSWORD, now=clock.now()) is person
    assert authenticate(session, "13800000001", PASSWORD, now=clock.now()) is person
    assert authenticate(session, "138-0000-0001", PASSWORD, now=clock.now()) is person
    assert authenticate(session, "zhang", "wrong", now=clock.now()) is None
    assert authenticate(session, "nobody", PASSWORD, now=clock.now()) is None


def test_passwords_are_stored_hashed_at_scrypts_full_cost(
    session: Session,
    clock: SettableClock,
    shipped_password_hash: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(models.people, "PASSWORD_HASH_METHOD", shipped_password_hash)
    school = make_school(session)
    person = create_person(
        session, username="li", display_name="李", password=PASSWORD, now=clock.now()
    )
    grant_role(session, person, Role.TEACHER, school)

    assert PASSWORD not in person.password_hash
    assert person.password_hash.startswith("scrypt:32768:8:1$")
    assert authenticate(session, "li", PASSWORD, now=clock.now()) is person
    assert authenticate(session, "li", "wrong-pass", now=clock.now()) is None


def test_a_deactivated_person_cannot_log_in(session: Session, clock: SettableClock) -> None:
    person = make_person(session, clock, make_school(session))
    person.active = False

    assert authenticate(session, "inspector", PASSWORD, now=clock.now()) is None


def test_staff_see_their_school_and_district_admins_see_the_district(
    session: Session, clock: SettableClock
) -> None:
    first = make_school(session, "S1")
    make_school(session, "S2", "第二中学", district=first.district)
    elsewhere = make_school(session, "S3", "外区中学")
    staff = make_person(session, clock, first, Role.CANTEEN_STAFF, "staff")
    admin = make_person(session, clock, first, Role.DISTRICT_ADMIN, "district")

    assert [s.code for s in visible_schools(session, staff)] == ["S1"]
    assert [s.code for s in visible_schools(session, admin)] == ["S1", "S2"]
    assert elsewhere not in visible_schools(session, admin)


def test_roles_at_two_schools_show_both(session: Session, clock: SettableClock) -> None:
    first = make_school(session, "S1")
    second = make_school(session, "S2", "第二中学")
    teacher = make_person(session, clock, first, Role.TEACHER, "teacher")
    grant_role(session, teacher, Role.TEACHER, second)

    assert [s.code for s in visible_schools(session, teacher)] == ["S1", "S2"]


def test_a_short_password_is_refused(session: Session, clock: SettableClock) -> None:
    with pytest.raises(DomainError) as refused:
        create_person(session, username="x", display_name="X", password="1234567", now=clock.now())

    assert refused.value.message.params == {"count": 8}


def test_a_language_asked_by_name_is_set_and_asked_nothing_switches(
    session: Session, clock: SettableClock
) -> None:
    from models.people import set_locale

    person = make_person(session, clock, make_school(session))

    assert set_locale(person, "en-GB") == "en"
    assert set_locale(person, "zh-CN") == "zh_CN"
    assert set_locale(person) == "en"
    assert set_locale(person) == "zh_CN"


def test_a_person_reads_times_in_the_time_zone_of_their_district(
    session: Session, clock: SettableClock
) -> None:
    from models.people import Person, Role

    school = make_school(session)
    school.district.timezone = "Asia/Urumqi"
    teacher = make_person(session, clock, school)
    district = make_person(session, clock, school, Role.DISTRICT_ADMIN, "district")
    nobody = Person(username="new", display_name="New", password_hash="", created_at=clock.now())

    assert teacher.timezone == "Asia/Urumqi" and district.timezone == "Asia/Urumqi"
    assert nobody.timezone == "Asia/Shanghai"
    assert school.district.local(clock.now()).strftime("%H:%M") == "06:30"  # 08:30 in Beijing
