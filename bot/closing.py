"""Closing a corrective action from the chat: /close (or a notice's close button), a note
saying what was done, and a photo showing it, through the web's own models.actions.close_action.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ConversationHandler

from bot.door import (
    BAD_BUTTON,
    NOT_LINKED,
    Context,
    button_number,
    door,
    locale_of,
    reader_locale,
    reply,
    run_db,
)
from bot.evidence import download_photo, photo_file_id
from bot.reports import CANCELLED
from channels.telegram.chats import person_for_chat
from models.actions import can_close, close_action, visible_action, visible_actions
from models.catalogue import pick_text, translate
from models.messages import N_, DomainError, SubmissionInvalid
from models.photos import PhotoRejected, prepare_photo

NOTE, PHOTO = range(10, 12)
END = ConversationHandler.END
LISTED = 8

CLOSE_WHICH = N_("Which corrective action did you fix?")
NOTHING_TO_CLOSE = N_("No corrective action is waiting for you to close.")
CLOSE_NOTE = N_("%(action)s: say in a message what was done.")
CLOSE_PHOTO = N_("Now send a photo that shows it fixed.")
CLOSED = N_("Closed: %(action)s. Thank you!")
CANNOT_CLOSE = N_("Only the person assigned or an administrator can close this.")


def _label(action: Any, locale: str) -> str:
    return f"{action.asset.code} {action.asset.name}: {pick_text(action.what, locale)}"


async def begin(update: Update, context: Context) -> int:
    """/close: the person's open actions, as buttons."""
    chat = update.effective_chat
    if chat is None:
        return END

    def mine(session: Session) -> tuple[str | None, list[tuple[int, str]]]:
        person = person_for_chat(session, chat.id)
        if person is None:
            return None, []
        locale = locale_of(person, update, context)
        actions = visible_actions(session, person, assigned_to_me=True)[:LISTED]
        return locale, [(action.id, _label(action, locale)) for action in actions]

    locale, actions = await run_db(context, mine)
    if locale is None:
        await reply(update, locale_of(None, update, context), NOT_LINKED)
        return END
    if not actions:
        await reply(update, locale, NOTHING_TO_CLOSE)
        return END
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(label[:60], callback_data=f"close:{aid}")] for aid, label in actions]
    )
    await chat.send_message(translate(locale, CLOSE_WHICH), reply_markup=keyboard)
    return END


async def chosen(update: Update, context: Context) -> int:
    """The close:<action> button (after /close, or under the action's notice): the note."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None:
        return END
    action_id = button_number(query.data)

    def find(session: Session) -> tuple[str, str, str]:
        person = person_for_chat(session, chat.id)
        if person is None:
            return locale_of(None, update, context), NOT_LINKED, ""
        locale = locale_of(person, update, context)
        action = visible_action(session, person, action_id) if action_id else None
        if action is None or not action.is_open:
            return locale, BAD_BUTTON, ""
        if not can_close(person, action):
            return locale, CANNOT_CLOSE, ""
        return locale, CLOSE_NOTE, _label(action, locale)

    locale, msgid, label = await run_db(context, find)
    if msgid != CLOSE_NOTE:
        await query.answer(translate(locale, msgid))
        return END
    await query.answer()
    if context.chat_data is not None:
        context.chat_data["close"] = {"action_id": action_id, "action": label}
    await reply(update, locale, CLOSE_NOTE, action=label)
    return NOTE


async def note(update: Update, context: Context) -> int | None:
    """What was done, in words; the photo comes next."""
    message = update.effective_message
    text = (message.text or "").strip() if message else ""
    _closing(context)["note"] = text
    await reply(update, await reader_locale(update, context), CLOSE_PHOTO)
    return PHOTO


async def photo(update: Update, context: Context) -> int | None:
    """The photo (its caption is the note, when none was sent before): the action closes,
    or the person hears what is missing and may send again."""
    chat = update.effective_chat
    message = update.effective_message
    file_id = photo_file_id(update)
    if chat is None or message is None or file_id is None:
        return None
    closing = _closing(context)
    if message.caption and message.caption.strip():
        closing["note"] = "\n".join(
            part for part in (closing.get("note", ""), message.caption.strip()) if part
        )
    parts = door(context)
    now = parts.clock.now()
    try:
        processed = prepare_photo(
            await download_photo(context, file_id),
            parts.store,
            keep_exif=parts.settings.storage.keep_exif,
        )
    except PhotoRejected as refused:
        await reply(update, await reader_locale(update, context), refused.message.msgid)
        return None

    def close(session: Session) -> tuple[str, str, dict[str, Any], bool]:
        """The answer, and whether the person may send again (something was missing)."""
        person = person_for_chat(session, chat.id)
        if person is None:
            return locale_of(None, update, context), NOT_LINKED, {}, False
        locale = locale_of(person, update, context)
        action = visible_action(session, person, int(closing.get("action_id", 0)))
        if action is None:
            return locale, BAD_BUTTON, {}, False
        try:
            close_action(
                session,
                action,
                actor=person,
                note=str(closing.get("note", "")),
                photo=processed,
                store=parts.store,
                now=now,
            )
        except SubmissionInvalid as invalid:
            first = next(iter(invalid.errors.values()))
            return locale, first.msgid, dict(first.params), True
        except DomainError as refused:
            return locale, refused.message.msgid, dict(refused.message.params), False
        return locale, CLOSED, {"action": closing.get("action", "")}, False

    locale, msgid, params, again = await run_db(context, close)
    await reply(update, locale, msgid, **params)
    if again:
        return None  # the note was missing: said so, and the next photo (with one) tries again
    _forget(context)
    return END


def _closing(context: Context) -> dict[str, Any]:
    chat_data = context.chat_data if context.chat_data is not None else {}
    closing: dict[str, Any] = chat_data.setdefault("close", {})
    return closing


def _forget(context: Context) -> None:
    if context.chat_data is not None:
        context.chat_data.pop("close", None)


async def cancel(update: Update, context: Context) -> int:
    """/cancel while closing: nothing is closed."""
    _forget(context)
    await reply(update, await reader_locale(update, context), CANCELLED)
    return END
