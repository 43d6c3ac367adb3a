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
from bot.evidence import checked_photo, download_photo, photo_file_id
from channels.telegram.chats import person_for_chat
from models.actions import clean_description, report_problem
from models.assets import Asset, assets_in_care_of, visible_asset
from models.catalogue import translate
from models.duties import Task
from models.messages import N_, DomainError, SubmissionInvalid
from models.people import visible_schools
from models.photos import PhotoRejected, prepare_photo

# The conversation's states, in the order a person goes through them (a district
# administrator chooses the school first: asset codes repeat across schools).
CHOOSING_ASSET, DESCRIBING, ADDING_PHOTOS, CHOOSING_SCHOOL = range(4)
END = ConversationHandler.END
SCHOOL_BUTTONS = 12

REPORT_WHICH = N_("Which asset? Send the code on its label (e.g. MHQ-001), or choose one of yours:")
REPORT_NO_ASSET = N_(
    "No asset with the code %(code)s at your schools. Send another code, or /cancel."
)
REPORT_DESCRIBE = N_("What is wrong with %(asset)s? Describe it in a message.")
REPORT_PHOTOS = N_(
    "Add photos now if you can, then send /done. /done alone reports it without photos."
)
REPORT_PHOTO_ADDED = N_("Photo %(count)d added. More, or /done.")
REPORT_WHICH_SCHOOL = N_("At which school? Choose it, or send its code:")
REPORT_NO_SCHOOL = N_(
    "No school with the code %(code)s in your district. Send another code, or /cancel."
)
REPORT_PHOTO_KEPT = N_("Photo kept. Now say what is wrong in a message.")
REPORT_TOO_MANY_PHOTOS = N_("%(count)d photos are the most a report takes: send /done.")
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
    """/report: ask for the school when the person sees several, else for the asset,
    offering the ones in the person's care as buttons."""
    chat = update.effective_chat
    if chat is None:
        return END

    def mine(session: Session) -> tuple[str | None, list[tuple[int, str]], list[tuple[int, str]]]:
        person = person_for_chat(session, chat.id)
        if person is None:
            return None, [], []
        locale = locale_of(person, update, context)
        schools = visible_schools(session, person)
        if len(schools) > 1:
            return locale, [(school.id, f"{school.code} {school.name}") for school in schools], []
        assets = assets_in_care_of(session, person)
        return locale, [], [(a.id, f"{a.code} {a.name}") for a in assets]

    locale, schools, assets = await run_db(context, mine)
    if locale is None:
        await reply(update, locale_of(None, update, context), NOT_LINKED)
        return END
    _begin_report(context)
    if schools:
        await chat.send_message(
            translate(locale, REPORT_WHICH_SCHOOL),
            reply_markup=_keyboard("rschool", schools[:SCHOOL_BUTTONS]),
        )
        return CHOOSING_SCHOOL
    keyboard = _keyboard("rasset", assets) if assets else None
    await chat.send_message(translate(locale, REPORT_WHICH), reply_markup=keyboard)
    return CHOOSING_ASSET


def _keyboard(prefix: str, choices: list[tuple[int, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label[:60], callback_data=f"{prefix}:{key}")]
            for key, label in choices
        ]
    )


async def school_by_code(update: Update, context: Context) -> int | None:
    """The school's code, typed."""
    message = update.effective_message
    return await _choose_school(update, context, (message.text or "") if message else "", None)


async def school_by_button(update: Update, context: Context) -> int | None:
    """One of the person's schools, chosen with its rschool:<school> button."""
    query = update.callback_query
    if query is None:
        return None
    await query.answer()
    return await _choose_school(update, context, "", button_number(query.data))


async def _choose_school(
    update: Update, context: Context, code: str, school_id: int | None
) -> int | None:
    """The school, if the person sees it; then the asset is asked for, by its code there."""
    chat = update.effective_chat
    if chat is None:
        return END

    def find(session: Session) -> tuple[str | None, int | None]:
        person = person_for_chat(session, chat.id)
        if person is None:
            return None, None
        locale = locale_of(person, update, context)
        schools = visible_schools(session, person)
        wanted = code.strip().upper()
        for school in schools:
            if school.id == school_id or (wanted and school.code.upper() == wanted):
                return locale, school.id
        return locale, None

    locale, found = await run_db(context, find)
    if locale is None:
        _forget(context)
        await reply(update, locale_of(None, update, context), NOT_LINKED)
        return END
    if found is None:
        await reply(update, locale, REPORT_NO_SCHOOL, code=code.strip()[:32])
        return None
    _report(context)["school_id"] = found
    await reply(update, locale, REPORT_WHICH)
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
        school_id = _report(context).get("school_id")
        found = visible_asset(session, person, code=code, asset_id=asset_id, school_id=school_id)
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
    """The description, within the domain's rules (one too long is refused, not cut); then
    photos may follow."""
    message = update.effective_message
    text = (message.text or "") if message else ""
    locale = await reader_locale(update, context)
    if not await _described(update, context, locale, text):
        return None
    await reply(update, locale, REPORT_PHOTOS)
    return ADDING_PHOTOS


async def _described(update: Update, context: Context, locale: str, text: str) -> bool:
    """Keep the description, or answer with what is wrong with it."""
    try:
        description = clean_description(text)
    except SubmissionInvalid as invalid:
        problem = invalid.errors["description"]
        await reply(update, locale, problem.msgid, **problem.params)
        return False
    _report(context)["description"] = description
    return True


async def photo_first(update: Update, context: Context) -> int | None:
    """A photo before the description: its caption is the description; without one, the
    photo is kept and the description asked for."""
    message = update.effective_message
    caption = (message.caption or "") if message else ""
    locale = await reader_locale(update, context)
    if caption.strip() and not await _described(update, context, locale, caption):
        return None  # nor is the photo kept: the person sends both again, as one
    if not await _keep_photo(update, context, locale):
        return None
    if not caption.strip():
        await reply(update, locale, REPORT_PHOTO_KEPT)
        return None
    await reply(update, locale, REPORT_PHOTO_ADDED, count=len(_report(context)["photos"]))
    return ADDING_PHOTOS


async def add_photo(update: Update, context: Context) -> None:
    """One more photo (up to six), refused past Telegram's download limit; its caption is
    added to the description, within the same limit."""
    message = update.effective_message
    caption = (message.caption or "").strip() if message else ""
    locale = await reader_locale(update, context)
    report = _report(context)
    if len(report["photos"]) >= MAX_REPORT_PHOTOS:
        await reply(update, locale, REPORT_TOO_MANY_PHOTOS, count=MAX_REPORT_PHOTOS)
        return
    if caption:
        before = report.get("description", "")
        joined = f"{before}\n{caption}" if before else caption
        if not await _described(update, context, locale, joined):
            return
    if await _keep_photo(update, context, locale):
        await reply(update, locale, REPORT_PHOTO_ADDED, count=len(report["photos"]))


async def _keep_photo(update: Update, context: Context, locale: str) -> bool:
    """The photo's Telegram file, kept for /done once its size is checked."""
    file_id = photo_file_id(update)
    if file_id is None:
        return False
    try:
        await checked_photo(context, file_id)
    except PhotoRejected as refused:
        await reply(update, locale, refused.message.msgid)
        return False
    _report(context)["photos"].append(file_id)
    return True


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
            prepare_photo(
                await download_photo(context, file_id),
                parts.store,
                keep_exif=parts.settings.storage.keep_exif,
            )
            for file_id in report["photos"]
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
