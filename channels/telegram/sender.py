"""The Telegram channel's sender: each notice once, in order per chat, within the limits.

Each chat's notices go out one after another; the bot it is given paces every call it makes
(channels.telegram.pacing, shared with the bot's replies), so together they stay within
Telegram's limits. A 5xx, a network error or a 429 that outlasts the pacing's own retries is
tried again with growing waits and, if it keeps failing, left for the next drain, the chat's
later notices waiting behind it so their order holds. A notice is marked delivered, with
Telegram's message id, as soon as Telegram accepts it; each piece of a long notice is
recorded as it is accepted, so a sender started after a crash resumes at the next piece. It
claims (a lease under this process's sender id, so several senders deliver each notice
once), sends and marks through models.outbox, as every channel does (see channels/); what
it claimed and did not send it hands back when a drain ends.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from channels import lease_of, sender_id
from channels.telegram import CHANNEL
from models.catalogue import translate
from models.clock import Clock
from models.leases import release_rows
from models.messages import N_, Message
from models.notifications import Delivery, Notification
from models.outbox import (
    LEASE,
    Outgoing,
    claim_deliveries,
    mark_delivered,
    mark_failed,
    mark_piece_sent,
    skip_pending,
    skip_unaddressed,
)
from models.records import tasks_a_photo_closes, undone_task_ids
from models.unit_of_work import unit_of_work
from settings import Settings

log = logging.getLogger(__name__)

TEXT_LIMIT = 4096
# Requests in flight at once: chats are sent to side by side, not one after another.
CONNECTIONS = 16


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Pieces of at most `limit` characters that join back into the text, cut after a line
    break, else after a space, where there is one in the second half of the piece."""
    pieces = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit) + 1
        if cut <= limit // 2:
            cut = text.rfind(" ", 0, limit) + 1
        if cut <= limit // 2:
            cut = limit
        pieces.append(text[:cut])
        text = text[cut:]
    return [*pieces, text]


DONE_WITH_PHOTO = N_("Done — send a photo")
REPORT_PROBLEM = N_("Report a problem")
SNOOZE = N_("Snooze 1 h")
ACKNOWLEDGE = N_("Acknowledge")
OPEN_IN_HOUQIN = N_("Open in Houqin")
CLOSE_ACTION = N_("Fixed — close it")
# Why a notice did not reach its chat, as an administrator reads it on the reach page.
BLOCKED = N_("The person blocked the bot or deleted the chat.")
CHAT_NOT_FOUND = N_("Telegram does not know this chat: the person may have deleted it.")
REFUSED = N_("Telegram refused the message: %(answer)s")
UNREACHABLE = N_("Telegram could not be reached (%(answer)s); it will be tried again.")
# A notice about a corrective action links to its page: the chat can close it too.
ACTION_LINK = re.compile(r"/actions/(\d+)")
# A reminder for several tasks offers this many of them by name; /due lists the rest.
TASK_BUTTONS = 5


def page_url(base_url: str, link: str | None) -> str:
    """The notice's page in Houqin; one without a page of its own opens the inbox."""
    return f"{base_url.rstrip('/')}{link or '/inbox'}"


def url_button_allowed(base_url: str) -> bool:
    """Telegram refuses URL buttons to addresses it cannot open (localhost, plain http inside
    a school's network), refusing the whole message: those get the address in the text."""
    return base_url.startswith("https://")


def buttons_for(
    item: Outgoing, photo_tasks: Sequence[tuple[int, str]] = (), base_url: str = ""
) -> InlineKeyboardMarkup | None:
    """A reminder offers to finish with a photo the tasks a photo can close (named by their
    asset when there are several), to report a problem or to snooze; an alert asks to be
    acknowledged; with a public address, a button opens the notice's page. Callback data
    stays far under Telegram's 64 bytes."""
    rows = []
    if len(item.task_ids) == 1:
        task_id = item.task_ids[0]
        if any(closable == task_id for closable, _ in photo_tasks):
            rows.append([_button(item, DONE_WITH_PHOTO, f"photo:{task_id}")])
        rows.append(
            [
                _button(item, REPORT_PROBLEM, f"report:{task_id}"),
                _button(item, SNOOZE, f"snooze:{item.notification_id}"),
            ]
        )
    elif item.task_ids:
        for task_id, label in photo_tasks[:TASK_BUTTONS]:
            text = f"{translate(item.locale, DONE_WITH_PHOTO)}: {label}"[:60]
            rows.append([InlineKeyboardButton(text, callback_data=f"photo:{task_id}")])
        rows.append([_button(item, SNOOZE, f"snooze:{item.notification_id}")])
    action = ACTION_LINK.fullmatch(item.link or "")
    if action is not None:
        rows.append([_button(item, CLOSE_ACTION, f"close:{action.group(1)}")])
    if item.severity in ("major", "critical") and not item.acknowledged:
        rows.append([_button(item, ACKNOWLEDGE, f"ack:{item.notification_id}")])
    if base_url and url_button_allowed(base_url):
        rows.append(
            [
                InlineKeyboardButton(
                    translate(item.locale, OPEN_IN_HOUQIN), url=page_url(base_url, item.link)
                )
            ]
        )
    return InlineKeyboardMarkup(rows) if rows else None


def _button(item: Outgoing, msgid: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(translate(item.locale, msgid), callback_data=data)


def refusal_reason(refused: Forbidden | BadRequest) -> Message:
    """What Telegram's refusal of a message means for the person it was for."""
    if isinstance(refused, Forbidden):
        return Message(BLOCKED)
    if "chat not found" in refused.message.lower():
        return Message(CHAT_NOT_FOUND)
    return Message(REFUSED, {"answer": refused.message})


def _chat(item: Outgoing) -> int:
    """The chat a delivery goes to: its address is the chat's id, as text."""
    return int(item.address)


# One notice's end in a drain: Telegram's message id (delivered), or when to try again (None:
# never) and why it failed.
Outcome = tuple[Outgoing, str | None, datetime | None, Message | None]


class OutboxSender:
    def __init__(
        self,
        bot: Bot,
        factory: sessionmaker[Session],
        clock: Clock,
        *,
        max_tries: int = 5,
        first_backoff: float = 1.0,
        batch: int = 2000,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        base_url: str = "",
        sender: str | None = None,
        lease: timedelta = LEASE,
    ) -> None:
        self.bot = bot
        self.sender = sender or sender_id()
        self.lease = lease
        # The web app's address: a notice's link goes under its text, to open the page.
        self.base_url = base_url.rstrip("/")
        self.factory = factory
        self.clock = clock
        self.max_tries = max_tries
        self.first_backoff = first_backoff
        self.batch = batch
        self.sleep = sleep
        # Outcomes wait here for the one writer, which commits them in small batches.
        self._outcomes: list[Outcome] = []
        self._outcome_ready = asyncio.Event()
        # Per delivery: the tasks of its reminder a photo can close, with their assets' names.
        self._photo_tasks: dict[int, list[tuple[int, str]]] = {}

    async def drain(self) -> int:
        """Send everything deliverable now; returns how many notices were delivered."""
        delivered = 0
        after = 0
        held: set[int] = set()  # chats with a notice that must wait: their later ones wait too
        done = asyncio.Event()
        self._photo_tasks.clear()
        await asyncio.to_thread(self._skip_unaddressed)
        writer = asyncio.create_task(self._write_outcomes(done))
        try:
            while True:
                pending = await asyncio.to_thread(self._pending, after)
                if not pending:
                    return delivered
                after = pending[-1].delivery_id
                by_chat: dict[int, list[Outgoing]] = defaultdict(list)
                for item in pending:
                    if _chat(item) not in held:
                        by_chat[_chat(item)].append(item)
                chats = list(by_chat.items())
                results = await asyncio.gather(*(self._send_chat(items) for _, items in chats))
                for (chat_id, _), (sent, settled) in zip(chats, results, strict=True):
                    delivered += sent
                    if not settled:
                        held.add(chat_id)
        finally:
            done.set()
            self._outcome_ready.set()
            await writer
            await asyncio.to_thread(self._release)

    def _release(self) -> None:
        with unit_of_work(self.factory) as session:
            release_rows(session, Delivery, self.sender)

    async def _write_outcomes(self, done: asyncio.Event) -> None:
        """Commit what was sent as soon as it was sent, a batch at a time, in one thread."""
        while True:
            await self._outcome_ready.wait()
            self._outcome_ready.clear()
            batch, self._outcomes = self._outcomes, []
            if batch:
                await self._write_with_retries(batch)
            if done.is_set() and not self._outcomes:
                return

    async def _write_with_retries(self, batch: list[Outcome]) -> None:
        """What was sent must be written, or it would be sent again: a busy database is
        waited for; after that the drain stops rather than send more it cannot record."""
        for attempt in range(5):
            try:
                await asyncio.to_thread(self._write, batch)
                return
            except OperationalError:
                if attempt == 4:
                    raise
                log.warning("recording %d delivered notice(s) failed; trying again", len(batch))
                await self.sleep(2**attempt)

    def _write(self, batch: list[Outcome]) -> None:
        now = self.clock.now()
        with unit_of_work(self.factory) as session:
            for item, message_id, retry_at, reason in batch:
                if message_id is not None:
                    mark_delivered(session, item.delivery_id, message_id, now=now)
                else:
                    mark_failed(
                        session, item.delivery_id, now=now, retry_at=retry_at, reason=reason
                    )

    def _outcome(
        self,
        item: Outgoing,
        message_id: str | None,
        retry_at: datetime | None,
        reason: Message | None = None,
    ) -> None:
        self._outcomes.append((item, message_id, retry_at, reason))
        self._outcome_ready.set()

    def _skip_unaddressed(self) -> None:
        with unit_of_work(self.factory) as session:
            skip_unaddressed(session, CHANNEL, now=self.clock.now())

    def _pending(self, after: int) -> list[Outgoing]:
        """The next deliveries, less notices whose tasks were all done meanwhile (a snoozed
        reminder comes back to nothing; the inbox still has it), each with the tasks of its
        reminder a photo can close."""
        while True:
            now = self.clock.now()
            with unit_of_work(self.factory) as session:
                claimed = claim_deliveries(
                    session,
                    CHANNEL,
                    now=now,
                    after_id=after,
                    limit=self.batch,
                    sender=self.sender,
                    lease=self.lease,
                )
                pending = []
                for item in claimed:
                    if item.task_ids and not undone_task_ids(session, item.task_ids):
                        skip_pending(
                            session, CHANNEL, Notification.id == item.notification_id, now=now
                        )
                        continue
                    self._photo_tasks[item.delivery_id] = [
                        (task.id, f"{task.asset.code} {task.asset.name}")
                        for task in tasks_a_photo_closes(session, item.task_ids)
                    ]
                    pending.append(item)
            if pending or not claimed:
                return pending
            after = claimed[-1].delivery_id  # only skipped ones: the next batch is after them

    def _piece_sent(self, item: Outgoing, pieces_sent: int, message_id: str) -> None:
        with unit_of_work(self.factory) as session:
            mark_piece_sent(session, item.delivery_id, pieces_sent, message_id, self.clock.now())

    async def _send_chat(self, items: list[Outgoing]) -> tuple[int, int]:
        """How many of the chat's notices were delivered, and whether all were settled (sent,
        or given up for good): a notice that must wait holds back the ones after it."""
        delivered = 0
        for item in items:
            outcome = await self._send(item)
            if outcome is None:
                return delivered, False  # later notices wait, so the chat reads them in order
            delivered += outcome
        return delivered, True

    async def _send(self, item: Outgoing) -> int | None:
        """1 when delivered, 0 when given up for good, None when it must wait for later.

        A long notice goes as several messages, each recorded as Telegram accepts it; a retry,
        or another sender after a crash, resumes at the next piece."""
        text = item.text
        if self.base_url and not url_button_allowed(self.base_url):
            text = f"{text}\n{page_url(self.base_url, item.link)}"
        buttons = buttons_for(item, self._photo_tasks.pop(item.delivery_id, []), self.base_url)
        pieces = split_text(text)
        chat_id = _chat(item)
        sent_pieces = min(item.pieces_sent, len(pieces) - 1)
        message_id = 0
        backoff = self.first_backoff
        tries = 0
        failure = ""
        while sent_pieces < len(pieces):
            if tries == self.max_tries:
                retry_at = self.clock.now() + timedelta(seconds=backoff)
                self._outcome(item, None, retry_at, Message(UNREACHABLE, {"answer": failure}))
                return None
            tries += 1
            last = sent_pieces == len(pieces) - 1
            try:
                message = await self.bot.send_message(
                    chat_id,
                    pieces[sent_pieces],
                    reply_markup=buttons if last else None,
                )
            except (Forbidden, BadRequest) as refused:
                log.warning("notice %d to chat %d refused: %s", item.delivery_id, chat_id, refused)
                self._outcome(item, None, None, refusal_reason(refused))
                return 0
            except (RetryAfter, TimedOut, NetworkError) as failed:
                # One line per outage is logged where every call goes (channels.telegram.outage).
                log.debug("notice %d: %s; trying again in %.1fs", item.delivery_id, failed, backoff)
                failure = str(failed) or type(failed).__name__
                await self.sleep(backoff)
                backoff = min(backoff * 2, 60.0)
                continue
            message_id = message.message_id
            sent_pieces += 1
            tries = 0
            if not last:
                await self._record_piece(item, sent_pieces, str(message_id))
        self._outcome(item, str(message_id), None)
        return 1

    async def _record_piece(self, item: Outgoing, pieces_sent: int, message_id: str) -> None:
        """A piece must be written before the next is sent, or a crash would send it again."""
        for attempt in range(5):
            try:
                await asyncio.to_thread(self._piece_sent, item, pieces_sent, message_id)
                return
            except OperationalError:
                if attempt == 4:
                    raise
                await self.sleep(2**attempt)


def sender(
    bot: Bot, settings: Settings, factory: sessionmaker[Session], clock: Clock, **options: Any
) -> OutboxSender:
    """The bot's sender as the config sets it: claims held `[channels] lease_seconds`, as the
    other channels' are, and links under the web app's address."""
    options.setdefault("lease", lease_of(settings))
    options.setdefault("base_url", settings.server.base_url)
    return OutboxSender(bot, factory, clock, **options)
