"""Logging out, a new password and an administrator end a login for good: a copy of its
cookies opens nothing; a person ends their other logins from the list of them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from models.clock import SettableClock
from models.login_sessions import SEEN_EVERY, LoginSession
from models.org import School
from models.people import Person, Role
from tests.conftest import Auth, csrf_token
from tests.factories import PASSWORD, make_person, make_school

SESSION_COOKIE = "session"
REMEMBER_COOKIE = "remember_token"
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 13; V2227A) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/116.0.0.0 Mobile Safari/537.36"
)


@pytest.fixture
def school(session: Session, clock: SettableClock) -> School:
    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    make_person(session, clock, school, Role.CANTEEN_STAFF, "cook")
    other = make_school(session, "S2", "第二中学")
    make_person(session, clock, other, Role.SCHOOL_ADMIN, "stranger")
    session.commit()
    return school


def _logged_in(app: Flask, login: str, user_agent: str = "") -> FlaskClient:
    client = app.test_client()
    if user_agent:
        client.environ_base["HTTP_USER_AGENT"] = user_agent
    Auth(client).login(login)
    return client


def _opens_inbox(client: FlaskClient) -> bool:
    response = client.get("/inbox")
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]
        return False
    assert response.status_code == 200
    return True


def _replayed(app: Flask, cookies: dict[str, str]) -> FlaskClient:
    fresh = app.test_client()
    for name, value in cookies.items():
        fresh.set_cookie(name, value)
    return fresh


def _cookie(client: FlaskClient, name: str) -> str:
    cookie = client.get_cookie(name)
    assert cookie is not None, name
    return cookie.value


def _post(client: FlaskClient, page: str, url: str, data: dict[str, Any]) -> TestResponse:
    html = client.get(page).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token(html), **data})


def _person(session: Session, username: str) -> Person:
    person = session.scalars(select(Person).where(Person.username == username)).one()
    session.commit()
    return person


def _login_ids(session: Session, person: Person) -> list[int]:
    ids = session.scalars(
        select(LoginSession.id)
        .where(LoginSession.person_id == person.id, LoginSession.ended_at.is_(None))
        .order_by(LoginSession.id)
    ).all()
    session.commit()
    return list(ids)


def test_after_logout_neither_saved_cookie_opens_the_inbox(app: Flask, school: School) -> None:
    cook = _logged_in(app, "cook")
    saved_session = _cookie(cook, SESSION_COOKIE)
    saved_remember = _cookie(cook, REMEMBER_COOKIE)
    assert _opens_inbox(_replayed(app, {SESSION_COOKIE: saved_session}))
    assert _opens_inbox(_replayed(app, {REMEMBER_COOKIE: saved_remember}))

    _post(cook, "/inbox", "/logout", {})

    assert not _opens_inbox(cook)
    assert not _opens_inbox(_replayed(app, {SESSION_COOKIE: saved_session}))
    assert not _opens_inbox(_replayed(app, {REMEMBER_COOKIE: saved_remember}))


def test_an_administrators_new_password_logs_the_person_out_elsewhere(
    app: Flask, session: Session, school: School
) -> None:
    cooks_phone = _logged_in(app, "cook")
    admin = _logged_in(app, "admin")
    cook = _person(session, "cook")
    page = f"/admin/{school.code}/people/{cook.id}"

    response = _post(admin, page, page, {"do": "password", "password": "tell-you-once"})

    assert response.status_code == 302
    assert not _opens_inbox(cooks_phone)
    assert _opens_inbox(admin)


def test_an_administrator_logs_the_person_out_everywhere(
    app: Flask, session: Session, school: School
) -> None:
    cooks_phone = _logged_in(app, "cook")
    admin = _logged_in(app, "admin")
    cook = _person(session, "cook")
    page = f"/admin/{school.code}/people/{cook.id}"
    assert "在所有设备上退出登录" in admin.get(page).get_data(as_text=True)

    assert _post(admin, page, page, {"do": "end_sessions"}).status_code == 302

    assert not _opens_inbox(cooks_phone)
    assert _login_ids(session, cook) == []
    assert Auth(cooks_phone).login("cook") is None  # the password still works


def test_another_schools_administrator_cannot_log_them_out(
    app: Flask, session: Session, school: School
) -> None:
    cooks_phone = _logged_in(app, "cook")
    stranger = _logged_in(app, "stranger")
    cook = _person(session, "cook")
    page = f"/admin/{school.code}/people/{cook.id}"

    response = _post(stranger, "/inbox", page, {"do": "end_sessions"})

    assert response.status_code == 404
    assert _opens_inbox(cooks_phone)


def test_ones_own_new_password_ends_the_other_logins_but_not_this_one(
    app: Flask, session: Session, school: School
) -> None:
    phone = _logged_in(app, "cook")
    computer = _logged_in(app, "cook")
    new = "a-new-pass-1"

    response = _post(
        computer,
        "/password",
        "/password",
        {"current": PASSWORD, "new": new, "repeat": new, "next": ""},
    )

    assert response.status_code == 302
    assert _opens_inbox(computer)
    assert not _opens_inbox(phone)


def test_ending_one_login_from_the_list_leaves_this_one_working(
    app: Flask, session: Session, school: School
) -> None:
    phone = _logged_in(app, "cook", ANDROID_CHROME)
    computer = _logged_in(app, "cook")
    cook = _person(session, "cook")
    phones_login, computers_login = _login_ids(session, cook)

    page = computer.get("/sessions").get_data(as_text=True)
    assert "Chrome（Android）" in page and "结束" in page
    assert f"/sessions/{phones_login}/end" in page
    assert f"/sessions/{computers_login}/end" not in page  # this one: log out instead

    response = computer.post(f"/sessions/{phones_login}/end", data={"csrf_token": csrf_token(page)})

    assert response.status_code == 302
    assert _opens_inbox(computer)
    assert not _opens_inbox(phone)
    assert _login_ids(session, cook) == [computers_login]


def test_another_persons_login_cannot_be_ended_from_ones_list(
    app: Flask, session: Session, school: School
) -> None:
    cooks_phone = _logged_in(app, "cook")
    admin = _logged_in(app, "admin")
    (cooks_login,) = _login_ids(session, _person(session, "cook"))

    response = _post(admin, "/sessions", f"/sessions/{cooks_login}/end", {})

    assert response.status_code == 404
    assert _opens_inbox(cooks_phone)


def test_ending_every_other_login(app: Flask, session: Session, school: School) -> None:
    phones = [_logged_in(app, "cook") for _ in range(2)]
    computer = _logged_in(app, "cook")

    response = _post(computer, "/sessions", "/sessions/end-others", {})

    assert response.status_code == 302
    assert _opens_inbox(computer)
    assert not any(_opens_inbox(phone) for phone in phones)


def test_logging_in_again_in_the_same_browser_ends_the_login_it_had(
    app: Flask, session: Session, school: School
) -> None:
    client = _logged_in(app, "cook")
    saved = _cookie(client, REMEMBER_COOKIE)

    response = _post(
        client, "/inbox", "/login", {"login": "admin", "password": PASSWORD, "next": ""}
    )

    assert response.status_code == 302
    assert not _opens_inbox(_replayed(app, {REMEMBER_COOKIE: saved}))
    assert _opens_inbox(client)


def test_reading_pages_notes_the_login_as_seen_only_every_few_minutes(
    app: Flask, session: Session, school: School, clock: SettableClock
) -> None:
    client = _logged_in(app, "cook")
    started = clock.now()

    def last_seen() -> object:
        seen = session.scalar(select(LoginSession.last_seen_at))
        session.commit()
        return seen

    clock.advance(SEEN_EVERY - timedelta(seconds=1))
    assert _opens_inbox(client)
    assert last_seen() == started

    clock.advance(timedelta(seconds=1))
    assert _opens_inbox(client)
    assert last_seen() == clock.now()


def test_the_session_cookie_is_sent_again_when_the_login_is_noted_as_seen_not_with_every_page(
    app: Flask, school: School, clock: SettableClock
) -> None:
    client = _logged_in(app, "cook")

    def resent() -> bool:
        response = client.get("/inbox")
        assert response.status_code == 200
        return any(
            c.startswith(f"{SESSION_COOKIE}=") for c in response.headers.getlist("Set-Cookie")
        )

    clock.advance(SEEN_EVERY - timedelta(seconds=1))
    assert not resent()
    clock.advance(timedelta(seconds=1))
    assert resent()
    assert not resent()
    assert _opens_inbox(client)


def test_a_login_opened_again_from_the_remember_cookie_keeps_a_lasting_session_cookie(
    app: Flask, school: School
) -> None:
    browser = _replayed(app, {REMEMBER_COOKIE: _cookie(_logged_in(app, "cook"), REMEMBER_COOKIE)})

    response = browser.get("/inbox")

    assert response.status_code == 200
    sent = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert sent and "Expires=" in sent[0]


def test_the_footer_links_to_where_one_is_logged_in(app: Flask, school: School) -> None:
    client = _logged_in(app, "cook")

    html = client.get("/inbox").get_data(as_text=True)

    assert '<a class="footlink" href="/sessions">登录设备</a>' in html
