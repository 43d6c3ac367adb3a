"""The bot's /due and the web's task list show a person the same tasks: those in their care,
or all at the schools an administrator administers."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from sqlalchemy.orm import Session
from telegram.ext import Application

from models.clock import SettableClock
from models.org import District
from models.people import Role
from models.sweep import sweep
from tests.bot.conftest import RunBot, nth_reply
from tests.conftest import Auth
from tests.factories import make_asset, make_chat, make_person, make_school
from tests.fake_telegram import FakeTelegram

CHATS = {"teacher": 7401, "school_admin": 7402, "district_admin": 7403}


def _web_overdue(app: Flask, username: str, everything: bool) -> set[str]:
    client = app.test_client()
    Auth(client).login(username)
    page = client.get("/tasks?all=1" if everything else "/tasks").get_data(as_text=True)
    items = page.split("<li>")[1:]
    return {re.findall(r"(MHQ-\d+) ", item)[0] for item in items if "badge fail" in item}


def test_the_bot_and_the_web_show_each_person_the_same_tasks(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    run_bot: RunBot,
    app: Flask,
) -> None:
    district = District(code="D", name="示范区")
    first = make_school(session, "S1", district=district)
    second = make_school(session, "S2", "第二小学", district=district)
    teacher = make_person(session, clock, first, Role.INSPECTOR, "teacher")
    school_admin = make_person(session, clock, first, Role.SCHOOL_ADMIN, "school_admin")
    district_admin = make_person(session, clock, first, Role.DISTRICT_ADMIN, "district_admin")
    colleague = make_person(session, clock, second, Role.INSPECTOR, "colleague")
    make_asset(session, clock, first, code="MHQ-001", responsible=teacher)
    make_asset(session, clock, first, code="MHQ-002", responsible=school_admin)
    make_asset(session, clock, second, code="MHQ-003", responsible=colleague)
    for person in (teacher, school_admin, district_admin):
        chat = CHATS[person.username]
        make_chat(session, person, chat, clock.now())
    sweep(session, now=clock.now())
    clock.set(clock.now() + timedelta(days=24))  # every extinguisher check is overdue
    session.commit()
    on_the_bot: dict[str, set[str]] = {}

    async def scenario(application: Application) -> None:
        for username, chat in CHATS.items():
            fake.user_says(chat, "/due")
            reply = await nth_reply(fake, chat, 1)
            on_the_bot[username] = set(re.findall(r"· (MHQ-\d+) ", reply))

    run_bot(scenario)

    expected = {
        # MHQ-002's keeper is the head, standing in: the school's inspector is shown it too.
        "teacher": {"MHQ-001", "MHQ-002"},
        "school_admin": {"MHQ-001", "MHQ-002"},
        "district_admin": {"MHQ-001", "MHQ-002", "MHQ-003"},
    }
    assert on_the_bot == expected
    for username, codes in expected.items():
        assert _web_overdue(app, username, everything=username != "teacher") == codes
