"""An administrator sets a person's WeCom user id on the person's page."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.addresses import ChannelAccount
from models.clock import SettableClock
from models.people import Person, Role
from settings import Settings
from tests.conftest import Auth, csrf_token
from tests.factories import make_person, make_school


@pytest.fixture
def settings(settings: Settings) -> Settings:
    settings.wecom.corp_id, settings.wecom.agent_id, settings.wecom.secret = "corp", 1000002, "s"
    return settings


@pytest.fixture
def app(app: Flask) -> Flask:
    from webapp import admin

    if "admin" not in app.blueprints:
        app.register_blueprint(admin.bp)
    return app


def _setup(session: Session, clock: SettableClock, client: FlaskClient, auth: Auth) -> Person:
    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    session.commit()
    auth.login("admin")
    page = client.get("/").get_data(as_text=True)
    client.post("/language", data={"csrf_token": csrf_token(page), "lang": "en", "next": "/"})
    return teacher


def _save(client: FlaskClient, url: str, address: str) -> tuple[int, str]:
    page = client.get(url).get_data(as_text=True)
    response = client.post(
        url, data={"csrf_token": csrf_token(page), "do": "wecom", "address": address}
    )
    return response.status_code, client.get(url).get_data(as_text=True)


def test_the_wecom_user_id_is_validated_and_kept_as_the_persons_address(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    teacher = _setup(session, clock, client, auth)
    url = f"/admin/S1/people/{teacher.id}"
    page = client.get(url).get_data(as_text=True)
    response = client.post(
        url, data={"csrf_token": csrf_token(page), "do": "wecom", "address": "Zhang San!"}
    )
    assert response.status_code == 422
    assert "A WeCom user id is 1 to 64 letters, digits and _ - . @" in response.get_data(
        as_text=True
    )
    status, page = _save(client, url, " ZhangSan ")
    assert status == 302
    assert 'value="ZhangSan"' in page
    session.expire_all()
    assert session.scalars(
        select(ChannelAccount.address).where(ChannelAccount.person_id == teacher.id)
    ).all() == ["ZhangSan"]
    session.rollback()  # the test's read ends before the next request writes
    status, page = _save(client, url, "")
    assert status == 302
    session.expire_all()
    assert session.scalar(select(ChannelAccount).where(ChannelAccount.channel == "wecom")) is None
