"""Logins the server can end: on logout, a new password, or an administrator's word."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.login_sessions import (
    SEEN_EVERY,
    LoginSession,
    LoginSessionNotFound,
    device_of,
    due_to_be_seen,
    end_all_sessions,
    end_own_session,
    end_session,
    end_sessions_of,
    mark_seen,
    session_for_token,
    sessions_of,
    start_session,
)
from models.org import School
from models.passwords import change_own_password, issue_sign_in_code, reset_password
from models.people import Person, Role
from models.staff import AdminRefused, set_login_active
from tests.factories import PASSWORD, make_person, make_school

LASTING = timedelta(days=90)
IPHONE_WECHAT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like"
    " Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN"
)


def _start(session: Session, clock: SettableClock, person: Person) -> LoginSession:
    return start_session(
        session, person, user_agent=IPHONE_WECHAT, address="10.0.0.5", now=clock.now()
    )


def _found(session: Session, clock: SettableClock, token: str) -> LoginSession | None:
    return session_for_token(session, token, now=clock.now(), lasting=LASTING)


def test_only_the_tokens_hash_is_kept_and_the_token_finds_its_login(
    session: Session, clock: SettableClock, canteen_school: tuple[School, Person, Person]
) -> None:
    _, _, cook = canteen_school
    login = _start(session, clock, cook)
    token = login.token

    stored = session.scalars(select(LoginSession.token_sha256)).all()
    assert token not in stored and len(stored[0]) == 64
    found = _found(session, clock, token)
    assert found is not None and found.person is cook and cook.get_id() == token
    assert _found(session, clock, token[:-1] + "x") is None
    assert _found(session, clock, str(cook.id)) is None


def test_an_ended_login_is_found_no_more(
    session: Session, clock: SettableClock, canteen_school: tuple[School, Person, Person]
) -> None:
    _, _, cook = canteen_school
    login = _start(session, clock, cook)

    end_session(session, login, now=clock.now())

    assert _found(session, clock, login.token) is None


def test_a_login_not_seen_for_the_remembered_days_expires(
    session: Session, clock: SettableClock, canteen_school: tuple[School, Person, Person]
) -> None:
    _, _, cook = canteen_school
    login = _start(session, clock, cook)

    clock.advance(LASTING - timedelta(minutes=1))
    assert _found(session, clock, login.token) is not None
    clock.advance(timedelta(minutes=1))
    assert _found(session, clock, login.token) is None


def test_a_login_seen_lately_lasts_on(
    session: Session, clock: SettableClock, canteen_school: tuple[School, Person, Person]
) -> None:
    _, _, cook = canteen_school
    login = _start(session, clock, cook)

    clock.advance(LASTING - timedelta(days=1))
    mark_seen(session, login.id, now=clock.now())
    session.expire_all()
    clock.advance(timedelta(days=2))

    assert _found(session, clock, login.token) is not None


def test_a_login_is_marked_seen_at_most_every_few_minutes(
    session: Session, clock: SettableClock, canteen_school: tuple[School, Person, Person]
) -> None:
    _, _, cook = canteen_school
    login = _start(session, clock, cook)
    started = login.last_seen_at

    clock.advance(SEEN_EVERY - timedelta(seconds=1))
    assert not due_to_be_seen(login, now=clock.now())
    mark_seen(session, login.id, now=clock.now())
    session.refresh(login)
    assert login.last_seen_at == started

    clock.advance(timedelta(seconds=1))
    assert due_to_be_seen(login, now=clock.now())
    mark_seen(session, login.id, now=clock.now())
    session.refresh(login)
    assert login.last_seen_at == clock.now()


def test_a_switched_off_login_opens_nothing_even_when_switched_on_again(
    session: Session, clock: SettableClock, canteen_school: tuple[School, Person, Person]
) -> None:
    _, admin, cook = canteen_school
    login = _start(session, clock, cook)

    set_login_active(session, admin, cook, active=False, now=clock.now())
    assert _found(session, clock, login.token) is None
    set_login_active(session, admin, cook, active=True, now=clock.now())
    session.expire_all()

    assert _found(session, clock, login.token) is None


def test_ending_all_but_the_current_keeps_the_current(
    session: Session, clock: SettableClock, canteen_school: tuple[School, Person, Person]
) -> None:
    _, admin, cook = canteen_school
    phone, computer, current = (_start(session, clock, cook) for _ in range(3))
    admins = _start(session, clock, admin)

    end_all_sessions(session, cook, now=clock.now(), except_=current)

    assert _found(session, clock, phone.token) is None
    assert _found(session, clock, computer.token) is None
    assert _found(session, clock, current.token) is current
    assert _found(session, clock, admins.token) is admins
    assert sessions_of(session, cook, now=clock.now(), lasting=LASTING) == [current]


def test_changing_ones_password_ends_every_other_login(
    session: Session, clock: SettableClock, canteen_school: tuple[School, Person, Person]
) -> None:
    _, _, cook = canteen_school
    phone, current = _start(session, clock, cook), _start(session, clock, cook)

    change_own_password(
        session,
        cook,
        current=PASSWORD,
        new="a-new-pass-1",
        repeat="a-new-pass-1",
        now=clock.now(),
        keeping=current,
    )

    assert _found(session, clock, phone.token) is None
    assert _found(session, clock, current.token) is current


@pytest.mark.parametrize("how", ["password", "code"])
def test_an_administrator_letting_someone_back_in_ends_all_their_logins(
    session: Session,
    clock: SettableClock,
    canteen_school: tuple[School, Person, Person],
    how: str,
) -> None:
    _, admin, cook = canteen_school
    phone = _start(session, clock, cook)

    if how == "password":
        reset_password(session, admin, cook, "one-time-pass", now=clock.now())
    else:
        issue_sign_in_code(session, admin, cook, now=clock.now())

    assert _found(session, clock, phone.token) is None


def test_a_person_ends_only_their_own_logins(
    session: Session, clock: SettableClock, canteen_school: tuple[School, Person, Person]
) -> None:
    _, admin, cook = canteen_school
    cooks = _start(session, clock, cook)

    with pytest.raises(LoginSessionNotFound):
        end_own_session(session, admin, cooks.id, now=clock.now())
    assert _found(session, clock, cooks.token) is cooks

    end_own_session(session, cook, cooks.id, now=clock.now())
    assert _found(session, clock, cooks.token) is None
    with pytest.raises(LoginSessionNotFound):
        end_own_session(session, cook, cooks.id, now=clock.now())


def test_another_schools_administrator_cannot_log_someone_out(
    session: Session, clock: SettableClock, canteen_school: tuple[School, Person, Person]
) -> None:
    _, admin, cook = canteen_school
    stranger = make_person(session, clock, make_school(session, "S2"), Role.SCHOOL_ADMIN, "x")
    login = _start(session, clock, cook)

    with pytest.raises(AdminRefused):
        end_sessions_of(session, stranger, cook, now=clock.now())
    assert _found(session, clock, login.token) is login

    end_sessions_of(session, admin, cook, now=clock.now())
    assert _found(session, clock, login.token) is None


@pytest.mark.parametrize(
    ("user_agent", "browser", "system"),
    [
        (IPHONE_WECHAT, "WeChat", "iPhone"),
        (
            "Mozilla/5.0 (Linux; Android 13; V2227A) AppleWebKit/537.36 (KHTML, like Gecko)"
            " Chrome/116.0.0.0 Mobile Safari/537.36 wxwork/4.1.20 MicroMessenger/7.0.1",
            "WeCom",
            "Android",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
            " Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
            "Edge",
            "Windows",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like"
            " Gecko) Version/17.2 Safari/605.1.15",
            "Safari",
            "macOS",
        ),
        ("", "Unknown", "Unknown"),
    ],
)
def test_a_login_is_told_by_its_browser_and_system(
    user_agent: str, browser: str, system: str
) -> None:
    device = device_of(user_agent)

    assert (device.browser, device.system) == (browser, system)
