"""Closing a corrective action from the chat: a note and a photo, as on the web."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.orm import Session
from telegram.ext import Application

from models.actions import ActionEvent, ActionStatus, CorrectiveAction, report_problem
from models.clock import SettableClock
from models.people import Role
from models.photos import PhotoStore
from tests.bot.conftest import RunBot, nth_reply
from tests.factories import jpeg_bytes, make_asset, make_chat, make_person, make_school
from tests.fake_telegram import FakeTelegram

CHAT = 7401


def test_the_assignee_closes_an_action_with_a_note_then_a_photo(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    run_bot: RunBot,
    store: PhotoStore,
) -> None:
    school = make_school(session)
    keeper = make_person(session, clock, school, Role.INSPECTOR, "keeper")
    asset = make_asset(session, clock, school, responsible=keeper)
    action = report_problem(
        session, keeper, asset, description="喷管开裂", photos=[], store=store, now=clock.now()
    )
    make_chat(session, keeper, CHAT, clock.now())
    session.commit()
    action_id = action.id

    async def scenario(application: Application) -> None:
        fake.user_says(CHAT, "/close")
        [which] = await asyncio.to_thread(fake.wait_for, lambda sent: len(sent) >= 1)
        assert which.text == "您整改了哪项任务？"
        [[button]] = which.params["reply_markup"]["inline_keyboard"]
        assert button == {
            "text": "MHQ-001 一楼东侧灭火器: 喷管开裂",
            "callback_data": f"close:{action_id}",
        }
        fake.user_presses(CHAT, which.message_id, button["callback_data"])
        assert (await nth_reply(fake, CHAT, 2)).endswith("请发消息说明做了什么。")
        fake.user_says(CHAT, "更换了喷管")
        assert await nth_reply(fake, CHAT, 3) == "请发送一张显示已整改的照片。"
        fake.user_sends_photo(CHAT, jpeg_bytes())
        assert await nth_reply(fake, CHAT, 4) == (
            "已关闭：MHQ-001 一楼东侧灭火器: 喷管开裂。谢谢！"
        )
        fake.user_says(CHAT, "/close")
        assert await nth_reply(fake, CHAT, 5) == "没有等待您关闭的整改任务。"

    run_bot(scenario)

    session.expire_all()
    closed = session.get_one(CorrectiveAction, action_id)
    assert closed.status == ActionStatus.CLOSED
    [event] = session.scalars(select(ActionEvent).where(ActionEvent.kind == "closed")).all()
    assert event.note == "更换了喷管" and event.photo_id is not None and event.by_id == keeper.id
    session.commit()
