"""One pacing for every call the bot makes: replies, edits and the outbox together stay within
Telegram's limits, which the fake enforces (scaled by PACE, as the bot's pacing is)."""

from __future__ import annotations

import asyncio
import itertools

from sqlalchemy.orm import Session, sessionmaker
from telegram.ext import Application

from channels.telegram.sender import OutboxSender
from models.clock import SettableClock
from models.notifications import Severity, notify
from models.people import Role
from tests.bot.conftest import RunBot
from tests.factories import make_chat, make_person, make_school
from tests.fake_telegram import PACE, FakeTelegram

STAFF = 7301
INTERVAL = 1 / PACE  # the fake's per-chat window, scaled


def _replies(fake: FakeTelegram, chat_id: int, count: int) -> list[float]:
    sent = fake.wait_for(lambda s: len([m for m in s if m.chat_id == chat_id]) >= count)
    return [m.at for m in sent if m.chat_id == chat_id]


def test_six_quick_commands_from_one_person_are_all_answered_within_the_chat_limit(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    run_bot: RunBot,
) -> None:
    school = make_school(session)
    staff = make_person(session, clock, school, Role.INSPECTOR, "staff")
    make_chat(session, staff, STAFF, clock.now())
    session.commit()

    async def scenario(application: Application) -> None:
        for _ in range(6):
            fake.user_says(STAFF, "/due")
        times = await asyncio.to_thread(_replies, fake, STAFF, 6)
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        assert min(gaps) >= INTERVAL

    run_bot(scenario)

    assert [status for _, status, _ in fake.refused] == []


def test_commands_typed_during_a_delivery_burst_keep_every_call_within_the_limits(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    fake: FakeTelegram,
    run_bot: RunBot,
) -> None:
    school = make_school(session)
    people = [
        make_person(session, clock, school, Role.INSPECTOR, f"staff{n:02}") for n in range(30)
    ]
    for number, person in enumerate(people):
        make_chat(session, person, 8000 + number, clock.now())
    for round_ in range(4):
        notify(
            session,
            people,
            message="Due soon: %(tasks)s",
            params={"tasks": {"zh_CN": f"第 {round_} 条", "en": f"number {round_}"}},
            severity=Severity.INFO,
            dedup_key=f"burst:{round_}",
            now=clock.now(),
        )
    session.commit()

    async def scenario(application: Application) -> None:
        # The outbox drains through the bot's own paced client while ten people type.
        outbox = OutboxSender(application.bot, session_factory, clock)
        delivery = asyncio.create_task(outbox.drain())
        for number in range(0, 30, 3):
            fake.user_says(8000 + number, "/due")
            fake.user_says(8000 + number, "/help")
        assert await delivery == 120
        await asyncio.to_thread(
            fake.wait_for, lambda sent: len([m for m in sent if m.method == "sendMessage"]) >= 140
        )

    run_bot(scenario)

    assert [status for _, status, _ in fake.refused] == []
    for number in range(30):
        notices = [m.text for m in fake.sent_to(8000 + number) if "第" in m.text]
        assert [text.split("第 ")[1][0] for text in notices] == ["0", "1", "2", "3"]
