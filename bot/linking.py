"""Linking a chat to its person: /start with the web's code, /stop, /lang, and help."""

from __future__ import annotations

from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import ConversationHandler

from bot.door import NOT_LINKED, Context, chat_person, door, locale_of, reply, run_db
from channels.telegram.chats import link_chat, person_for_chat, unlink_chat
from models.linking import LinkRefused
from models.messages import N_
from models.people import set_locale

LINKED = N_(
    "Linked to %(name)s. Houqin's reminders and alerts will come here. "
    "/lang changes the language, /stop unlinks this chat."
)
UNLINKED = N_("This chat is unlinked: Houqin sends nothing here any more.")
LANGUAGE_SET = N_("Houqin will write to you in English.")
PRIVATE_ONLY = N_("Link Houqin in a private chat with this bot, not in a group.")
HELP = N_("Houqin sends your reminders and alerts here. /lang changes the language, /stop unlinks.")


async def start(update: Update, context: Context) -> int | None:
    """Link with a code (which forgets what this chat was in the middle of), or say hello.
    Ends a report in progress when a code is sent: it was begun for whoever was linked."""
    chat = update.effective_chat
    if chat is None:
        return None
    code = context.args[0] if context.args else ""
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

    def unlink(session: Session) -> str | None:
        person = unlink_chat(session, chat_id=chat.id)
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


async def anything_else(update: Update, context: Context) -> None:
    """Whatever no other handler takes: help for a linked chat, the explanation otherwise."""
    if update.effective_chat is None:
        return
    person = await chat_person(update, context)
    if person is None:
        await reply(update, locale_of(None, update, context), NOT_LINKED)
    else:
        await reply(update, locale_of(person, update, context), HELP)
