"""Alerts a person has not acknowledged: /alerts, and the acknowledge and snooze buttons."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.door import NOT_LINKED, Context, button_number, chat_person, door, locale_of, reply, run_db
from channels.telegram.chats import person_for_chat
from channels.telegram.sender import ACKNOWLEDGE, split_text
from models.catalogue import translate
from models.messages import N_
from models.notifications import acknowledge, snooze, unacknowledged_alerts
from models.people import Person

ACKNOWLEDGED = N_("Acknowledged at %(at)s.")
SNOOZED = N_("Snoozed: it comes again at %(at)s.")
NOT_YOURS = N_("This is not yours to answer.")
ALERTS_LIST = N_("Alerts not yet acknowledged:\n%(alerts)s")
NO_ALERTS = N_("No alert is waiting for you.")
ALERTS_LISTED = 5
SNOOZE_FOR = timedelta(hours=1)


async def alerts(update: Update, context: Context) -> None:
    """The alerts waiting for this person, each with its acknowledge button."""
    chat = update.effective_chat
    if chat is None:
        return

    def listing(session: Session) -> tuple[str, str, list[tuple[int, str]]]:
        person = person_for_chat(session, chat.id)
        if person is None:
            return locale_of(None, update, context), NOT_LINKED, []
        locale = locale_of(person, update, context)
        waiting = unacknowledged_alerts(session, person, limit=ALERTS_LISTED)
        return locale, ALERTS_LIST if waiting else NO_ALERTS, [(n.id, n.text) for n in waiting]

    locale, msgid, waiting = await run_db(context, listing)
    if not waiting:
        await reply(update, locale, msgid)
        return
    lines = "\n".join(f"{number}. {text}" for number, (_, text) in enumerate(waiting, 1))
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    f"{translate(locale, ACKNOWLEDGE)} {number}", callback_data=f"ack:{nid}"
                )
            ]
            for number, (nid, _) in enumerate(waiting, 1)
        ]
    )
    text = translate(locale, msgid, alerts=lines)
    await chat.send_message(split_text(text)[0], reply_markup=keyboard)


async def acknowledge_button(update: Update, context: Context) -> None:
    """The ack:<notice> button: acknowledged now, and the button goes."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None:
        return
    number = button_number(query.data)
    now = door(context).clock.now()

    def act(session: Session) -> tuple[str, str, dict[str, str]]:
        person = person_for_chat(session, chat.id)
        if person is None:
            return locale_of(None, update, context), NOT_LINKED, {}
        locale = locale_of(person, update, context)
        notice = acknowledge(session, person, number, now=now)
        if notice is None or notice.acknowledged_at is None:
            return locale, NOT_YOURS, {}
        return locale, ACKNOWLEDGED, {"at": _local(notice.acknowledged_at, person)}

    locale, msgid, params = await run_db(context, act)
    await query.answer(translate(locale, msgid, **params))
    if msgid == ACKNOWLEDGED:
        await query.edit_message_reply_markup(reply_markup=None)


async def snooze_button(update: Update, context: Context) -> None:
    """The snooze:<notice> button: the notice comes again in an hour."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None:
        return
    number = button_number(query.data)
    now = door(context).clock.now()
    until = now + SNOOZE_FOR

    def act(session: Session) -> tuple[str, str, dict[str, str]]:
        person = person_for_chat(session, chat.id)
        if person is None:
            return locale_of(None, update, context), NOT_LINKED, {}
        locale = locale_of(person, update, context)
        if snooze(session, person, number, now=now, until=until) is None:
            return locale, NOT_YOURS, {}
        return locale, SNOOZED, {"at": _local(until, person)}

    locale, msgid, params = await run_db(context, act)
    await query.answer(translate(locale, msgid, **params))


async def unknown_button(update: Update, context: Context) -> None:
    """A button no handler knows (from an older bot): nothing happens, and the person is told."""
    query = update.callback_query
    if query is None:
        return
    person = await chat_person(update, context)
    await query.answer(
        translate(locale_of(person, update, context), NOT_LINKED if person is None else NOT_YOURS)
    )


def _local(moment: datetime, person: Person) -> str:
    """A time of day as the person reads it, in their district's time zone."""
    return person.local(moment).strftime("%H:%M")
