"""Linking Telegram from the web app."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from channels.telegram.chats import link_chat
from models.addresses import ChannelAccount
from models.clock import SettableClock
from models.linking import LinkCode
from models.people import Role
from tests.conftest import Auth, csrf_token
from tests.factories import make_person, make_school


def test_a_person_gets_a_one_time_code_with_a_t_me_link_and_can_unlink(
    app, client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    app.extensions["houqin.settings"].telegram.token = "123:abc"
    app.extensions["houqin.settings"].telegram.bot_username = "houqin_demo_bot"
    school = make_school(session)
    make_person(session, clock, school, Role.INSPECTOR, "staff")
    session.commit()
    auth.login("staff")

    page = client.get("/telegram").get_data(as_text=True)
    shown = client.post("/telegram/code", data={"csrf_token": csrf_token(page)})

    html = shown.get_data(as_text=True)
    found = re.search(r"/start ([A-Za-z0-9_-]+)</code>", html)
    assert found is not None
    code = found.group(1)
    assert f'href="https://t.me/houqin_demo_bot?start={code}"' in html
    assert "15 分钟内" in html
    stored = session.scalar(select(LinkCode))
    assert stored is not None and stored.code == code and len(code) >= 16
    link_chat(session, code, 555, now=clock.now())
    session.commit()

    linked = client.get("/telegram").get_data(as_text=True)
    assert "已绑定" in linked
    client.post("/telegram/unlink", data={"csrf_token": csrf_token(linked)})
    session.expire_all()
    assert session.scalar(select(ChannelAccount)) is None
    session.commit()


def test_without_a_bot_the_page_says_notices_are_in_the_inbox(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.INSPECTOR, "staff")
    session.commit()
    auth.login("staff")

    page = client.get("/telegram").get_data(as_text=True)

    assert "尚未设置 Telegram 机器人" in page
    assert "/telegram/code" not in page
