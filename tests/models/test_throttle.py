"""Wrong passwords lock out the one who types them, not the login's owner elsewhere."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.passwords import unlock_login
from models.people import LoginLocked, LoginSource, Role, authenticate, check_login, record_login
from models.throttle import LOCKOUT, LoginFailure
from tests.factories import PASSWORD, make_person, make_school

STRANGER = LoginSource(address="10.0.0.66")
OWNER_ELSEWHERE = LoginSource(address="172.16.5.1")


def _guess_five_times(session: Session, clock: SettableClock, source: LoginSource) -> None:
    for _ in range(5):
        assert (
            authenticate(session, "teacher", "wrong-guess", now=clock.now(), source=source) is None
        )


def test_five_wrong_passwords_lock_the_login_from_that_address_only(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")

    _guess_five_times(session, clock, STRANGER)

    with pytest.raises(LoginLocked):
        authenticate(session, "teacher", PASSWORD, now=clock.now(), source=STRANGER)
    assert authenticate(session, "teacher", PASSWORD, now=clock.now(), source=OWNER_ELSEWHERE) is (
        teacher
    )


def test_the_owners_own_phone_is_not_locked_by_guesses_on_the_same_network(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    # The school's Wi-Fi: one address for everyone; the owner's phone logged in here before.
    owners_phone = LoginSource(
        address=STRANGER.address, device="phone-1", device_people=frozenset({teacher.id})
    )

    _guess_five_times(session, clock, STRANGER)

    assert authenticate(session, "teacher", PASSWORD, now=clock.now(), source=owners_phone) is (
        teacher
    )


def test_a_lock_ends_after_fifteen_minutes(session: Session, clock: SettableClock) -> None:
    school = make_school(session)
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    _guess_five_times(session, clock, STRANGER)

    clock.advance(timedelta(minutes=14))
    with pytest.raises(LoginLocked):
        authenticate(session, "teacher", PASSWORD, now=clock.now(), source=STRANGER)
    clock.advance(timedelta(minutes=2))
    assert authenticate(session, "teacher", PASSWORD, now=clock.now(), source=STRANGER) is teacher


def test_an_administrator_unlocks_a_login(session: Session, clock: SettableClock) -> None:
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    _guess_five_times(session, clock, STRANGER)

    unlock_login(session, admin, teacher)

    assert authenticate(session, "teacher", PASSWORD, now=clock.now(), source=STRANGER) is teacher


def test_a_right_password_starts_the_count_again(session: Session, clock: SettableClock) -> None:
    school = make_school(session)
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    for _ in range(4):
        authenticate(session, "teacher", "typo", now=clock.now(), source=OWNER_ELSEWHERE)
    assert authenticate(session, "teacher", PASSWORD, now=clock.now(), source=OWNER_ELSEWHERE)
    for _ in range(4):
        authenticate(session, "teacher", "typo", now=clock.now(), source=OWNER_ELSEWHERE)

    assert authenticate(session, "teacher", PASSWORD, now=clock.now(), source=OWNER_ELSEWHERE) is (
        teacher
    )


def test_counts_that_are_over_are_forgotten(session: Session, clock: SettableClock) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.TEACHER, "teacher")
    for n in range(3):
        source = LoginSource(address=f"10.0.0.{n}")
        authenticate(session, "teacher", "typo", now=clock.now(), source=source)

    clock.advance(timedelta(minutes=16))
    authenticate(session, "teacher", "typo", now=clock.now(), source=STRANGER)

    assert session.scalars(select(LoginFailure.source)).all() == ["address:10.0.0.66"]


def test_guesses_sent_side_by_side_get_five_tries_however_many_workers_check_them(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.TEACHER, "teacher")
    # Eight workers each checked a password, reading, before any of them wrote.
    checks = [
        check_login(session, "teacher", guess, source=STRANGER, now=clock.now())
        for guess in ["wrong-guess"] * 7 + [PASSWORD]
    ]

    for check in checks[:5]:
        assert record_login(session, check, now=clock.now()) is None
    for check in checks[5:]:
        with pytest.raises(LoginLocked):
            record_login(session, check, now=clock.now())

    row = session.scalars(select(LoginFailure)).one()
    # Locked by the fifth; the later ones neither counted nor restarted the lock.
    assert (row.failures, row.locked_until) == (0, clock.now() + LOCKOUT)


def _counts(session: Session) -> list[tuple[str, int, bool]]:
    session.expire_all()
    rows = session.scalars(select(LoginFailure).order_by(LoginFailure.source))
    return [(row.source, row.failures, row.locked_until is not None) for row in rows]


def test_a_guess_refused_while_locked_writes_nothing(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.TEACHER, "teacher")
    authenticate(session, "teacher", "typo", now=clock.now(), source=OWNER_ELSEWHERE)
    clock.advance(timedelta(minutes=1))
    # Checked before the five guesses beside it locked the login from the same address.
    late = check_login(session, "teacher", "wrong-guess", source=STRANGER, now=clock.now())
    _guess_five_times(session, clock, STRANGER)
    clock.advance(timedelta(minutes=14, seconds=30))  # the owner's typo is over, the lock is not
    before = _counts(session)

    with pytest.raises(LoginLocked):
        record_login(session, late, now=clock.now())

    # The door answering the refusal commits: the refusal itself must have changed nothing.
    assert _counts(session) == before
