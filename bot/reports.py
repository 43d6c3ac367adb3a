"""Reporting a problem, as a conversation: /report, the asset, a description, photos, /done."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ConversationHandler

from bot.door import (
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
from channels.telegram.chats import person_for_chat
from models.actions import clean_description, report_problem
from models.assets import Asset, assets_in_care_of, visible_asset
from models.catalogue import translate
from models.duties import Task
from models.messages import N_, DomainError, SubmissionInvalid
from models.photos import PhotoRejected, prepare_photo

# The conversation's states, in the order a person goes through them.
CHOOSING_ASSET, DESCRIBING, ADDING_PHOTOS = range(3)
END = ConversationHandler.END

REPORT_WHICH = N_("Which asset? Send the code on its label (e.g. MHQ-001), or choose one of yours:")
REPORT_NO_ASSET = N_(
    "No asset with the code %(code)s at your schools. Send another code, or /cancel."
)
REPORT_DESCRIBE = N_("What is wrong with %(asset)s? Describe it in a message.")
REPORT_PHOTOS = N_(
    "Add photos now if you can, then send /done. /done alone reports it without photos."
)
REPORT_PHOTO_ADDED = N_("Photo %(count)d added. More, or /done.")
REPORTED = N_("Reported: a corrective action for %(asset)s is open, due %(due)s.")
CANCELLED = N_("Cancelled.")
MAX_REPORT_PHOTOS = 6


def _begin_report(context: Context) -> None:
    """A new report for this chat, forgetting any one before."""
    if context.chat_data is not None:
        context.chat_data["report"] = {"photos": []}


def _report(context: Context) -> dict[str, Any]:
    """What this chat's report has gathered so far: the asset, the description, the photos."""
    chat_data = context.chat_data if context.chat_data is not None else {}
    report: dict[str, Any] = chat_data.setdefault("report", {"photos": []})
    return report


def _forget(context: Context) -> None:
    """The report is over: filed, cancelled or refused."""
    if context.chat_data is not None:
        context.chat_data.pop("report", None)


async def begin(update: Update, context: Context) -> int:
    """/report: ask for the asset, offering the ones in the person's care as buttons."""
    chat = update.effective_chat
    if chat is None:
        return END

    def mine(session: Session) -> tuple[str | None, list[tuple[int, str]]]:
        person = person_for_chat(session, chat.id)
        if person is None:
            return None, []
        assets = assets_in_care_of(session, person)
        return locale_of(person, update, context), [(a.id, f"{a.code} {a.name}") for a in assets]

    locale, assets = await run_db(context, mine)
    if locale is None:
        await reply(update, locale_of(None, update, context), NOT_LINKED)
        return END
    _begin_report(context)
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(label[:60], callback_data=f"rasset:{aid}")] for aid, label in assets]
    )
    await chat.send_message(
        translate(locale, REPORT_WHICH), reply_markup=keyboard if assets else None
    )
    return CHOOSING_ASSET


async def begin_from_task(update: Update, context: Context) -> int:
    """The report:<task> button under a reminder: the asset is known, describe the problem."""
    query = update.callback_query
    if query is None:
        return END
    await query.answer()
    _begin_report(context)
    task_id = button_number(query.data)
    asset_id = await run_db(context, lambda session: _task_asset(session, task_id))
    chosen = await _choose(update, context, "", asset_id or 0)
    return CHOOSING_ASSET if chosen is None else chosen


async def asset_by_code(update: Update, context: Context) -> int | None:
    """The code on the asset's label, typed."""
    message = update.effective_message
    return await _choose(update, context, (message.text or "") if message else "", None)


async def asset_by_button(update: Update, context: Context) -> int | None:
    """One of the person's assets, chosen with its rasset:<asset> button."""
    query = update.callback_query
    if query is None:
        return None
    await query.answer()
    return await _choose(update, context, "", button_number(query.data))


async def _choose(update: Update, context: Context, code: str, asset_id: int | None) -> int | None:
    """The asset, if it is at one of the person's schools; otherwise ask again."""
    chat = update.effective_chat
    if chat is None:
        return END

    def find(session: Session) -> tuple[str | None, int | None, str]:
        person = person_for_chat(session, chat.id)
        if person is None:
            return None, None, ""
        found = visible_asset(session, person, code=code, asset_id=asset_id)
        locale = locale_of(person, update, context)
        if found is None:
            return locale, None, ""
        return locale, found.id, f"{found.code} {found.name}"

    locale, found_id, label = await run_db(context, find)
    if locale is None:
        _forget(context)
        await reply(update, locale_of(None, update, context), NOT_LINKED)
        return END
    if found_id is None:
        await reply(update, locale, REPORT_NO_ASSET, code=code[:32])
        return None
    _report(context).update(asset_id=found_id, asset=label)
    await reply(update, locale, REPORT_DESCRIBE, asset=label)
    return DESCRIBING


async def describe(update: Update, context: Context) -> int | None:
    """The description, within the domain's rules; then photos may follow."""
    message = update.effective_message
    text = (message.text or "") if message else ""
    locale = await reader_locale(update, context)
    try:
        description = clean_description(text)
    except SubmissionInvalid as invalid:
        problem = invalid.errors["description"]
        await reply(update, locale, problem.msgid, **problem.params)
        return None
    _report(context)["description"] = description
    await reply(update, locale, REPORT_PHOTOS)
    return ADDING_PHOTOS


async def add_photo(update: Update, context: Context) -> None:
    """One more photo (up to six), refused past Telegram's download limit."""
    file_id = photo_file_id(update)
    if file_id is None:
        return
    photos: list[bytes] = _report(context)["photos"]
    if len(photos) < MAX_REPORT_PHOTOS:
        try:
            photos.append(await download_photo(context, file_id))
        except PhotoRejected as refused:
            await reply(update, await reader_locale(update, context), refused.message.msgid)
            return
    await reply(update, await reader_locale(update, context), REPORT_PHOTO_ADDED, count=len(photos))


async def words_between_photos(update: Update, context: Context) -> None:
    """Words after the description change nothing: the report waits for photos or /done."""


async def done(update: Update, context: Context) -> int:
    """/done: the corrective action opens, with the photos, for whoever looks after the asset."""
    chat = update.effective_chat
    if chat is None:
        return END
    report = _report(context)
    _forget(context)
    parts = door(context)
    now = parts.clock.now()
    # Photos are processed before the transaction, so no write lock waits on image work.
    rejected: PhotoRejected | None = None
    try:
        processed = [
            prepare_photo(data, parts.store, keep_exif=parts.settings.storage.keep_exif)
            for data in report["photos"]
        ]
    except PhotoRejected as refusal:
        rejected, processed = refusal, []

    def file(session: Session) -> tuple[str, str, dict[str, Any]]:
        person = person_for_chat(session, chat.id)
        if person is None:
            return locale_of(None, update, context), NOT_LINKED, {}
        locale = locale_of(person, update, context)
        try:
            if rejected is not None:
                raise rejected
            action = report_problem(
                session,
                person,
                session.get_one(Asset, report["asset_id"]),
                description=report["description"],
                photos=processed,
                store=parts.store,
                now=now,
            )
        except SubmissionInvalid as invalid:
            first = next(iter(invalid.errors.values()))
            return locale, first.msgid, dict(first.params)
        except DomainError as refused:
            return locale, refused.message.msgid, dict(refused.message.params)
        due = action.asset.school.district.local(action.due_at)
        return locale, REPORTED, {"asset": report["asset"], "due": due.strftime("%m-%d %H:%M")}

    locale, msgid, params = await run_db(context, file)
    await reply(update, locale, msgid, **params)
    return END


async def cancel(update: Update, context: Context) -> int:
    """/cancel: the report is dropped (and said so, even when there was none)."""
    _forget(context)
    await reply(update, await reader_locale(update, context), CANCELLED)
    return END


async def stale_choice(update: Update, context: Context) -> None:
    """An asset button pressed after its report ended: it is answered, and nothing happens."""
    if update.callback_query is not None:
        await update.callback_query.answer()


def _task_asset(session: Session, task_id: int) -> int | None:
    """The asset a task is about; whether the person may report on it is checked after."""
    task = session.get(Task, task_id)
    return task.asset_id if task is not None else None
