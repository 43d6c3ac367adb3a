"""A request commits its work unless an exception escaped its view, whatever the status."""

from __future__ import annotations

import pytest
from flask import Flask, abort
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from models.assets import AssetKind
from models.clock import SettableClock
from models.duties import CalendarEntry
from models.org import School
from models.people import Role
from tests.conftest import Auth, csrf_token
from tests.factories import make_asset, make_person, make_school
from webapp import db


def _schools(session: Session) -> int:
    """Schools now, read in a transaction of its own so the app is not kept waiting."""
    session.rollback()
    count = session.scalar(select(func.count()).select_from(School)) or 0
    session.rollback()
    return count


@pytest.fixture
def writing_app(app: Flask) -> Flask:
    """The app with a page that adds a school, then ends as it is told."""
    app.config.update(PROPAGATE_EXCEPTIONS=False, WTF_CSRF_ENABLED=False)

    @app.post("/test-write/<ending>")
    def write(ending: str) -> tuple[str, int]:
        make_school(db.session(), code="NEW")
        if ending == "abort":
            abort(404)
        if ending == "bug":
            raise RuntimeError("boom")
        if ending == "refused":
            return "shown again with what was refused", 422
        return "saved", 200

    return app


def test_a_page_that_answers_commits_what_it_wrote(
    writing_app: Flask, client: FlaskClient, session: Session
) -> None:
    assert client.post("/test-write/done").status_code == 200

    assert _schools(session) == 1


def test_a_form_shown_again_with_a_refusal_commits_what_the_refusal_kept(
    writing_app: Flask, client: FlaskClient, session: Session
) -> None:
    assert client.post("/test-write/refused").status_code == 422

    assert _schools(session) == 1


def test_an_aborted_request_commits_nothing_it_wrote(
    writing_app: Flask, client: FlaskClient, session: Session
) -> None:
    response = client.post("/test-write/abort")

    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)
    assert _schools(session) == 0


def test_a_bug_in_a_view_rolls_back_and_shows_the_translated_500_page(
    writing_app: Flask, client: FlaskClient, session: Session
) -> None:
    response = client.post("/test-write/bug")

    assert response.status_code == 500
    assert "出错了" in response.get_data(as_text=True)
    assert _schools(session) == 0


# --- refusals a page answers are committed, so they must have written nothing -------------


def _post(client: FlaskClient, url: str, data: dict[str, str]) -> TestResponse:
    page = client.get(url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token(page), **data})


def test_a_refused_asset_edit_leaves_the_asset_as_it_was(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车", seats=19)
    session.commit()
    auth.login("admin")

    response = _post(client, f"/admin/S1/assets/{bus.id}", {"name": "2号校车", "seats": "0"})

    assert response.status_code == 422
    session.expire_all()
    assert (bus.name, bus.attributes["seats"]) == ("1号校车", 19)


def test_an_administrator_refused_removing_their_own_role_keeps_it(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    session.commit()
    auth.login("admin")

    response = _post(
        client, f"/admin/S1/people/{admin.id}", {"do": "revoke", "role": "school_admin"}
    )

    assert response.status_code == 422
    session.expire_all()
    assert [grant.role for grant in admin.grants] == [Role.SCHOOL_ADMIN]


def test_a_refused_calendar_entry_is_not_kept(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.DISTRICT_ADMIN, "district")
    session.commit()
    auth.login("district")

    response = _post(
        client,
        "/schedules/S1/calendar",
        {"kind": "holiday", "starts_on": "2026-05-05", "ends_on": "2026-05-01", "name": "劳动节"},
    )

    assert response.status_code == 422
    session.rollback()
    assert session.scalar(select(func.count()).select_from(CalendarEntry)) == 0
    session.rollback()
