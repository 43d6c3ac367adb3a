"""Webhook mode: Telegram is told the address and the secret; a call without it gets 403."""

from __future__ import annotations

import asyncio
import json
import socket

import httpx
from sqlalchemy.orm import Session, sessionmaker

from bot.app import build_application, webhook_options
from channels.telegram.pacing import RateLimits
from models.clock import SettableClock
from settings import Settings
from tests.fake_telegram import PACE, FakeTelegram

SECRET = "s3cret-webhook-token_0123"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_webhook_is_registered_with_its_secret_and_refuses_calls_without_it(
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    fake: FakeTelegram,
    bot_settings: Settings,
) -> None:
    bot_settings.telegram.mode = "webhook"
    bot_settings.telegram.webhook_secret = SECRET
    bot_settings.telegram.webhook_port = _free_port()
    options = webhook_options(bot_settings)
    update = {
        "update_id": 1,
        "message": {
            "message_id": 5,
            "date": 0,
            "chat": {"id": 8001, "type": "private"},
            "from": {"id": 8001, "is_bot": False, "first_name": "U", "language_code": "en"},
            "text": "hello",
        },
    }
    address = f"http://127.0.0.1:{options['port']}/{options['url_path']}"

    async def main() -> tuple[int, int]:
        application = build_application(
            bot_settings, session_factory, clock=clock, limits=RateLimits(factor=PACE)
        )
        updater = application.updater
        assert updater is not None  # the builder makes one unless told not to
        async with application:
            await application.start()
            await updater.start_webhook(**options)
            try:
                async with httpx.AsyncClient() as client:
                    stranger = await client.post(
                        address,
                        content=json.dumps(update),
                        headers={"Content-Type": "application/json"},
                    )
                    telegram = await client.post(
                        address,
                        content=json.dumps(update),
                        headers={
                            "Content-Type": "application/json",
                            "X-Telegram-Bot-Api-Secret-Token": SECRET,
                        },
                    )
                await asyncio.to_thread(fake.wait_for, lambda sent: len(sent) >= 1)
            finally:
                await updater.stop()
                await application.stop()
        return stranger.status_code, telegram.status_code

    stranger, telegram = asyncio.run(main())

    assert fake.webhook["url"] == "http://houqin.test/telegram/webhook"
    assert fake.webhook["secret_token"] == SECRET
    assert (stranger, telegram) == (403, 200)
    [reply] = fake.sent
    assert reply.chat_id == 8001 and reply.text.startswith("This chat is not linked to Houqin.")
