"""The bot: python-telegram-bot's Application, its commands, and the outbox sender beside it.

Every update gets its own database session, committed when the handler's work is done; the
database work runs in a thread so the bot keeps answering. A chat that is not linked to a
person gets a polite explanation and nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker
from telegram import Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.outbox import CONNECTIONS, OutboxSender, RateLimits
from houqin.config import Settings
from models.catalogue import translate
from models.chats import LinkRefused, link_chat, person_for_chat, unlink_chat
from models.clock import Clock, SystemClock
from models.db import unit_of_work
from models.messages import N_
from models.people import Person

log = logging.getLogger(__name__)
T = TypeVar("T")

NOT_LINKED = N_(
    "This chat is not linked to Houqin. Open Houqin on your phone, choose “Link Telegram”, "
    "and send the code it shows here."
)
LINKED = N_(
    "Linked to %(name)s. Houqin's reminders and alerts will come here. "
    "/lang changes the language, /stop unlinks this chat."
)
UNLINKED = N_("This chat is unlinked: Houqin sends nothing here any more.")
LANGUAGE_SET = N_("Houqin will write to you in English.")
HELP = N_("Houqin sends your reminders and alerts here. /lang changes the language, /stop unlinks.")


class HouqinBot:
    """What the handlers need: the database, the clock and the settings."""

    def __init__(self, settings: Settings, factory: sessionmaker[Session], clock: Clock) -> None:
        self.settings = settings
        self.factory = factory
        self.clock = clock

    async def run_db(self, work: Callable[[Session], T]) -> T:
        """One unit of work for one update, in a thread: committed, or rolled back on error."""

        def run() -> T:
            with unit_of_work(self.factory) as session:
                return work(session)

        return await asyncio.to_thread(run)

    @staticmethod
    def locale_of(person: Person | None, update: Update) -> str:
        if person is not None and person.locale:
            return person.locale
        user = update.effective_user
        language = (user.language_code or "") if user else ""
        return "en" if language and not language.startswith("zh") else "zh_CN"

    async def reply(self, update: Update, locale: str, msgid: str, **params: Any) -> None:
        if update.effective_chat is not None:
            await update.effective_chat.send_message(translate(locale, msgid, **params))

    # --- commands ------------------------------------------------------------------------------

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        code = context.args[0] if context.args else ""

        def link(session: Session) -> tuple[str, str, str]:
            if not code:
                person = person_for_chat(session, chat.id)
                if person is not None:
                    return self.locale_of(person, update), HELP, ""
                return self.locale_of(None, update), NOT_LINKED, ""
            try:
                person = link_chat(session, code, chat.id, now=self.clock.now())
            except LinkRefused as refused:
                already = person_for_chat(session, chat.id)
                return self.locale_of(already, update), refused.message.msgid, ""
            return self.locale_of(person, update), LINKED, person.display_name

        locale, msgid, name = await self.run_db(link)
        await self.reply(update, locale, msgid, **({"name": name} if name else {}))

    async def stop(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is None:
            return

        def unlink(session: Session) -> str | None:
            person = unlink_chat(session, chat.id)
            return self.locale_of(person, update) if person is not None else None

        locale = await self.run_db(unlink)
        if locale is None:
            await self.reply(update, self.locale_of(None, update), NOT_LINKED)
        else:
            await self.reply(update, locale, UNLINKED)

    async def language(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        wanted = (context.args[0].lower() if context.args else "").replace("-", "_")

        def switch(session: Session) -> str | None:
            person = person_for_chat(session, chat.id)
            if person is None:
                return None
            if wanted.startswith("en"):
                person.locale = "en"
            elif wanted.startswith("zh"):
                person.locale = "zh_CN"
            else:
                person.locale = "en" if (person.locale or "zh_CN") == "zh_CN" else "zh_CN"
            return person.locale

        locale = await self.run_db(switch)
        if locale is None:
            await self.reply(update, self.locale_of(None, update), NOT_LINKED)
        else:
            await self.reply(update, locale, LANGUAGE_SET)

    async def anything_else(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        person = await self.run_db(lambda session: person_for_chat(session, chat.id))
        if person is None:
            await self.reply(update, self.locale_of(None, update), NOT_LINKED)
        else:
            await self.reply(update, self.locale_of(person, update), HELP)


def _rate_limiter(limits: RateLimits) -> AIORateLimiter:
    """Every call the bot makes, replies included, within the overall and group limits; a
    429 is waited out and tried again."""
    return AIORateLimiter(
        overall_max_rate=limits.overall_per_second * limits.factor,
        group_max_rate=limits.per_group_per_minute * limits.factor,
        max_retries=3,
    )


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
    houqin = HouqinBot(settings, factory, clock)
    sender: dict[str, asyncio.Task[None]] = {}

    async def deliver_forever(application: Application) -> None:
        outbox = OutboxSender(application.bot, factory, clock, limits)
        while True:
            try:
                await outbox.drain()
            except Exception:
                log.exception("delivering the outbox failed; trying again")
            await asyncio.sleep(send_every)

    async def post_init(application: Application) -> None:
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
        .rate_limiter(_rate_limiter(limits or RateLimits()))
        .connection_pool_size(CONNECTIONS)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    application.bot_data["houqin"] = houqin
    application.add_handler(CommandHandler("start", houqin.start))
    application.add_handler(CommandHandler("stop", houqin.stop))
    application.add_handler(CommandHandler("lang", houqin.language))
    application.add_handler(MessageHandler(filters.ALL, houqin.anything_else))
    return application
