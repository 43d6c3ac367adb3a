"""The bot over real HTTP against the fake Bot API: linking, languages, strangers."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from telegram.ext import Application

from bot.linking import COMMANDS
from models.addresses import ChannelAccount
from models.clock import SettableClock
from models.linking import new_link_code
from models.people import Role
from tests.bot.conftest import RunBot, nth_reply
from tests.factories import make_chat, make_person, make_school
from tests.fake_telegram import FakeTelegram

CHAT = 7001


def test_a_person_links_with_the_one_time_code_and_unlinks_with_stop(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    run_bot: RunBot,
) -> None:
    school = make_school(session)
    staff = make_person(session, clock, school, Role.INSPECTOR, "staff")
    code = new_link_code(session, staff, now=clock.now()).code
    session.commit()

    async def scenario(application: Application) -> None:
        fake.user_says(CHAT, f"/start {code}")
        reply = await nth_reply(fake, CHAT, 1)
        assert reply.startswith("已绑定：Staff。")
        fake.user_says(CHAT, "/lang")
        assert await nth_reply(fake, CHAT, 2) == "Houqin will write to you in English."
        fake.user_says(CHAT, f"/start {code}")  # the code works once
        assert "not valid any more" in await nth_reply(fake, CHAT, 3)
        fake.user_says(CHAT, "/stop")
        assert await nth_reply(fake, CHAT, 4) == (
            "This chat is unlinked: Houqin sends nothing here any more."
        )

    run_bot(scenario)

    session.expire_all()
    assert session.scalar(select(ChannelAccount)) is None
    assert staff.locale == "en"


def test_a_stranger_gets_a_polite_explanation_and_nothing_else(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    run_bot: RunBot,
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.INSPECTOR, "staff")
    session.commit()

    async def scenario(application: Application) -> None:
        fake.user_says(CHAT, "MHQ-001")
        fake.user_says(CHAT + 1, "/start not-a-code", language="en")
        first = await nth_reply(fake, CHAT, 1)
        second = await nth_reply(fake, CHAT + 1, 1)
        assert first.startswith("此聊天尚未绑定后勤系统")
        assert second == "This code is not valid any more. Open Houqin and get a new one."

    run_bot(scenario)

    texts = " ".join(m.text for m in fake.sent)
    assert "实验小学" not in texts and "Staff" not in texts
    assert len(fake.sent) == 2


def test_an_expired_code_does_not_link(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    run_bot: RunBot,
) -> None:
    from datetime import timedelta

    school = make_school(session)
    staff = make_person(session, clock, school, Role.INSPECTOR, "staff")
    code = new_link_code(session, staff, now=clock.now()).code
    session.commit()
    clock.advance(timedelta(minutes=15))

    async def scenario(application: Application) -> None:
        fake.user_says(CHAT, f"/start {code}")
        assert "已失效" in await nth_reply(fake, CHAT, 1)

    run_bot(scenario)

    assert session.scalar(select(ChannelAccount)) is None


def test_a_group_cannot_be_linked_so_its_members_never_see_a_persons_data(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    run_bot: RunBot,
) -> None:
    school = make_school(session)
    staff = make_person(session, clock, school, Role.INSPECTOR, "staff")
    code = new_link_code(session, staff, now=clock.now()).code
    session.commit()

    async def scenario(application: Application) -> None:
        fake.user_says(-100123, f"/start {code}", chat_type="group")
        reply = await nth_reply(fake, -100123, 1)
        assert reply == "请在与机器人的私聊中绑定，不要在群里绑定。"

    run_bot(scenario)

    assert session.scalar(select(ChannelAccount)) is None


def test_a_bare_code_links_help_lists_every_command_and_the_menu_is_set_in_both_languages(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    run_bot: RunBot,
) -> None:
    school = make_school(session)
    staff = make_person(session, clock, school, Role.INSPECTOR, "staff")
    code = new_link_code(session, staff, now=clock.now()).code
    session.commit()

    async def scenario(application: Application) -> None:
        assert application.post_init is not None and application.post_shutdown is not None
        await application.post_init(application)  # what run_polling does at start-up
        try:
            await chat(application)
        finally:
            await application.post_shutdown(application)

    async def chat(application: Application) -> None:
        fake.user_says(CHAT, code)  # as the help text says: the code alone
        assert (await nth_reply(fake, CHAT, 1)).startswith("已绑定：Staff。")
        fake.user_says(CHAT, "/help")
        help_text = await nth_reply(fake, CHAT, 2)
        for command, _ in COMMANDS:
            assert f"/{command}" in help_text
        fake.user_edits(CHAT, 1, "/stop")  # an edit does not unlink
        fake.user_says(CHAT, "/lang")
        assert await nth_reply(fake, CHAT, 3) == "Houqin will write to you in English."

    run_bot(scenario)

    menus = {p.get("language_code"): p["commands"] for m, p in fake.calls if m == "setMyCommands"}
    assert set(menus) == {"zh", "en", None}
    assert menus["zh"][0] == {"command": "due", "description": "到期和逾期的任务"}
    assert menus["en"][0] == {"command": "due", "description": "What is due and overdue"}
    assert menus[None] == menus["zh"]  # the district's default language, Chinese here
    session.expire_all()
    assert session.scalar(select(ChannelAccount)) is not None
    assert len(fake.sent_to(CHAT)) == 3


def test_a_malformed_or_huge_button_is_answered_politely_and_nothing_fails(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    run_bot: RunBot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    school = make_school(session)
    staff = make_person(session, clock, school, Role.INSPECTOR, "staff")
    make_chat(session, staff, CHAT, clock.now())
    session.commit()
    pressed = ["ack:" + "9" * 60, "snooze:-1", "photo:x", "close:99999999999", "report:", "zz"]

    async def scenario(application: Application) -> None:
        for data in pressed:
            fake.user_presses(CHAT, 1, data)
        await asyncio.to_thread(
            fake.wait_for,
            lambda s: len([c for c, _ in fake.calls if c == "answerCallbackQuery"]) >= 6,
        )

    with caplog.at_level(logging.ERROR):
        run_bot(scenario)

    answers = [p for c, p in fake.calls if c == "answerCallbackQuery"]
    assert len(answers) == len(pressed)
    assert all(p.get("text") for p in answers[:4])
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not [m for m in fake.sent if "出错了" in m.text]
