"""/report: pick the asset, describe the problem, add photos; a corrective action opens."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.orm import Session
from telegram.ext import Application

from models.actions import ActionEvent, CorrectiveAction
from models.clock import SettableClock
from models.linking import new_link_code
from models.notifications import Notification
from models.people import Role
from tests.bot.conftest import RunBot, nth_reply
from tests.factories import jpeg_bytes, make_asset, make_chat, make_person, make_school
from tests.fake_telegram import FakeTelegram

CHAT = 7201


def test_a_problem_reported_by_code_with_two_photos_opens_an_action_for_the_responsible(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    run_bot: RunBot,
) -> None:
    school = make_school(session)
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    keeper = make_person(session, clock, school, Role.INSPECTOR, "keeper")
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    make_asset(session, clock, school, responsible=keeper)
    make_chat(session, teacher, CHAT, clock.now())
    session.commit()

    async def scenario(application: Application) -> None:
        fake.user_says(CHAT, "/report")
        assert (await nth_reply(fake, CHAT, 1)).startswith("哪件设施？")
        fake.user_says(CHAT, "XYZ-9")
        assert "没有编号为 XYZ-9" in await nth_reply(fake, CHAT, 2)
        fake.user_says(CHAT, "mhq-001")
        assert "MHQ-001 一楼东侧灭火器" in await nth_reply(fake, CHAT, 3)
        fake.user_says(CHAT, "压力表指针在红区，瓶身有锈")
        await nth_reply(fake, CHAT, 4)
        fake.user_sends_photo(CHAT, jpeg_bytes((1200, 900)))
        assert await nth_reply(fake, CHAT, 5) == "已添加第 1 张照片。可继续发送，或发送 /done。"
        fake.user_sends_photo(CHAT, jpeg_bytes((900, 1200)))
        await nth_reply(fake, CHAT, 6)
        fake.user_says(CHAT, "/done")
        done = await nth_reply(fake, CHAT, 7)
        assert done.startswith("已上报：已为 MHQ-001 一楼东侧灭火器 建立整改任务")

    run_bot(scenario)

    session.expire_all()
    action = session.scalars(select(CorrectiveAction)).one()
    assert action.record_id is None and action.assignee_id == keeper.id
    assert action.what["zh_CN"] == "压力表指针在红区，瓶身有锈"
    events = session.scalars(select(ActionEvent).order_by(ActionEvent.id)).all()
    assert [e.kind for e in events] == ["opened", "photo"]
    assert all(e.photo_id for e in events)
    told = {n.recipient_id for n in session.scalars(select(Notification))}
    assert told == {keeper.id, admin.id}
    session.commit()


def test_a_long_description_and_a_photo_over_20_mb_are_answered_with_the_rules_words(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    run_bot: RunBot,
) -> None:
    school = make_school(session)
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    make_asset(session, clock, school, responsible=teacher)
    make_chat(session, teacher, CHAT, clock.now())
    session.commit()

    async def scenario(application: Application) -> None:
        fake.user_says(CHAT, "/report")
        await nth_reply(fake, CHAT, 1)
        fake.user_says(CHAT, "MHQ-001")
        await nth_reply(fake, CHAT, 2)
        fake.user_says(CHAT, "漏" * 1001)
        assert await nth_reply(fake, CHAT, 3) == "最多 1000 个字。"
        fake.user_says(CHAT, "喷管漏粉")
        await nth_reply(fake, CHAT, 4)
        fake.user_sends_photo(CHAT, b"\xff" * (20 * 1024 * 1024 + 1))
        assert await nth_reply(fake, CHAT, 5) == "照片超过 20 MB。"

    run_bot(scenario)


def _teacher_with_an_extinguisher(session: Session, clock: SettableClock) -> int:
    """A linked teacher who looks after MHQ-001; returns the asset's id."""
    school = make_school(session)
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    asset = make_asset(session, clock, school, responsible=teacher)
    make_chat(session, teacher, CHAT, clock.now())
    session.commit()
    return asset.id


def test_a_command_in_the_middle_of_a_report_is_answered_and_the_report_goes_on(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    run_bot: RunBot,
) -> None:
    _teacher_with_an_extinguisher(session, clock)

    async def scenario(application: Application) -> None:
        fake.user_says(CHAT, "/report")
        await nth_reply(fake, CHAT, 1)
        fake.user_says(CHAT, "MHQ-001")
        await nth_reply(fake, CHAT, 2)
        fake.user_says(CHAT, "/due")
        assert await nth_reply(fake, CHAT, 3) == "目前没有到期的任务，做得好！"
        fake.user_says(CHAT, "喷管开裂")
        assert (await nth_reply(fake, CHAT, 4)).startswith("如有可能请现在发送照片")
        fake.user_says(CHAT, "/done")
        done = await nth_reply(fake, CHAT, 5)
        assert done.startswith("已上报：已为 MHQ-001 一楼东侧灭火器 建立整改任务")

    run_bot(scenario)

    session.expire_all()
    action = session.scalars(select(CorrectiveAction)).one()
    assert action.what["zh_CN"] == "喷管开裂"
    session.commit()


def test_a_cancelled_report_files_nothing_and_what_follows_is_not_taken_for_it(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    run_bot: RunBot,
) -> None:
    asset_id = _teacher_with_an_extinguisher(session, clock)

    async def scenario(application: Application) -> None:
        fake.user_says(CHAT, "/report")
        which = await asyncio.to_thread(fake.wait_for, lambda sent: len(sent) >= 1)
        [[button]] = which[0].params["reply_markup"]["inline_keyboard"]
        assert button["callback_data"] == f"rasset:{asset_id}"
        fake.user_presses(CHAT, which[0].message_id, button["callback_data"])
        assert await nth_reply(fake, CHAT, 2) == (
            "MHQ-001 一楼东侧灭火器 出了什么问题？请发消息描述。"
        )
        fake.user_says(CHAT, "/cancel")
        assert await nth_reply(fake, CHAT, 3) == "已取消。"
        fake.user_says(CHAT, "喷管开裂")
        assert (await nth_reply(fake, CHAT, 4)).startswith("后勤系统会把您的提醒")
        fake.user_presses(CHAT, which[0].message_id, button["callback_data"])  # a stale button
        fake.user_says(CHAT, "/done")
        assert (await nth_reply(fake, CHAT, 5)).startswith("后勤系统会把您的提醒")

    run_bot(scenario)

    assert len(fake.sent_to(CHAT)) == 5
    assert session.scalar(select(CorrectiveAction)) is None


def test_linking_to_someone_else_ends_a_report_begun_for_the_person_before(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    run_bot: RunBot,
) -> None:
    _teacher_with_an_extinguisher(session, clock)
    other = make_person(session, clock, make_school(session, "S2", "二小"), Role.TEACHER, "other")
    code = new_link_code(session, other, now=clock.now()).code
    session.commit()

    async def scenario(application: Application) -> None:
        fake.user_says(CHAT, "/report")
        await nth_reply(fake, CHAT, 1)
        fake.user_says(CHAT, "MHQ-001")
        await nth_reply(fake, CHAT, 2)
        fake.user_says(CHAT, f"/start {code}")
        assert (await nth_reply(fake, CHAT, 3)).startswith("已绑定：Other。")
        fake.user_says(CHAT, "喷管开裂")
        assert (await nth_reply(fake, CHAT, 4)).startswith("后勤系统会把您的提醒")

    run_bot(scenario)

    assert session.scalar(select(CorrectiveAction)) is None


def test_a_district_administrator_chooses_the_school_then_the_asset_whose_code_repeats(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    run_bot: RunBot,
) -> None:
    first = make_school(session)
    second = make_school(session, "S2", "二小", district=first.district)
    district = make_person(session, clock, first, Role.DISTRICT_ADMIN, "district")
    make_asset(session, clock, first)
    there = make_asset(session, clock, second)  # MHQ-001 as well
    make_chat(session, district, CHAT, clock.now())
    session.commit()
    there_id, second_id = there.id, second.id

    async def scenario(application: Application) -> None:
        fake.user_says(CHAT, "/report")
        [which] = await asyncio.to_thread(fake.wait_for, lambda sent: len(sent) >= 1)
        assert which.text == "哪所学校？请选择，或发送学校编号："
        rows = which.params["reply_markup"]["inline_keyboard"]
        assert [b["text"] for row in rows for b in row] == ["S1 实验小学", "S2 二小"]
        fake.user_presses(CHAT, which.message_id, f"rschool:{second_id}")
        assert (await nth_reply(fake, CHAT, 2)).startswith("哪件设施？")
        fake.user_says(CHAT, "MHQ-001")
        assert "MHQ-001 一楼东侧灭火器" in await nth_reply(fake, CHAT, 3)
        fake.user_says(CHAT, "喷管开裂")
        await nth_reply(fake, CHAT, 4)
        fake.user_says(CHAT, "/done")
        assert (await nth_reply(fake, CHAT, 5)).startswith("已上报")

    run_bot(scenario)

    session.expire_all()
    action = session.scalars(select(CorrectiveAction)).one()
    assert action.asset_id == there_id
    session.commit()


def test_a_report_carries_on_after_the_bot_restarts_and_photo_captions_are_kept(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    run_bot: RunBot,
) -> None:
    _teacher_with_an_extinguisher(session, clock)

    async def before(application: Application) -> None:
        fake.user_says(CHAT, "/report")
        await nth_reply(fake, CHAT, 1)
        fake.user_says(CHAT, "MHQ-001")
        await nth_reply(fake, CHAT, 2)

    async def after(application: Application) -> None:
        fake.user_sends_photo(CHAT, jpeg_bytes(), caption="压力表指针在红区")
        assert await nth_reply(fake, CHAT, 3) == "已添加第 1 张照片。可继续发送，或发送 /done。"
        fake.user_sends_photo(CHAT, jpeg_bytes(), caption="漏" * 1000)
        assert await nth_reply(fake, CHAT, 4) == "最多 1000 个字。"
        fake.user_sends_photo(CHAT, jpeg_bytes(), caption="瓶身有锈")
        await nth_reply(fake, CHAT, 5)
        fake.user_says(CHAT, "/done")
        assert (await nth_reply(fake, CHAT, 6)).startswith("已上报")

    run_bot(before)
    run_bot(after)  # a new process: nothing in memory

    session.expire_all()
    action = session.scalars(select(CorrectiveAction)).one()
    assert action.what["zh_CN"] == "压力表指针在红区\n瓶身有锈"
    events = session.scalars(select(ActionEvent).order_by(ActionEvent.id)).all()
    assert [e.kind for e in events] == ["opened", "photo"]
    session.commit()
