"""/due, /alerts, /digest and /stats over real HTTP."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from telegram.ext import Application

from models.clock import SettableClock
from models.duties import Task
from models.notifications import Severity, notify
from models.people import Role
from models.sweep import sweep
from tests.bot.conftest import RunBot, nth_reply
from tests.factories import make_asset, make_chat, make_person, make_school
from tests.fake_telegram import FakeTelegram

ADMIN, STAFF = 7101, 7102


def test_due_alerts_digest_and_stats_for_an_administrator_and_a_member_of_staff(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    run_bot: RunBot,
) -> None:
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    staff = make_person(session, clock, school, Role.INSPECTOR, "staff")
    make_asset(session, clock, school, responsible=staff)
    for person, chat in ((admin, ADMIN), (staff, STAFF)):
        make_chat(session, person, chat, clock.now())
    sweep(session, now=clock.now())
    clock.set(clock.now() + timedelta(days=24))  # 26 March: the extinguisher check is overdue
    sweep(session, now=clock.now())
    [alert] = notify(
        session,
        [admin],
        message="%(bus)s: %(boarded)d children boarded but %(got_off)d got off. Check the bus now!",
        params={"bus": "1号校车", "boarded": 19, "got_off": 18},
        severity=Severity.CRITICAL,
        dedup_key="trip:1:mismatch",
        now=clock.now(),
    )
    session.commit()

    async def scenario(application: Application) -> None:
        fake.user_says(STAFF, "/due")
        due = await nth_reply(fake, STAFF, 1)
        assert due.startswith("到期和逾期的任务：\n⚠️ 灭火器月度检查 · MHQ-001")
        fake.user_says(STAFF, "/digest")
        assert await nth_reply(fake, STAFF, 2) == "只有管理员可以查看。"
        fake.user_says(ADMIN, "/alerts")
        alerts = await nth_reply(fake, ADMIN, 1)
        assert "1号校车" in alerts
        fake.user_says(ADMIN, "/digest")
        digest = await nth_reply(fake, ADMIN, 2)
        assert digest.startswith("实验小学今日概况：") and "逾期 1 项" in digest
        fake.user_says(ADMIN, "/stats")
        stats = await nth_reply(fake, ADMIN, 3)
        assert stats == "实验小学，近 30 天：没有完成或漏做的任务。"  # not "完成率 100%"

    run_bot(scenario)

    [alerts_message] = [m for m in fake.sent_to(ADMIN) if "1号校车" in m.text]
    [[button]] = alerts_message.params["reply_markup"]["inline_keyboard"]
    assert button["callback_data"] == f"ack:{alert.id}"


def test_a_district_administrator_reads_each_lines_school_and_every_alert_with_its_button(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    run_bot: RunBot,
) -> None:
    first = make_school(session)
    second = make_school(session, "S2", "二小", district=first.district)
    district = make_person(session, clock, first, Role.DISTRICT_ADMIN, "district")
    for school in (first, second):
        make_asset(session, clock, school)  # the same code at both schools
    make_chat(session, district, ADMIN, clock.now())
    sweep(session, now=clock.now())
    clock.set(clock.now() + timedelta(days=24))
    sweep(session, now=clock.now())
    task_at = {t.school_id: t.id for t in session.scalars(select(Task))}
    alerts = []
    for number in range(8):  # 8 alerts of 900 characters: more than one message holds
        school = (first, second)[number % 2]
        [alert] = notify(
            session,
            [district],
            message="Due soon: %(tasks)s",
            params={"tasks": f"警报{number}" + "很长" * 500},
            severity=Severity.MAJOR,
            dedup_key=f"test:long:{number}",
            now=clock.now(),
            task_ids=[task_at[school.id]],
        )
        alerts.append(alert.id)
    session.commit()

    async def scenario(application: Application) -> None:
        fake.user_says(ADMIN, "/due")
        due = await nth_reply(fake, ADMIN, 1)
        lines = due.splitlines()[1:]
        assert {line.split(" · ")[0].removeprefix("⚠️ ") for line in lines} == {"二小", "实验小学"}
        fake.user_says(ADMIN, "/alerts")
        await asyncio.to_thread(
            fake.wait_for,
            lambda s: (
                sum(
                    len(m.params.get("reply_markup", {}).get("inline_keyboard", []))
                    for m in s
                    if m.chat_id == ADMIN
                )
                >= 8
            ),
        )

    run_bot(scenario)

    listed = fake.sent_to(ADMIN)[1:]
    assert len(listed) > 1 and all(len(m.text) <= 4096 for m in listed)
    buttons = {}
    for message in listed:
        for [button] in message.params["reply_markup"]["inline_keyboard"]:
            number = button["text"].split()[-1]
            assert f"{number}. " in message.text  # the alert is in the message its button is under
            buttons[int(button["callback_data"].split(":")[1])] = message.text
    assert sorted(buttons) == sorted(alerts)
    assert "1. 二小 · 即将到期：警报7" in listed[0].text
    assert "实验小学 · 即将到期：警报6" in listed[0].text
