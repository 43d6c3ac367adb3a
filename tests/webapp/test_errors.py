"""Error pages speak the person's language, even when the request's own database work failed."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.people import Role
from tests.conftest import Auth
from tests.factories import make_person, make_school


@pytest.fixture
def failing_app(app: Flask) -> Flask:
    """The app with a page that breaks, as an unexpected bug or a refused commit does."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/test-boom")
    def boom() -> str:
        raise RuntimeError("boom")

    return app


def test_an_unexpected_error_is_a_page_in_chinese(
    failing_app: Flask, client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    make_person(session, clock, make_school(session), Role.TEACHER, "teacher")
    session.commit()
    auth.login("teacher")

    response = client.get("/test-boom")

    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "出错了" in page and "Internal Server Error" not in page


def test_the_error_page_still_speaks_chinese_when_its_layout_cannot_be_drawn(
    failing_app: Flask, client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    make_person(session, clock, make_school(session), Role.TEACHER, "teacher")
    session.commit()
    auth.login("teacher")

    def locked() -> int:
        raise RuntimeError("database is locked")

    failing_app.jinja_env.globals["unread_notices"] = locked

    response = client.get("/test-boom")

    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "出错了" in page
    assert "Internal Server Error" not in page


def test_a_missing_page_says_so_and_only_an_unknown_label_speaks_of_labels(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    make_person(session, clock, make_school(session), Role.TEACHER, "teacher")
    session.commit()
    auth.login("teacher")

    page = client.get("/ledger/XX99")
    label = client.get("/s/not-a-token")

    assert page.status_code == 404 and label.status_code == 404
    assert "此页面不存在" in page.get_data(as_text=True)
    assert "标签" not in page.get_data(as_text=True).split("<main")[1]
    assert "此标签不存在" in label.get_data(as_text=True)
