"""One error handler: a handler that fails is logged, rolled back, and answered politely."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker
from telegram.ext import Application

from channels.telegram.sender import OutboxSender
from models.clock import SettableClock
from models.notifications import Severity, notify
from models.people import Person, Role, set_locale
from tests.bot.conftest import RunBot, no_wait, nth_reply
from tests.factories import make_chat, make_person, make_school
from tests.fake_telegram import FakeTelegram

CHAT = 7301


def _switches_then_fails(person: Person, wanted: str | None = None) -> str:
    """/lang's rule, as if the database gave way after the change was made."""
    set_locale(person, wanted)
    raise RuntimeError("the database went away")


@pytest.mark.parametrize(
    ("locale", "apology"),
    [
        ("en", "Something went wrong and nothing was saved. Please try again."),
        ("zh_CN", "出错了，本次未保存任何内容。请重试。"),
    ],
)
def test_a_failing_command_is_logged_answered_in_the_persons_language_and_saves_nothing(
    session: Session,
    clock: SettableClock,
    fake: FakeTelegram,
    run_bot: RunBot,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    locale: str,
    apology: str,
) -> None:
    school = make_school(session)
    staff = make_person(session, clock, school, Role.INSPECTOR, "staff")
    staff.locale = locale
    make_chat(session, staff, CHAT, clock.now())
    session.commit()
    monkeypatch.setattr("bot.linking.set_locale", _switches_then_fails)

    async def scenario(application: Application) -> None:
        fake.user_says(CHAT, "/lang", language="en" if locale == "zh_CN" else "zh-hans")
        assert await nth_reply(fake, CHAT, 1) == apology

    with caplog.at_level(logging.ERROR, logger="bot.errors"):
        run_bot(scenario)

    [logged] = [r for r in caplog.records if r.name == "bot.errors"]
    assert logged.levelno == logging.ERROR and logged.exc_info is not None
    assert "the database went away" in caplog.text  # the traceback, not just a line
    session.expire_all()
    assert session.get_one(Person, staff.id).locale == locale
    assert len(fake.sent_to(CHAT)) == 1


def test_an_outage_of_telegram_is_one_line_in_the_log_and_its_end_another(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    fake: FakeTelegram,
    run_bot: RunBot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    school = make_school(session)
    staff = make_person(session, clock, school, Role.INSPECTOR, "staff")
    make_chat(session, staff, CHAT, clock.now())
    notify(
        session,
        [staff],
        message="Due soon: %(tasks)s",
        params={"tasks": "…"},
        severity=Severity.INFO,
        dedup_key="test:outage",
        now=clock.now(),
    )
    session.commit()

    def logged(words: str) -> Callable[[], bool]:
        return lambda: any(words in r.getMessage() for r in caplog.records)

    async def until(condition: Callable[[], bool]) -> None:
        """Wait for the condition, looking again each time the loop turns (at most 10 s)."""
        deadline = asyncio.get_running_loop().time() + 10
        while not condition():
            assert asyncio.get_running_loop().time() < deadline, caplog.text
            await asyncio.sleep(0.05)

    async def scenario(application: Application) -> None:
        fake.down = True
        await until(logged("cannot be reached"))
        sender = OutboxSender(application.bot, session_factory, clock, max_tries=3, sleep=no_wait)
        assert await sender.drain() == 0  # three tries, each failing
        fake.down = False
        await until(logged("reachable again"))
        clock.advance(timedelta(minutes=1))  # the notice's next try is due
        assert await sender.drain() == 1

    with caplog.at_level(logging.DEBUG):
        run_bot(scenario)

    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.name for r in loud] == ["channels.telegram.outage"] * 2
    assert not [r for r in caplog.records if r.exc_info and r.levelno >= logging.INFO]
    assert len(fake.sent_to(CHAT)) == 1
