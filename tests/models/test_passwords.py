"""Passwords: one-time ones an administrator sets, and changing one's own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.messages import SubmissionInvalid
from models.passwords import change_own_password, issue_sign_in_code, reset_password
from models.people import PasswordExpired, Role, authenticate
from models.throttle import is_locked_anywhere
from tests.factories import PASSWORD, make_person, make_school


def test_a_one_time_password_lifts_a_lockout_and_must_be_replaced(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    for _ in range(5):
        authenticate(session, "teacher", "wrong-guess", now=clock.now())
    assert is_locked_anywhere(session, teacher.id, now=clock.now())

    with pytest.raises(SubmissionInvalid):
        reset_password(session, admin, teacher, "short", now=clock.now())
    reset_password(session, admin, teacher, "a-new-password", now=clock.now())

    assert not is_locked_anywhere(session, teacher.id, now=clock.now())
    assert authenticate(session, "teacher", "a-new-password", now=clock.now()) is teacher
    assert teacher.must_change_password
    change_own_password(
        session, teacher, current="", new="my-own-pass", repeat="my-own-pass", now=clock.now()
    )
    assert not teacher.must_change_password
    assert authenticate(session, "teacher", "my-own-pass", now=clock.now()) is teacher


def test_an_unused_one_time_password_expires(session: Session, clock: SettableClock) -> None:
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    code = issue_sign_in_code(session, admin, teacher, now=clock.now())

    assert authenticate(session, "teacher", code.lower(), now=clock.now()) is teacher
    clock.advance(timedelta(days=15))
    with pytest.raises(PasswordExpired):
        authenticate(session, "teacher", code, now=clock.now())


def test_changing_ones_own_password_asks_the_current_one(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")

    with pytest.raises(SubmissionInvalid) as refused:
        change_own_password(
            session, teacher, current="wrong", new="new-pass-1", repeat="other", now=clock.now()
        )
    assert set(refused.value.errors) == {"current", "repeat"}
    change_own_password(
        session, teacher, current=PASSWORD, new="new-pass-1", repeat="new-pass-1", now=clock.now()
    )
    assert authenticate(session, "teacher", "new-pass-1", now=clock.now()) is teacher
