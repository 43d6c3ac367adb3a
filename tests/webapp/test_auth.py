"""Logging in: safe redirects, a lock after repeated wrong passwords."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urljoin, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models.clock import SettableClock
from tests.conftest import Auth, csrf_token
from tests.factories import PASSWORD, make_person, make_school


def _post_login(client: FlaskClient, login: str, password: str, next_url: str = ""):
    page = client.get("/login").get_data(as_text=True)
    return client.post(
        "/login",
        data={
            "csrf_token": csrf_token(page),
            "login": login,
            "password": password,
            "next": next_url,
        },
    )


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "/\t/evil.example",
        "/%09/evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/ /evil.example",
    ],
)
def test_a_crafted_next_never_leaves_the_site(
    client: FlaskClient, session: Session, clock: SettableClock, target: str
) -> None:
    make_person(session, clock, make_school(session))
    session.commit()

    response = _post_login(client, "inspector", PASSWORD, target)
    again = client.get("/login", query_string={"next": target})

    for location in (response.headers["Location"], again.headers["Location"]):
        # What a browser does with it: strip tabs and newlines, then resolve against the site.
        resolved = urljoin("https://houqin.test/login", re.sub(r"[\t\n\r]", "", location))
        assert urlsplit(resolved).netloc == "houqin.test"


def test_a_wrong_password_says_so_next_to_the_field(
    client: FlaskClient, session: Session, clock: SettableClock
) -> None:
    make_person(session, clock, make_school(session))
    session.commit()

    response = _post_login(client, "inspector", "not-the-password")

    html = response.get_data(as_text=True)
    assert response.status_code == 401
    assert "手机号、用户名或密码错误" in html.split('id="password"')[1]


def test_five_wrong_passwords_lock_the_login_for_fifteen_minutes(
    client: FlaskClient, session: Session, clock: SettableClock
) -> None:
    make_person(session, clock, make_school(session))
    session.commit()
    for _ in range(5):
        assert _post_login(client, "inspector", "guess-123").status_code == 401

    locked = _post_login(client, "inspector", PASSWORD)
    assert locked.status_code == 429
    assert "15 分钟后再试" in locked.get_data(as_text=True)

    clock.advance(timedelta(minutes=15, seconds=1))
    assert _post_login(client, "inspector", PASSWORD).status_code == 302


def test_the_login_page_promises_the_configured_stay(client: FlaskClient, auth: Auth) -> None:
    assert "90 天内保持登录" in client.get("/login").get_data(as_text=True)
