"""The bot: python-telegram-bot's Application, its commands, and the outbox sender beside it.

Every update gets its own database session, committed when the handler's work is done; the
database work runs in a thread so the bot keeps answering. A chat that is not linked to a
person gets a polite explanation and nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.outbox import ACKNOWLEDGE, CONNECTIONS, OutboxSender, RateLimits, split_text
from models.actions import clean_description, report_problem
from models.assets import Asset, assets_in_care_of, visible_asset
from models.catalogue import translate
from models.chats import (
    LinkRefused,
    delivery_for_message,
    link_chat,
    person_for_chat,
    unlink_chat,
)
from models.checklists import latest_template
from models.clock import Clock, SystemClock
from models.db import unit_of_work
from models.duties import Task, TaskStatus, district_calendar, due_now, tasks_for
from models.messages import N_, DomainError, SubmissionInvalid
from models.notifications import acknowledge, snooze, unacknowledged_alerts
from models.people import Person, managed_schools, set_locale
from models.photos import PhotoRejected, PhotoStore, check_photo_size, prepare_photo
from models.records import submit_task_photo
from models.sweep import DIGEST, DIGEST_FIGURES, completion_rates, school_figures
from settings import Settings

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
PRIVATE_ONLY = N_("Link Houqin in a private chat with this bot, not in a group.")
HELP = N_("Houqin sends your reminders and alerts here. /lang changes the language, /stop unlinks.")


ACKNOWLEDGED = N_("Acknowledged at %(at)s.")
SNOOZED = N_("Snoozed: it comes again at %(at)s.")
SEND_PHOTO = N_("Send the photo now, in this chat.")
WHICH_TASK = N_("Which task is this photo for?")
NO_PHOTO_TASK = N_(
    "You have no task that a photo can close now. To file a record, scan the label on the asset."
)
RECORDED = N_("Recorded: %(what)s. Thank you!")
RECORDED_FAILED = N_("Recorded: %(what)s, with problems: a corrective action is open.")
NOT_YOURS = N_("This is not yours to answer.")
DUE_LIST = N_("Due and overdue:\n%(tasks)s")
NOTHING_DUE = N_("Nothing is due now. Well done!")
ALERTS_LIST = N_("Alerts not yet acknowledged:\n%(alerts)s")
NO_ALERTS = N_("No alert is waiting for you.")
ADMINS_ONLY = N_("Only administrators can see this.")
STATS_LINE = N_("%(place)s, last 30 days: %(done)d done, %(missed)d missed (%(rate)d%% done).")
LISTED = 10
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


class HouqinBot:
    """What the handlers need: the database, the clock, the photo store and the settings."""

    def __init__(self, settings: Settings, factory: sessionmaker[Session], clock: Clock) -> None:
        self.settings = settings
        self.factory = factory
        self.clock = clock
        self.store = PhotoStore(Path(settings.storage.data_dir))

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

    async def chat_person(self, update: Update) -> Person | None:
        """The person this update's chat is linked to, if any."""
        chat = update.effective_chat
        if chat is None:
            return None
        return await self.run_db(lambda session: person_for_chat(session, chat.id))

    async def reader_locale(self, update: Update) -> str:
        return self.locale_of(await self.chat_person(update), update)

    async def reply(self, update: Update, locale: str, msgid: str, **params: Any) -> None:
        if update.effective_chat is not None:
            # A {zh_CN, en} parameter (a checklist's title, the roles that file it) picks its text.
            shown = {
                name: (value.get(locale) or value.get("zh_CN", ""))
                if isinstance(value, dict)
                else value
                for name, value in params.items()
            }
            await update.effective_chat.send_message(translate(locale, msgid, **shown))

    # --- commands ------------------------------------------------------------------------------

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        code = context.args[0] if context.args else ""
        if chat.type != "private":
            await self.reply(update, self.locale_of(None, update), PRIVATE_ONLY)
            return
        if context.chat_data is not None and code:
            context.chat_data.clear()

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
            person = unlink_chat(session, chat_id=chat.id)
            return self.locale_of(person, update) if person is not None else None

        locale = await self.run_db(unlink)
        if context.chat_data is not None:
            context.chat_data.clear()
        if locale is None:
            await self.reply(update, self.locale_of(None, update), NOT_LINKED)
        else:
            await self.reply(update, locale, UNLINKED)

    async def language(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        wanted = context.args[0] if context.args else None

        def switch(session: Session) -> str | None:
            person = person_for_chat(session, chat.id)
            return None if person is None else set_locale(person, wanted)

        locale = await self.run_db(switch)
        if locale is None:
            await self.reply(update, self.locale_of(None, update), NOT_LINKED)
        else:
            await self.reply(update, locale, LANGUAGE_SET)

    # --- reporting a problem: /report, the asset, a description, photos, /done ----------------

    def _report(self, context: ContextTypes.DEFAULT_TYPE) -> dict[str, Any] | None:
        return context.chat_data.get("report") if context.chat_data is not None else None

    async def report(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is None or context.chat_data is None:
            return

        def mine(session: Session) -> tuple[str | None, list[tuple[int, str]]]:
            person = person_for_chat(session, chat.id)
            if person is None:
                return None, []
            assets = assets_in_care_of(session, person)
            return self.locale_of(person, update), [(a.id, f"{a.code} {a.name}") for a in assets]

        locale, assets = await self.run_db(mine)
        if locale is None:
            await self.reply(update, self.locale_of(None, update), NOT_LINKED)
            return
        context.chat_data["report"] = {"step": "asset", "photos": []}
        keyboard = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(label[:60], callback_data=f"rasset:{aid}")]
                for aid, label in assets
            ]
        )
        await chat.send_message(
            translate(locale, REPORT_WHICH), reply_markup=keyboard if assets else None
        )

    async def _report_asset(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, code: str, asset_id: int | None
    ) -> None:
        chat = update.effective_chat
        report = self._report(context)
        if chat is None or report is None:
            return

        def find(session: Session) -> tuple[str, int | None, str]:
            person = person_for_chat(session, chat.id)
            if person is None:
                return "zh_CN", None, ""
            found = visible_asset(session, person, code=code, asset_id=asset_id)
            locale = self.locale_of(person, update)
            if found is None:
                return locale, None, ""
            return locale, found.id, f"{found.code} {found.name}"

        locale, found_id, label = await self.run_db(find)
        if found_id is None:
            await self.reply(update, locale, REPORT_NO_ASSET, code=code[:32])
            return
        report.update(step="describe", asset_id=found_id, asset=label)
        await self.reply(update, locale, REPORT_DESCRIBE, asset=label)

    async def _report_text(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, report: dict[str, Any]
    ) -> None:
        message = update.effective_message
        text = (message.text or "") if message else ""
        if report["step"] == "asset":
            await self._report_asset(update, context, text, None)
            return
        if report["step"] == "describe":
            locale = await self.reader_locale(update)
            try:
                description = clean_description(text)
            except SubmissionInvalid as invalid:
                problem = invalid.errors["description"]
                await self.reply(update, locale, problem.msgid, **problem.params)
                return
            report.update(step="photos", description=description)
            await self.reply(update, locale, REPORT_PHOTOS)

    async def done(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        report = self._report(context)
        if chat is None or report is None or report.get("step") != "photos":
            await self.anything_else(update, context)
            return
        context.chat_data.pop("report", None)
        photos = list(report["photos"])
        now = self.clock.now()
        # Photos are processed before the transaction, so no write lock waits on image work.
        rejected: PhotoRejected | None = None
        try:
            processed = [
                prepare_photo(data, self.store, keep_exif=self.settings.storage.keep_exif)
                for data in photos
            ]
        except PhotoRejected as refusal:
            rejected, processed = refusal, []

        def file(session: Session) -> tuple[str, str, dict[str, Any]]:
            person = person_for_chat(session, chat.id)
            if person is None:
                return "zh_CN", NOT_LINKED, {}
            locale = self.locale_of(person, update)
            try:
                if rejected is not None:
                    raise rejected
                action = report_problem(
                    session,
                    person,
                    session.get_one(Asset, report["asset_id"]),
                    description=report["description"],
                    photos=processed,
                    store=self.store,
                    now=now,
                )
            except SubmissionInvalid as invalid:
                first = next(iter(invalid.errors.values()))
                return locale, first.msgid, dict(first.params)
            except DomainError as refused:
                return locale, refused.message.msgid, dict(refused.message.params)
            due = action.asset.school.district.local(action.due_at)
            return locale, REPORTED, {"asset": report["asset"], "due": due.strftime("%m-%d %H:%M")}

        locale, msgid, params = await self.run_db(file)
        await self.reply(update, locale, msgid, **params)

    async def cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if context.chat_data is not None:
            context.chat_data.pop("report", None)
        await self.reply(update, await self.reader_locale(update), CANCELLED)

    async def anything_else(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        report = self._report(context)
        if report is not None and update.effective_message and update.effective_message.text:
            await self._report_text(update, context, report)
            return
        person = await self.chat_person(update)
        if person is None:
            await self.reply(update, self.locale_of(None, update), NOT_LINKED)
        else:
            await self.reply(update, self.locale_of(person, update), HELP)

    # --- what is due, alerts, digests, figures ---------------------------------------------------

    async def due(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        now = self.clock.now()

        def listing(session: Session) -> tuple[str, str, dict[str, Any]]:
            person = person_for_chat(session, chat.id)
            if person is None:
                return self.locale_of(None, update), NOT_LINKED, {}
            locale = self.locale_of(person, update)
            tasks = due_now(session, person, now=now)
            if not tasks:
                return locale, NOTHING_DUE, {}
            lines = []
            for task in tasks[:LISTED]:
                template = latest_template(session, task.template_key)
                title = template.spec.title_text(locale) if template else task.template_key
                mark = "⚠️ " if task.status(now) == TaskStatus.OVERDUE else ""
                # In the school's own time, as every notice is.
                due = task.asset.school.district.local(task.due_at).strftime("%m-%d %H:%M")
                lines.append(f"{mark}{title} · {task.asset.code} {task.asset.name} · {due}")
            if len(tasks) > LISTED:
                lines.append(f"… +{len(tasks) - LISTED}")
            return locale, DUE_LIST, {"tasks": "\n".join(lines)}

        locale, msgid, params = await self.run_db(listing)
        await self.reply(update, locale, msgid, **params)

    async def alerts(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is None:
            return

        def listing(session: Session) -> tuple[str, str, list[tuple[int, str]]]:
            person = person_for_chat(session, chat.id)
            if person is None:
                return self.locale_of(None, update), NOT_LINKED, []
            locale = self.locale_of(person, update)
            waiting = unacknowledged_alerts(session, person, limit=5)
            return locale, ALERTS_LIST if waiting else NO_ALERTS, [(n.id, n.text) for n in waiting]

        locale, msgid, waiting = await self.run_db(listing)
        if not waiting:
            await self.reply(update, locale, msgid)
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

    async def digest(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._figures(update, DIGEST)

    async def stats(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._figures(update, STATS_LINE)

    async def _figures(self, update: Update, kind: str) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        now = self.clock.now()

        def figures(session: Session) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
            person = person_for_chat(session, chat.id)
            if person is None:
                return self.locale_of(None, update), [(NOT_LINKED, {})]
            locale = self.locale_of(person, update)
            schools = managed_schools(session, person)
            if not schools:
                return locale, [(ADMINS_ONLY, {})]
            ids = [school.id for school in schools]
            if kind == DIGEST:
                calendar = district_calendar(session, schools[0].district)
                counts = school_figures(session, ids, calendar, calendar.local_date(now), now)
                total: Counter[str] = Counter()
                for school in schools:
                    total.update(counts.get(school.id, Counter()))
                place = schools[0].district.name if len(schools) > 1 else schools[0].name
                params = {name: total.get(name, 0) for name in DIGEST_FIGURES}
                return locale, [(DIGEST, {"place": place, **params})]
            names = {school.id: school.name for school in schools}
            rates = completion_rates(session, ids, now - timedelta(days=30), now)
            return locale, [
                (
                    STATS_LINE,
                    {
                        "place": names[c.school_id],
                        "done": c.done,
                        "missed": c.missed,
                        "rate": c.rate,
                    },
                )
                for c in rates[:LISTED]
            ]

        locale, lines = await self.run_db(figures)
        text = "\n".join(translate(locale, msgid, **params) for msgid, params in lines)
        for piece in split_text(text):
            await update.effective_chat.send_message(piece)

    # --- buttons and photos -------------------------------------------------------------------

    def _local(self, moment: datetime, person: Person) -> str:
        """A time of day as the person reads it, in their district's time zone."""
        return moment.astimezone(ZoneInfo(person.timezone)).strftime("%H:%M")

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        chat = update.effective_chat
        if query is None or chat is None:
            return
        kind, _, value = (query.data or "").partition(":")
        number = int(value) if value.isdigit() else 0
        now = self.clock.now()
        if kind == "rasset":
            await query.answer()
            await self._report_asset(update, context, "", number)
            return
        if kind == "report":
            await query.answer()
            if context.chat_data is not None:
                context.chat_data["report"] = {"step": "asset", "photos": []}
            asset_id = await self.run_db(lambda session: _task_asset(session, number))
            await self._report_asset(update, context, "", asset_id or 0)
            return

        def act(session: Session) -> tuple[str | None, str, dict[str, Any]]:
            person = person_for_chat(session, chat.id)
            if person is None:
                return None, NOT_LINKED, {}
            locale = self.locale_of(person, update)
            if kind == "ack":
                notice = acknowledge(session, person, number, now=now)
                if notice is None or notice.acknowledged_at is None:
                    return locale, NOT_YOURS, {}
                return locale, ACKNOWLEDGED, {"at": self._local(notice.acknowledged_at, person)}
            if kind == "snooze":
                until = now + timedelta(hours=1)
                if snooze(session, person, number, now=now, until=until) is None:
                    return locale, NOT_YOURS, {}
                return locale, SNOOZED, {"at": self._local(until, person)}
            if kind == "photo":
                return locale, SEND_PHOTO, {"task": number}
            return locale, NOT_YOURS, {}

        locale, msgid, params = await self.run_db(act)
        task_id = params.pop("task", None)
        await query.answer(translate(locale or self.locale_of(None, update), msgid, **params))
        if kind == "ack" and msgid == ACKNOWLEDGED:
            await query.edit_message_reply_markup(reply_markup=None)
        if task_id is not None:
            waiting = (
                context.chat_data.pop("photo", None) if context.chat_data is not None else None
            )
            if waiting is not None:
                await self._file_photo(update, context, task_id, *waiting)
            else:
                if context.chat_data is not None:
                    context.chat_data["task"] = task_id
                await self.reply(update, locale or "zh_CN", SEND_PHOTO)

    async def photo(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        chat = update.effective_chat
        if message is None or chat is None:
            return
        if message.photo:
            file_id = message.photo[-1].file_id
        elif message.document is not None:
            file_id = message.document.file_id
        else:
            return
        report = self._report(context)
        if report is not None and report.get("step") == "photos":
            if len(report["photos"]) < MAX_REPORT_PHOTOS:
                telegram_file = await context.bot.get_file(file_id)
                try:
                    check_photo_size(telegram_file.file_size or 0)
                except PhotoRejected as refused:
                    locale = await self.reader_locale(update)
                    await self.reply(update, locale, refused.message.msgid)
                    return
                report["photos"].append(bytes(await telegram_file.download_as_bytearray()))
            await self.reply(
                update,
                await self.reader_locale(update),
                REPORT_PHOTO_ADDED,
                count=len(report["photos"]),
            )
            return
        reply_to = message.reply_to_message.message_id if message.reply_to_message else None
        now = self.clock.now()

        def context_of(session: Session) -> tuple[Person | None, list[int], list[tuple[int, str]]]:
            person = person_for_chat(session, chat.id)
            if person is None:
                return None, [], []
            if reply_to is not None:
                notice = delivery_for_message(session, chat.id, reply_to)
                if notice is not None and notice.task_ids:
                    return person, list(notice.task_ids), []
            choices = [
                (task.id, f"{task.asset.code} {task.asset.name}")
                for task in tasks_for(session, person, now=now, mine=True, with_done=False)
                if task.status(now) in (TaskStatus.DUE, TaskStatus.OVERDUE)
                and _takes_photo(session, task.template_key)
            ]
            return person, [], choices

        person, task_ids, choices = await self.run_db(context_of)
        if person is None:
            await self.reply(update, self.locale_of(None, update), NOT_LINKED)
            return
        locale = self.locale_of(person, update)
        waiting_task = (
            context.chat_data.pop("task", None) if context.chat_data is not None else None
        )
        if len(task_ids) == 1 or (not task_ids and waiting_task is not None):
            task_id = task_ids[0] if task_ids else waiting_task
            await self._file_photo(update, context, task_id, file_id, message.message_id)
            return
        if task_ids:
            choices = [(task_id, f"#{task_id}") for task_id in task_ids]
        if not choices:
            await self.reply(update, locale, NO_PHOTO_TASK)
            return
        if context.chat_data is not None:
            context.chat_data["photo"] = (file_id, message.message_id)
        keyboard = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(label[:60], callback_data=f"photo:{tid}")]
                for tid, label in choices[:10]
            ]
        )
        await chat.send_message(translate(locale, WHICH_TASK), reply_markup=keyboard)

    async def _file_photo(
        self,
        update: Update,
        context: ContextTypes.DEFAULT_TYPE,
        task_id: int,
        file_id: str,
        message_id: int,
    ) -> None:
        chat = update.effective_chat
        assert chat is not None
        telegram_file = await context.bot.get_file(file_id)
        try:
            check_photo_size(telegram_file.file_size or 0)
        except PhotoRejected as refused:
            await self.reply(update, await self.reader_locale(update), refused.message.msgid)
            return
        data = bytes(await telegram_file.download_as_bytearray())
        try:
            processed = prepare_photo(data, self.store, keep_exif=self.settings.storage.keep_exif)
        except PhotoRejected:
            processed = None  # refused inside, with the checklist's own message

        def file(session: Session) -> tuple[str, str, dict[str, Any]]:
            person = person_for_chat(session, chat.id)
            if person is None:
                return "zh_CN", NOT_LINKED, {}
            locale = self.locale_of(person, update)
            try:
                submission = submit_task_photo(
                    session,
                    actor=person,
                    task_id=task_id,
                    photo=data,
                    key=f"tg-{chat.id}-{message_id}",
                    clock=self.clock,
                    store=self.store,
                    keep_exif=self.settings.storage.keep_exif,
                    processed=processed,
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

        locale, msgid, params = await self.run_db(file)
        await self.reply(update, locale, msgid, **params)


def _task_asset(session: Session, task_id: int) -> int | None:
    """The asset a task is about; whether the person may report on it is checked after."""
    task = session.get(Task, task_id)
    return task.asset_id if task is not None else None


def _takes_photo(session: Session, template_key: str) -> bool:
    template = latest_template(session, template_key)
    return template is not None and template.spec.bot is not None


def webhook_options(settings: Settings) -> dict[str, Any]:
    """Where the bot listens for Telegram's calls and the address Telegram is given."""
    telegram = settings.telegram
    path = telegram.webhook_path.strip("/")
    return {
        "listen": telegram.webhook_listen,
        "port": telegram.webhook_port,
        "url_path": path,
        "webhook_url": f"{settings.server.base_url.rstrip('/')}/{path}",
        "secret_token": telegram.webhook_secret,
    }


def run(settings: Settings, application: Application, *, in_thread: bool = False) -> None:
    """Run until stopped: long polling, or a webhook whose secret is checked on every call."""
    options: dict[str, Any] = {"stop_signals": None} if in_thread else {}
    if settings.telegram.mode == "webhook":
        application.run_webhook(**webhook_options(settings), **options)
    else:
        application.run_polling(**options)


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
        outbox = OutboxSender(
            application.bot, factory, clock, limits, base_url=settings.server.base_url
        )
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
    application.add_handler(CommandHandler("due", houqin.due))
    application.add_handler(CommandHandler("alerts", houqin.alerts))
    application.add_handler(CommandHandler("digest", houqin.digest))
    application.add_handler(CommandHandler("stats", houqin.stats))
    application.add_handler(CommandHandler("report", houqin.report))
    application.add_handler(CommandHandler("done", houqin.done))
    application.add_handler(CommandHandler("cancel", houqin.cancel))
    application.add_handler(CallbackQueryHandler(houqin.button))
    application.add_handler(MessageHandler(filters.PHOTO | filters.Document.IMAGE, houqin.photo))
    application.add_handler(MessageHandler(filters.ALL, houqin.anything_else))
    return application
