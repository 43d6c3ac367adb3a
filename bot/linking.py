"""Linking a chat to its person: /start with the web's code, /stop, /lang, and help."""

from __future__ import annotations

import logging
import re

from sqlalchemy.orm import Session
from telegram import Bot, BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ConversationHandler

from bot.door import NOT_LINKED, Context, chat_person, door, locale_of, reply, run_db
from channels.telegram.chats import link_chat, person_for_chat, unlink_chat
from models.catalogue import translate
from models.linking import LinkRefused
from models.messages import N_
from models.people import set_locale

LINKED = N_(
    "Linked to %(name)s. Houqin's reminders and alerts will come here. "
    "/lang changes the language, /stop unlinks this chat."
)
log = logging.getLogger(__name__)

UNLINKED = N_("This chat is unlinked: Houqin sends nothing here any more.")
LANGUAGE_SET = N_("Houqin will write to you in English.")
PRIVATE_ONLY = N_("Link Houqin in a private chat with this bot, not in a group.")
HELP = N_(
    "Houqin sends your reminders and alerts here. Commands:\n"
    "/due: what is due and overdue\n"
    "/alerts: alerts waiting for you to acknowledge\n"
    "/report: report a problem with an asset\n"
    "/done: finish a report (/cancel drops it)\n"
    "/close: close a corrective action with a note and a photo\n"
    "/digest and /stats: your schools' figures (administrators)\n"
    "/lang: change the language\n"
    "/stop: unlink this chat\n"
    "/help: this list\n"
    "To link a chat, send the code Houqin shows under “Link Telegram”."
)
# The menu Telegram shows beside the message box: (command, what it does).
COMMANDS = (
    ("due", N_("What is due and overdue")),
    ("alerts", N_("Alerts waiting for you")),
    ("report", N_("Report a problem")),
    ("close", N_("Close a corrective action")),
    ("done", N_("Finish a report")),
    ("cancel", N_("Drop the report")),
    ("digest", N_("Today's figures (administrators)")),
    ("stats", N_("The last 30 days (administrators)")),
    ("lang", N_("Change the language")),
    ("stop", N_("Unlink this chat")),
    ("help", N_("Every command")),
)
# What new_link_code hands out (secrets.token_urlsafe(12)): a message of just that is a code.
BARE_CODE = re.compile(r"[A-Za-z0-9_-]{16}")


def _menu(locale: str) -> list[BotCommand]:
    return [BotCommand(name, translate(locale, meaning)) for name, meaning in COMMANDS]


async def set_command_menu(bot: Bot, default_locale: str) -> None:
    """The command menu in both languages: Chinese for Telegram apps set to Chinese, English
    for those set to English, and the district's default language for every other app. Set
    at start-up; Telegram being out of reach then only leaves the last menu in place."""
    try:
        await bot.set_my_commands(_menu("zh_CN"), language_code="zh")
        await bot.set_my_commands(_menu("en"), language_code="en")
        await bot.set_my_commands(_menu(default_locale))
    except TelegramError as error:
        log.warning("the command menu was not set: %s", error)


async def start(update: Update, context: Context) -> int | None:
    """Link with a code (which forgets what this chat was in the middle of), or say hello.
    Ends a report in progress when a code is sent: it was begun for whoever was linked."""
    return await _link(update, context, context.args[0] if context.args else "")


async def _link(update: Update, context: Context, code: str) -> int | None:
    """/start's work, for a code given after it or sent alone."""
    chat = update.effective_chat
    if chat is None:
        return None
    if chat.type != "private":
        await reply(update, locale_of(None, update, context), PRIVATE_ONLY)
        return None
    if context.chat_data is not None and code:
        context.chat_data.clear()
    now = door(context).clock.now()

    def link(session: Session) -> tuple[str, str, str]:
        if not code:
            person = person_for_chat(session, chat.id)
            if person is not None:
                return locale_of(person, update, context), HELP, ""
            return locale_of(None, update, context), NOT_LINKED, ""
        try:
            person = link_chat(session, code, chat.id, now=now)
        except LinkRefused as refused:
            already = person_for_chat(session, chat.id)
            return locale_of(already, update, context), refused.message.msgid, ""
        return locale_of(person, update, context), LINKED, person.display_name

    locale, msgid, name = await run_db(context, link)
    await reply(update, locale, msgid, **({"name": name} if name else {}))
    return ConversationHandler.END if code else None


async def stop(update: Update, context: Context) -> int:
    """Unlink this chat; whatever it was in the middle of ends with it."""
    chat = update.effective_chat
    if chat is None:
        return ConversationHandler.END

    now = door(context).clock.now()

    def unlink(session: Session) -> str | None:
        person = unlink_chat(session, chat_id=chat.id, now=now)
        return locale_of(person, update, context) if person is not None else None

    locale = await run_db(context, unlink)
    if context.chat_data is not None:
        context.chat_data.clear()
    if locale is None:
        await reply(update, locale_of(None, update, context), NOT_LINKED)
    else:
        await reply(update, locale, UNLINKED)
    return ConversationHandler.END


async def language(update: Update, context: Context) -> None:
    """/lang en, /lang zh, or /lang alone for the other one."""
    chat = update.effective_chat
    if chat is None:
        return
    wanted = context.args[0] if context.args else None

    def switch(session: Session) -> str | None:
        person = person_for_chat(session, chat.id)
        return None if person is None else set_locale(person, wanted)

    locale = await run_db(context, switch)
    if locale is None:
        await reply(update, locale_of(None, update, context), NOT_LINKED)
    else:
        await reply(update, locale, LANGUAGE_SET)


async def help_command(update: Update, context: Context) -> None:
    """/help: every command, for a linked chat; how to link, for another."""
    await anything_else(update, context)


async def ignore_edit(update: Update, context: Context) -> None:
    """An edited message was already answered as first sent: its command does not run again."""
    raise ApplicationHandlerStop


async def anything_else(update: Update, context: Context) -> None:
    """Whatever no other handler takes: a bare link code links; help for a linked chat, the
    explanation otherwise."""
    if update.effective_chat is None:
        return
    message = update.effective_message
    text = (message.text or "").strip() if message is not None else ""
    if BARE_CODE.fullmatch(text):
        await _link(update, context, text)
        return
    person = await chat_person(update, context)
    if person is None:
        await reply(update, locale_of(None, update, context), NOT_LINKED)
    else:
        await reply(update, locale_of(person, update, context), HELP)
