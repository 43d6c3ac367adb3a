"""Photos as evidence for tasks: a reply to a reminder, or a photo and then the task's button."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from telegram import File, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from bot.door import (
    BAD_BUTTON,
    NOT_LINKED,
    Context,
    button_number,
    chat_person,
    door,
    locale_of,
    reader_locale,
    reply,
    run_db,
)
from channels.telegram.chats import delivery_for_message, person_for_chat
from models.catalogue import translate
from models.clock import sent_moment
from models.duties import Task, TaskStatus
from models.messages import N_, DomainError, SubmissionInvalid
from models.people import Person
from models.photos import PhotoRejected, check_photo_size, photo_too_large, prepare_photo
from models.records import submit_task_photo, tasks_a_photo_closes
from models.task_lists import tasks_for

SEND_PHOTO = N_("Send the photo now, in this chat.")
WHICH_TASK = N_("Which task is this photo for?")
NO_PHOTO_TASK = N_(
    "You have no task that a photo can close now. To file a record, scan the label on the asset."
)
RECORDED = N_("Recorded: %(what)s. Thank you!")
RECORDED_FAILED = N_("Recorded: %(what)s, with problems: a corrective action is open.")
TASK_CHOICES = 10


def photo_file_id(update: Update) -> str | None:
    """The Telegram file of a photo, or of an image sent as a document."""
    message = update.effective_message
    if message is None:
        return None
    if message.photo:
        return message.photo[-1].file_id
    return message.document.file_id if message.document is not None else None


def message_times(message: Message) -> list[str | None]:
    """When the photo's message was sent and, for a forward, when the message it forwards
    was first sent (ISO 8601), kept beside a photo that waits for its task's button."""
    origin = message.forward_origin
    return [
        message.date.isoformat() if message.date else None,
        origin.date.isoformat() if origin is not None and origin.date else None,
    ]


async def checked_photo(context: Context, file_id: str) -> File:
    """A photo's file, within the size limit: one past it (or Telegram's 20 MB for bots,
    which refuses to hand it out as "file is too big") is the domain's refusal, not an error."""
    try:
        telegram_file = await context.bot.get_file(file_id)
    except BadRequest as error:
        if "too big" in error.message.lower():
            raise photo_too_large() from None
        raise
    check_photo_size(telegram_file.file_size or 0)
    return telegram_file


async def download_photo(context: Context, file_id: str) -> bytes:
    """A photo's bytes, within the size limit (checked_photo)."""
    return bytes(await (await checked_photo(context, file_id)).download_as_bytearray())


async def photo(update: Update, context: Context) -> None:
    """File the photo for the task its reminder names, the one chosen before, or ask which."""
    message = update.effective_message
    chat = update.effective_chat
    file_id = photo_file_id(update)
    if message is None or chat is None or file_id is None:
        return
    reply_to = message.reply_to_message.message_id if message.reply_to_message else None
    now = door(context).clock.now()

    def context_of(session: Session) -> tuple[Person | None, list[int], list[tuple[int, str]]]:
        """The person, the tasks the replied-to reminder is about, and the tasks to offer:
        still open, closable with a photo, named by their asset."""
        person = person_for_chat(session, chat.id)
        if person is None:
            return None, [], []
        if reply_to is not None:
            notice = delivery_for_message(session, chat.id, reply_to)
            if notice is not None and notice.task_ids:
                offered = tasks_a_photo_closes(session, list(notice.task_ids))
                return person, list(notice.task_ids), [(t.id, _named(t)) for t in offered]
        mine = [
            task.id
            for task in tasks_for(session, person, now=now, mine=True, with_done=False)
            if task.status(now) in (TaskStatus.DUE, TaskStatus.OVERDUE)
        ]
        return person, [], [(t.id, _named(t)) for t in tasks_a_photo_closes(session, mine)]

    person, task_ids, choices = await run_db(context, context_of)
    if person is None:
        await reply(update, locale_of(None, update, context), NOT_LINKED)
        return
    locale = locale_of(person, update, context)
    chat_data = context.chat_data if context.chat_data is not None else {}
    waiting_task: int | None = chat_data.pop("task", None)
    times = message_times(message)
    if len(task_ids) == 1:  # the reminder's one task: filed, or refused with the reason
        await _file_photo(update, context, task_ids[0], file_id, message.message_id, *times)
        return
    if not task_ids and waiting_task is not None:
        await _file_photo(update, context, waiting_task, file_id, message.message_id, *times)
        return
    if not choices:
        await reply(update, locale, NO_PHOTO_TASK)
        return
    # Kept as JSON (bot.persistence) until the task's button is tapped.
    chat_data["photo"] = [file_id, message.message_id, *times]
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label[:60], callback_data=f"photo:{task_id}")]
            for task_id, label in choices[:TASK_CHOICES]
        ]
    )
    await chat.send_message(translate(locale, WHICH_TASK), reply_markup=keyboard)


async def choose_task(update: Update, context: Context) -> None:
    """The photo:<task> button: file the photo waiting for it, or wait for the photo."""
    query = update.callback_query
    if query is None or update.effective_chat is None:
        return
    task_id = button_number(query.data)
    person = await chat_person(update, context)
    if person is None:
        await query.answer(translate(locale_of(None, update, context), NOT_LINKED))
        return
    locale = locale_of(person, update, context)
    if not task_id:
        await query.answer(translate(locale, BAD_BUTTON))
        return
    await query.answer(translate(locale, SEND_PHOTO))
    chat_data = context.chat_data if context.chat_data is not None else {}
    waiting = chat_data.pop("photo", None)
    if waiting is not None:
        await _file_photo(update, context, task_id, *waiting)
    else:
        chat_data["task"] = task_id
        await reply(update, locale, SEND_PHOTO)


async def _file_photo(
    update: Update,
    context: Context,
    task_id: int,
    file_id: str,
    message_id: int,
    sent: str | None = None,
    forwarded: str | None = None,
) -> None:
    """Download, check and file one photo for one task; the reply says what was recorded.
    `sent` and `forwarded`: the photo message's times (message_times)."""
    chat = update.effective_chat
    if chat is None:
        return
    parts = door(context)
    try:
        data = await download_photo(context, file_id)
    except PhotoRejected as refused:
        await reply(update, await reader_locale(update, context), refused.message.msgid)
        return
    keep_exif = parts.settings.storage.keep_exif
    try:
        processed = prepare_photo(data, parts.store, keep_exif=keep_exif)
    except PhotoRejected:
        processed = None  # refused inside, with the checklist's own message

    def file(session: Session) -> tuple[str, str, dict[str, Any]]:
        person = person_for_chat(session, chat.id)
        if person is None:
            return locale_of(None, update, context), NOT_LINKED, {}
        locale = locale_of(person, update, context)
        try:
            submission = submit_task_photo(
                session,
                actor=person,
                task_id=task_id,
                photo=data,
                key=f"tg-{chat.id}-{message_id}",
                clock=parts.clock,
                store=parts.store,
                keep_exif=keep_exif,
                processed=processed,
                sent_at=sent_moment(sent),
                forwarded_at=sent_moment(forwarded),
            )
        except SubmissionInvalid as invalid:
            first = next(iter(invalid.errors.values()))
            return locale, first.msgid, dict(first.params)
        except DomainError as refused:
            return locale, refused.message.msgid, dict(refused.message.params)
        record = submission.record
        title = record.template.spec.title_text(locale)
        what = f"{title} · {record.asset.code} {record.asset.name}"
        return locale, (RECORDED if record.passed else RECORDED_FAILED), {"what": what}

    locale, msgid, params = await run_db(context, file)
    await reply(update, locale, msgid, **params)


def _named(task: Task) -> str:
    """A task as a person knows it: by its asset's code and name."""
    return f"{task.asset.code} {task.asset.name}"
