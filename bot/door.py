"""What every handler shares: its parts, one unit of work, answers in the reader's language."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy.orm import Session, sessionmaker
from telegram import Update
from telegram.ext import ContextTypes

from channels.telegram.chats import person_for_chat
from models.audit import Origin
from models.catalogue import locale_named, pick_text, translate
from models.clock import Clock
from models.messages import N_
from models.people import Person, reading_locale
from models.photos import PhotoStore
from models.unit_of_work import unit_of_work
from settings import Settings, open_photo_store

T = TypeVar("T")
Context = ContextTypes.DEFAULT_TYPE

NOT_LINKED = N_(
    "This chat is not linked to Houqin. Open Houqin on your phone, choose “Link Telegram”, "
    "and send the code it shows here."
)

BAD_BUTTON = N_("This button does not work (any more). /help lists what you can do.")


@dataclass(frozen=True)
class Door:
    """The database, the clock, the photo store and the settings, chosen once by the app."""

    settings: Settings
    factory: sessionmaker[Session]
    clock: Clock
    store: PhotoStore

    @classmethod
    def of(cls, settings: Settings, factory: sessionmaker[Session], clock: Clock) -> Door:
        return cls(settings, factory, clock, open_photo_store(settings.storage))


def door(context: Context) -> Door:
    """The door the application was built with (kept in its bot_data)."""
    return cast(Door, context.bot_data["door"])


async def run_db(context: Context, work: Callable[[Session], T]) -> T:
    """One unit of work, in a thread so the bot keeps answering: committed, or rolled back
    on error."""
    factory = door(context).factory

    def run() -> T:
        with unit_of_work(factory, Origin(channel="telegram")) as session:
            return work(session)

    return await asyncio.to_thread(run)


def locale_of(person: Person | None, update: Update, context: Context) -> str:
    """The person's language (people.reading_locale); before they are known, the one their
    Telegram app uses (English for one Houqin lacks), else the configured default."""
    user = update.effective_user
    language = (user.language_code or "") if user else ""
    hint = locale_named(language) or ("en" if language else None)
    return reading_locale(person, default=hint or door(context).settings.i18n.default_locale)


async def chat_person(update: Update, context: Context) -> Person | None:
    """The person this update's chat is linked to, if any."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await run_db(context, lambda session: person_for_chat(session, chat.id))


async def reader_locale(update: Update, context: Context) -> str:
    """The language to answer this update in."""
    return locale_of(await chat_person(update, context), update, context)


async def reply(update: Update, locale: str, msgid: str, **params: Any) -> None:
    """A catalogue message to the update's chat; a {zh_CN, en} parameter picks its text."""
    if update.effective_chat is not None:
        shown = {
            name: pick_text(value, locale) if isinstance(value, dict) else value
            for name, value in params.items()
        }
        await update.effective_chat.send_message(translate(locale, msgid, **shown))


# The largest id a database integer column holds; a button claiming more is not one of ours.
LARGEST_ID = 2**31 - 1


def button_number(data: str | None) -> int:
    """The id after a button's prefix (ack:123 is 123), 0 when there is none or it could not
    be an id (a malformed or forged button)."""
    value = (data or "").partition(":")[2]
    if not (value.isascii() and value.isdigit()) or len(value) > 10:
        return 0
    number = int(value)
    return number if number <= LARGEST_ID else 0
