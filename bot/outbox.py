"""Delivering the outbox to Telegram: each notice once, in order per chat, within the limits.

Telegram allows about 30 messages a second overall and one a second per chat (20 a minute
in a group). Each chat's notices go out one after another, paced by its own limiter, and all
chats share the overall limiter (aiolimiter's leaky buckets). A 429 pauses every chat for its
retry_after; a 5xx or a network error is retried with growing waits and, if it keeps failing,
left for the next drain, the chat's later notices waiting behind it so their order holds.
A notice is marked delivered, with Telegram's message id, as soon as Telegram accepts it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiolimiter import AsyncLimiter
from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from models.chats import Outgoing, mark_delivered, mark_failed, pending_telegram
from models.clock import Clock
from models.db import unit_of_work

log = logging.getLogger(__name__)

TEXT_LIMIT = 4096
SAFETY = 0.95


@dataclass(frozen=True)
class RateLimits:
    """Telegram's limits, scaled by `factor` only where a benchmark runs faster than life."""

    overall_per_second: float = 30.0
    per_chat_per_second: float = 1.0
    per_group_per_minute: float = 20.0
    factor: float = 1.0


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Pieces of at most `limit` characters, cut at a line break or space where there is one."""
    pieces = []
    while len(text) > limit:
        cut = max(text.rfind("\n", 0, limit), text.rfind(" ", 0, limit))
        if cut <= limit // 2:
            cut = limit
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n ") if cut < limit else text[cut:]
    return [*pieces, text] if text or not pieces else pieces


def _smooth(per_second: float) -> AsyncLimiter:
    """One at a time, evenly spaced, a little under the rate: never a burst that a sliding
    window on Telegram's side would count against us."""
    return AsyncLimiter(1, 1 / (per_second * SAFETY))


def _seconds(retry_after: int | timedelta) -> float:
    return retry_after.total_seconds() if isinstance(retry_after, timedelta) else float(retry_after)


class OutboxSender:
    def __init__(
        self,
        bot: Bot,
        factory: sessionmaker[Session],
        clock: Clock,
        limits: RateLimits | None = None,
        *,
        max_tries: int = 5,
        first_backoff: float = 1.0,
        batch: int = 2000,
        sleep: Callable[[float], object] = asyncio.sleep,
    ) -> None:
        self.bot = bot
        self.factory = factory
        self.clock = clock
        self.limits = limits or RateLimits()
        self.max_tries = max_tries
        self.first_backoff = first_backoff
        self.batch = batch
        self.sleep = sleep
        self.overall = _smooth(self.limits.overall_per_second * self.limits.factor)
        self._chat_limiters: dict[int, AsyncLimiter] = {}
        self._paused_until = 0.0

    def _limiter(self, chat_id: int) -> AsyncLimiter:
        limiter = self._chat_limiters.get(chat_id)
        if limiter is None:
            factor = self.limits.factor
            if chat_id < 0:
                limiter = _smooth(self.limits.per_group_per_minute * factor / 60)
            else:
                limiter = _smooth(self.limits.per_chat_per_second * factor)
            self._chat_limiters[chat_id] = limiter
        return limiter

    async def drain(self) -> int:
        """Send everything deliverable now; returns how many notices were delivered."""
        delivered = 0
        after = 0
        while True:
            pending = await asyncio.to_thread(self._pending, after)
            if not pending:
                return delivered
            after = pending[-1].delivery_id
            by_chat: dict[int, list[Outgoing]] = defaultdict(list)
            for item in pending:
                by_chat[item.chat_id].append(item)
            results = await asyncio.gather(*(self._send_chat(items) for items in by_chat.values()))
            delivered += sum(results)

    def _pending(self, after: int) -> list[Outgoing]:
        with unit_of_work(self.factory) as session:
            return pending_telegram(session, now=self.clock.now(), after_id=after, limit=self.batch)

    async def _send_chat(self, items: list[Outgoing]) -> int:
        sent = 0
        for item in items:
            outcome = await self._send(item)
            if outcome is None:
                return sent  # later notices wait, so the chat reads them in order
            sent += outcome
        return sent

    async def _send(self, item: Outgoing) -> int | None:
        """1 when delivered, 0 when given up for good, None when it must wait for later."""
        backoff = self.first_backoff
        for _ in range(self.max_tries):
            await self._wait_pause()
            try:
                message_id = 0
                for piece in split_text(item.text):
                    async with self._limiter(item.chat_id), self.overall:
                        message = await self.bot.send_message(item.chat_id, piece)
                    message_id = message.message_id
            except RetryAfter as limited:
                self._pause(_seconds(limited.retry_after))
                continue
            except (Forbidden, BadRequest) as refused:
                log.warning(
                    "notice %d to chat %d refused: %s", item.delivery_id, item.chat_id, refused
                )
                await asyncio.to_thread(self._record_failure, item, None)
                return 0
            except (TimedOut, NetworkError) as failed:
                log.info("notice %d: %s; trying again in %.1fs", item.delivery_id, failed, backoff)
                await self.sleep(backoff)
                backoff = min(backoff * 2, 60.0)
                continue
            await asyncio.to_thread(self._record_delivery, item, message_id)
            return 1
        retry = self.clock.now() + timedelta(seconds=backoff)
        await asyncio.to_thread(self._record_failure, item, retry)
        return None

    def _pause(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        self._paused_until = max(self._paused_until, loop.time() + seconds)

    async def _wait_pause(self) -> None:
        loop = asyncio.get_running_loop()
        while (remaining := self._paused_until - loop.time()) > 0:
            await self.sleep(remaining)

    def _record_delivery(self, item: Outgoing, message_id: int) -> None:
        with unit_of_work(self.factory) as session:
            mark_delivered(session, item.delivery_id, message_id, now=self.clock.now())

    def _record_failure(self, item: Outgoing, retry_at: datetime | None) -> None:
        with unit_of_work(self.factory) as session:
            mark_failed(session, item.delivery_id, now=self.clock.now(), retry_at=retry_at)
