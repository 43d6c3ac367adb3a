"""The bot's process: python-telegram-bot's Application, its routes, and the outbox sender.

Handlers live in modules by concept (linking, evidence, reports, notices, overview) and are
routed in bot/routes.py; each update's database work is one unit of work (bot/door.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from telegram.ext import Application, ApplicationBuilder

from bot.door import Door
from bot.linking import set_command_menu
from bot.persistence import DatabasePersistence
from bot.routes import add_handlers
from channels.telegram.outage import Outage, WatchedRequest, quiet_library_logs
from channels.telegram.pacing import Pacing, RateLimits
from channels.telegram.sender import CONNECTIONS
from channels.telegram.sender import sender as outbox_sender
from models.clock import Clock, SystemClock
from settings import Settings

log = logging.getLogger(__name__)


def webhook_options(settings: Settings) -> dict[str, Any]:
    """Where the bot listens for Telegram's calls and the address Telegram is given."""
    telegram = settings.telegram
    path = telegram.webhook_path.strip("/")
    return {
        "listen": telegram.webhook_listen,
        "port": telegram.webhook_port,
        "url_path": path,
        "webhook_url": f"{settings.server.base_url.rstrip('/')}/{path}",
        "secret_token": telegram.webhook_secret,
    }


def run(settings: Settings, application: Application, *, in_thread: bool = False) -> None:
    """Run until stopped: long polling, or a webhook whose secret is checked on every call."""
    options: dict[str, Any] = {"stop_signals": None} if in_thread else {}
    if settings.telegram.mode == "webhook":
        application.run_webhook(**webhook_options(settings), **options)
    else:
        application.run_polling(**options)


def build_application(
    settings: Settings,
    factory: sessionmaker[Session],
    *,
    clock: Clock | None = None,
    limits: RateLimits | None = None,
    send_every: float = 5.0,
) -> Application:
    """The bot and its outbox sender, not started; Telegram's address comes from the config."""
    clock = clock or SystemClock()
    telegram = settings.telegram
    sender: dict[str, asyncio.Task[None]] = {}
    outage = Outage()  # one line in the log when Telegram goes, one when it is back
    quiet_library_logs()

    async def deliver_forever(application: Application) -> None:
        outbox = outbox_sender(application.bot, settings, factory, clock)
        while True:
            try:
                await outbox.drain()
            except Exception:
                log.exception("delivering the outbox failed; trying again")
            await asyncio.sleep(send_every)

    async def post_init(application: Application) -> None:
        await set_command_menu(application.bot, settings.i18n.default_locale)
        sender["task"] = asyncio.create_task(deliver_forever(application))

    async def post_shutdown(application: Application) -> None:
        task = sender.get("task")
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    application = (
        ApplicationBuilder()
        .token(telegram.token)
        .base_url(telegram.base_url)
        .base_file_url(telegram.base_file_url)
        .rate_limiter(Pacing(limits or RateLimits()))
        .request(WatchedRequest(outage, connection_pool_size=CONNECTIONS))
        .get_updates_request(WatchedRequest(outage, connection_pool_size=1))
        .persistence(DatabasePersistence(factory, clock))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    application.bot_data["door"] = Door.of(settings, factory, clock)
    application.bot_data["outage"] = outage
    add_handlers(application)
    return application
