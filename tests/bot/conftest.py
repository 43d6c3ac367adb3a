"""The fake Telegram Bot API, a bot pointed at it over real HTTP, and what tests play on it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker
from telegram.ext import Application

from bot.app import build_application
from channels.telegram.pacing import RateLimits
from models.clock import SettableClock
from settings import Settings
from tests.fake_telegram import PACE, FakeTelegram, Limits

Scenario = Callable[[Application], Awaitable[None]]
RunBot = Callable[[Scenario], None]


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    server = FakeTelegram(limits=Limits().scaled(PACE)).start()
    yield server
    server.stop()


@pytest.fixture
def bot_settings(settings: Settings, fake: FakeTelegram) -> Settings:
    settings.telegram.token = fake.token
    settings.telegram.base_url = fake.base_url
    settings.telegram.base_file_url = fake.base_file_url
    return settings


@pytest.fixture
def run_bot(
    bot_settings: Settings, session_factory: sessionmaker[Session], clock: SettableClock
) -> RunBot:
    """Start the bot polling the fake server, play a scenario, stop the bot; each call is a
    new process's bot, with nothing in memory from the last."""

    async def play(scenario: Scenario) -> None:
        application = build_application(
            bot_settings, session_factory, clock=clock, limits=RateLimits(factor=PACE)
        )
        updater = application.updater
        assert updater is not None  # the builder makes one unless told not to
        async with application:
            await application.start()
            await updater.start_polling(poll_interval=0.0, timeout=1)
            try:
                await scenario(application)
            finally:
                await updater.stop()
                await application.stop()

    return lambda scenario: asyncio.run(play(scenario))


async def nth_reply(fake: FakeTelegram, chat_id: int, count: int) -> str:
    """The text of the count-th message the bot sent to a chat, waited for off the event loop
    the bot answers on."""

    def wait() -> str:
        sent = fake.wait_for(lambda s: len([m for m in s if m.chat_id == chat_id]) >= count)
        return [m for m in sent if m.chat_id == chat_id][count - 1].text

    return await asyncio.to_thread(wait)


async def no_wait(seconds: float) -> None:
    """A sender's backoff without the wait: a test does not sit out real time."""
