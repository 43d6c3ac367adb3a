"""Alerts a person has not acknowledged: /alerts, and the acknowledge and snooze buttons."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session
from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot.door import NOT_LINKED, Context, button_number, chat_person, door, locale_of, reply, run_db
from channels.telegram.chats import person_for_chat
from channels.telegram.sender import ACKNOWLEDGE, TEXT_LIMIT
from models.catalogue import translate
from models.messages import N_
from models.notifications import acknowledge, snooze, unacknowledged_alerts
from models.people import Person, visible_schools
from models.task_lists import notice_school

ACKNOWLEDGED = N_("Acknowledged at %(at)s.")
SNOOZED = N_("Snoozed: it comes again at %(at)s.")
NOT_YOURS = N_("This is not yours to answer.")
ALERTS_LIST = N_("Alerts not yet acknowledged:\n%(alerts)s")
NO_ALERTS = N_("No alert is waiting for you.")
ALERTS_LISTED = 10
ALERT_SHOWN = 600  # characters of one alert in the list; the whole of it is in the inbox
SNOOZE_FOR = timedelta(hours=1)


async def alerts(update: Update, context: Context) -> None:
    """The alerts waiting for this person, each with its acknowledge button under the message
    that shows it (as many messages as the list needs); a district administrator reads each
    one's school."""
    chat = update.effective_chat
    if chat is None:
        return

    def listing(session: Session) -> tuple[str, str, list[tuple[int, str]]]:
        person = person_for_chat(session, chat.id)
        if person is None:
            return locale_of(None, update, context), NOT_LINKED, []
        locale = locale_of(person, update, context)
        waiting = unacknowledged_alerts(session, person, limit=ALERTS_LISTED)
        several = len(visible_schools(session, person)) > 1
        shown = []
        for notice in waiting:
            text = _shortened(notice.text)
            school = notice_school(session, notice) if several else None
            shown.append((notice.id, f"{school.name} · {text}" if school else text))
        return locale, ALERTS_LIST if waiting else NO_ALERTS, shown

    locale, msgid, waiting = await run_db(context, listing)
    if not waiting:
        await reply(update, locale, msgid)
        return
    heading = translate(locale, msgid, alerts="")
    pieces: list[tuple[str, list[InlineKeyboardButton]]] = [(heading, [])]
    for number, (nid, text) in enumerate(waiting, 1):
        line = f"{number}. {text}\n"
        button = InlineKeyboardButton(
            f"{translate(locale, ACKNOWLEDGE)} {number}", callback_data=f"ack:{nid}"
        )
        body, buttons = pieces[-1]
        if len(body) + len(line) > TEXT_LIMIT:
            pieces.append((line, [button]))
        else:
            pieces[-1] = (body + line, [*buttons, button])
    for body, buttons in pieces:
        await chat.send_message(
            body.rstrip("\n"), reply_markup=InlineKeyboardMarkup([[b] for b in buttons])
        )


def _shortened(text: str) -> str:
    return text if len(text) <= ALERT_SHOWN else text[: ALERT_SHOWN - 1] + "…"


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
        await query.edit_message_reply_markup(reply_markup=_without(query, query.data or ""))


def _without(query: CallbackQuery, data: str) -> InlineKeyboardMarkup | None:
    """The message's buttons less the one pressed: the others (snooze, open, the list's
    other alerts) stay."""
    message = query.message
    markup = message.reply_markup if isinstance(message, Message) else None
    if markup is None:
        return None
    rows = [
        [button for button in row if button.callback_data != data] for row in markup.inline_keyboard
    ]
    kept = [row for row in rows if row]
    return InlineKeyboardMarkup(kept) if kept else None


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
