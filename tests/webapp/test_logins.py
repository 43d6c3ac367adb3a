"""Logins that strangers cannot lock, one-time passwords and sign-in codes, an admin's unlock."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

import models.throttle
import webapp.auth
from models.clock import SettableClock
from models.org import School
from models.people import LoginSource, Person, Role, authenticate
from tests.conftest import Auth, csrf_token
from tests.factories import PASSWORD, make_person, make_school

STRANGER = {"REMOTE_ADDR": "10.0.0.66"}
OWNER = {"REMOTE_ADDR": "172.16.5.1"}


@pytest.fixture
def school(session: Session, clock: SettableClock) -> School:
    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    make_person(session, clock, school, Role.TEACHER, "teacher", phone="13900000009")
    session.commit()
    return school


def _login(
    client: FlaskClient, login: str, password: str, environ: dict[str, str] | None = None
) -> TestResponse:
    environ = environ or {}
    page = client.get("/login", environ_base=environ).get_data(as_text=True)
    return client.post(
        "/login",
        data={"csrf_token": csrf_token(page), "login": login, "password": password, "next": ""},
        environ_base=environ,
    )


def _post(client: FlaskClient, url: str, data: dict[str, Any]) -> TestResponse:
    page = client.get(url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token(page), **data})


def _teacher_id(session: Session) -> int:
    person_id = session.scalar(select(Person.id).where(Person.username == "teacher"))
    session.commit()
    assert person_id is not None
    return person_id


def test_guessing_a_teachers_phone_locks_out_only_the_guesser(
    client: FlaskClient, app: Any, school: School
) -> None:
    for _ in range(5):
        assert _login(client, "13900000009", "guess-123", STRANGER).status_code == 401

    assert _login(client, "13900000009", PASSWORD, STRANGER).status_code == 429
    owner = app.test_client()
    assert _login(owner, "13900000009", PASSWORD, OWNER).status_code == 302


def test_the_owners_phone_logs_in_on_the_same_network_as_the_guesser(
    client: FlaskClient, app: Any, school: School
) -> None:
    owner = app.test_client()
    assert _login(owner, "teacher", PASSWORD, STRANGER).status_code == 302
    # Logged out, the phone keeps its device cookie.
    owner.post("/logout", data={"csrf_token": csrf_token(owner.get("/").get_data(as_text=True))})

    for _ in range(5):
        _login(client, "teacher", "guess-123", STRANGER)

    assert _login(client, "teacher", PASSWORD, STRANGER).status_code == 429
    assert _login(owner, "teacher", PASSWORD, STRANGER).status_code == 302


def test_an_admin_unlocks_a_login_and_sets_a_one_time_password_the_person_replaces(
    client: FlaskClient, app: Any, auth: Auth, session: Session, school: School
) -> None:
    teacher_id = _teacher_id(session)
    stranger = app.test_client()
    for _ in range(5):
        _login(stranger, "teacher", "guess-123")
    auth.login("admin")
    page = client.get(f"/admin/S1/people/{teacher_id}").get_data(as_text=True)
    assert "已因密码错误锁定" in page

    url = f"/admin/S1/people/{teacher_id}"
    assert _post(client, url, {"do": "unlock"}).status_code == 302
    assert _post(client, url, {"do": "password", "password": "tell-you-once"}).status_code == 302
    assert "已因密码错误锁定" not in client.get(url).get_data(as_text=True)

    teacher = app.test_client()
    response = _login(teacher, "teacher", "tell-you-once")
    assert response.headers["Location"].startswith("/password")
    assert teacher.get("/tasks").headers["Location"].startswith("/password")
    chosen = _post(teacher, "/password", {"new": "my-own-pass", "repeat": "my-own-pass"})
    assert chosen.status_code == 302
    assert teacher.get("/tasks").status_code == 200
    assert _login(app.test_client(), "teacher", "my-own-pass").status_code == 302
    assert _login(app.test_client(), "teacher", "tell-you-once").status_code == 401


def test_a_sign_in_code_is_shown_once_and_works_once(
    client: FlaskClient, app: Any, auth: Auth, session: Session, school: School
) -> None:
    teacher_id = _teacher_id(session)
    auth.login("admin")

    sheet = _post(client, f"/admin/S1/people/{teacher_id}", {"do": "code"})

    html = sheet.get_data(as_text=True)
    assert sheet.headers["Cache-Control"] == "no-store"
    code = re.search(r'<span class="code">([0-9A-Z]{8})</span>', html)
    assert code is not None
    teacher = app.test_client()
    response = _login(teacher, "teacher", code.group(1).lower())
    assert response.headers["Location"].startswith("/password")


def test_a_guess_checked_while_others_locked_the_login_is_answered_locked(
    client: FlaskClient,
    session: Session,
    clock: SettableClock,
    school: School,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checked = webapp.auth.check_login

    def check_then_others_lock(*args: Any, **kwargs: Any) -> Any:
        check = checked(*args, **kwargs)
        # Meanwhile five guesses from the same address, on other workers, lock the login.
        for _ in range(5):
            authenticate(
                session,
                "teacher",
                "guess-456",
                now=clock.now(),
                source=LoginSource(address=STRANGER["REMOTE_ADDR"]),
            )
        session.commit()
        return check

    monkeypatch.setattr(webapp.auth, "check_login", check_then_others_lock)

    answer = _login(client, "teacher", "guess-123", STRANGER)

    assert answer.status_code == 429
    assert "15 分钟后再试" in answer.get_data(as_text=True)


def test_the_sign_in_sheet_puts_the_colon_of_the_pages_language(
    client: FlaskClient, app: Flask, auth: Auth, session: Session, school: School
) -> None:
    url = f"/admin/S1/people/{_teacher_id(session)}"
    auth.login("admin")

    sheet = _post(client, url, {"do": "code"})
    chinese = sheet.get_data(as_text=True)
    client.set_cookie("houqin_lang", "en")
    english = _post(client, url, {"do": "code"}).get_data(as_text=True)

    assert sheet.mimetype == "text/html"  # a page to print, not its source
    assert "用户名：teacher" in chinese
    assert '登录码：<span class="code">' in chinese
    assert "Username: teacher" in english
    assert 'Sign-in code: <span class="code">' in english


def test_one_address_trying_many_logins_is_stopped_but_a_phone_that_logged_in_before_is_not(
    client: FlaskClient, app: Any, school: School, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(models.throttle, "ADDRESS_MAX_FAILURES", 8)  # 30 here: a faster test
    owner = app.test_client()
    assert _login(owner, "teacher", PASSWORD, STRANGER).status_code == 302  # the owner's phone
    owner.post("/logout", data={"csrf_token": csrf_token(owner.get("/").get_data(as_text=True))})

    # Password spraying: one try at each of 8 logins, most of which do not exist.
    answers = {
        _login(client, f"1390000{n:04d}", "12345678a", STRANGER).status_code for n in range(8)
    }
    unknown = _login(client, "13900009999", "12345678a", STRANGER)
    known = _login(client, "admin", PASSWORD, STRANGER)  # the right password, from that address

    assert answers == {401}
    assert unknown.status_code == known.status_code == 429
    assert "密码错误次数过多" in unknown.get_data(as_text=True)
    assert _login(app.test_client(), "admin", PASSWORD, OWNER).status_code == 302  # elsewhere
    assert _login(owner, "teacher", PASSWORD, STRANGER).status_code == 302  # its own phone


def test_a_flood_from_many_addresses_stops_new_phones_for_a_while_but_not_staff_phones(
    client: FlaskClient,
    app: Any,
    school: School,
    clock: SettableClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(models.throttle, "OVERALL_MAX_FAILURES", 12)  # 300 here: a faster test
    owner = app.test_client()
    assert _login(owner, "teacher", PASSWORD, OWNER).status_code == 302
    owner.post("/logout", data={"csrf_token": csrf_token(owner.get("/").get_data(as_text=True))})
    for n in range(12):  # two guesses each from six addresses
        _login(client, f"1380000{n:04d}", "guess-123", {"REMOTE_ADDR": f"10.1.{n % 6}.9"})

    refused = _login(app.test_client(), "admin", PASSWORD, {"REMOTE_ADDR": "192.0.2.44"})

    assert refused.status_code == 429
    assert _login(owner, "teacher", PASSWORD, OWNER).status_code == 302
    clock.advance(timedelta(minutes=16))
    assert (
        _login(app.test_client(), "admin", PASSWORD, {"REMOTE_ADDR": "192.0.2.44"}).status_code
        == 302
    )


@pytest.mark.parametrize(
    "common", ["12345678", "password1", "qwertyuiop", "88888888", "13900000009"]
)
def test_a_common_password_or_ones_own_phone_is_refused_next_to_the_field(
    client: FlaskClient, auth: Auth, session: Session, school: School, common: str
) -> None:
    auth.login("admin")

    set_by_admin = _post(
        client, f"/admin/S1/people/{_teacher_id(session)}", {"do": "password", "password": common}
    )

    assert set_by_admin.status_code == 422
    assert "这个密码太常见或太容易猜到" in set_by_admin.get_data(as_text=True)
