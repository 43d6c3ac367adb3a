"""The header and footer, kept per language and kind of reader: each reader gets their own."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.people import Role
from tests.conftest import Auth
from tests.factories import make_person, make_school


def _header(app: Flask, login: str, lang: str) -> str:
    client = app.test_client()
    client.set_cookie("houqin_lang", lang)
    Auth(client).login(login)
    html = client.get("/inbox").get_data(as_text=True)
    return html[html.index("<header>") : html.index("</footer>")]


def test_each_reader_gets_the_links_of_their_kind_and_language_whoever_came_first(
    app: Flask, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    make_person(session, clock, school, Role.CANTEEN_STAFF, "cook")
    session.commit()

    admin_zh = _header(app, "admin", "zh_CN")
    cook_zh = _header(app, "cook", "zh_CN")
    cook_en = _header(app, "cook", "en")
    admin_en = _header(app, "admin", "en")
    anonymous = app.test_client().get("/login").get_data(as_text=True)

    assert 'href="/dashboard"' in admin_zh and 'href="/score"' in admin_zh
    assert 'href="/dashboard"' not in cook_zh and 'href="/score"' not in cook_zh
    assert "待办" in cook_zh and "通知设置" in cook_zh and "Tasks" not in cook_zh
    assert "Tasks" in cook_en and "Notification settings" in cook_en and "待办" not in cook_en
    assert "Dashboard" in admin_en and "Dashboard" not in cook_en
    assert 'href="/tasks"' not in anonymous and "Notification settings" not in anonymous
