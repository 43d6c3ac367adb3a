"""One pacing for every call the bot makes to Telegram: the outbox, replies, edits, answers to
button presses.

Telegram allows about 30 messages a second overall and one a second per chat (20 a minute in
a group). Each chat's calls go one after another, each an interval after Telegram answered
the last, so the spacing holds where Telegram measures it, and they keep their order; all
chats share the overall limit (aiolimiter's leaky bucket, for an even pace, and a window of
answered calls, so that a busy machine putting calls on the wire late never bunches more of
them at Telegram than the limit). A 429 pauses every call for its retry_after, then the call is
tried again. PTB applies this to every request of the bot it is given to
(`ApplicationBuilder.rate_limiter`, `ExtBot(rate_limiter=…)`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from channels.pacing import RecipientPacing

log = logging.getLogger(__name__)

SAFETY = 0.95
# A wider margin overall: many connections' worth of jitter can bunch up on arrival.
OVERALL_MARGIN = 0.95
# Calls that Telegram counts as messages; getUpdates, getFile, getMe and the like are not paced.
MESSAGE_CALLS = ("send", "edit", "copy", "forward", "delete", "answer", "pin", "unpin")

Answer = bool | dict[str, Any] | list[dict[str, Any]]


@dataclass(frozen=True)
class RateLimits:
    """Telegram's limits, scaled by `factor` only where a test or a benchmark runs faster
    than life against a fake that scales them the same way."""

    overall_per_second: float = 30.0
    per_chat_per_second: float = 1.0
    per_group_per_minute: float = 20.0
    factor: float = 1.0

    def interval(self, chat_id: int | str) -> float:
        """Seconds between two calls to one chat: a group's (negative id, or an @name) is
        longer than a private chat's."""
        if isinstance(chat_id, str) or chat_id < 0:
            return 60 / (self.per_group_per_minute * self.factor * SAFETY)
        return 1 / (self.per_chat_per_second * self.factor * SAFETY)


class AnsweredWindow:
    """At most `slots` calls at Telegram in any `seconds`, however late they leave: a call holds
    a slot from when it is started until `seconds` after its answer. It reaches Telegram between
    the two, so the calls Telegram sees within any `seconds` all held their slots at once here.
    A leaky bucket alone counts when a call was let go, and a machine too busy to send it then
    sends it later, bunched with the next ones."""

    def __init__(self, slots: int, seconds: float) -> None:
        self.slots = slots
        self.seconds = seconds
        self._free: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _semaphore(self) -> asyncio.Semaphore:
        """One per event loop: slots handed back on a loop that has ended are not lost."""
        loop = asyncio.get_running_loop()
        if self._free is None or self._loop is not loop:
            self._free, self._loop = asyncio.Semaphore(self.slots), loop
        return self._free

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        free = self._semaphore()
        await free.acquire()
        try:
            yield
        finally:
            asyncio.get_running_loop().call_later(self.seconds, free.release)


def _seconds(retry_after: int | timedelta) -> float:
    return retry_after.total_seconds() if isinstance(retry_after, timedelta) else float(retry_after)


def _chat_of(data: dict[str, Any]) -> int | str | None:
    chat_id = data.get("chat_id")
    if chat_id is None:
        return None
    with contextlib.suppress(ValueError, TypeError):
        return int(chat_id)
    return str(chat_id)


class Pacing(BaseRateLimiter[int]):
    def __init__(self, limits: RateLimits | None = None, *, max_retries: int = 3) -> None:
        self.limits = limits or RateLimits()
        self.max_retries = max_retries
        self._overall = AsyncLimiter(
            2, 2 / (self.limits.overall_per_second * self.limits.factor * SAFETY * OVERALL_MARGIN)
        )
        # Telegram counts messages a second; its window is not scaled, its limit is.
        self._answered = AnsweredWindow(
            max(1, math.floor(self.limits.overall_per_second * self.limits.factor * SAFETY)), 1.0
        )
        # One call per chat per interval, counted from Telegram's answer.
        self._chat_pacing: RecipientPacing[int | str] = RecipientPacing(1, self.limits.interval)
        self._chat_turn: dict[int | str, asyncio.Lock] = {}
        self._paused_until = 0.0

    async def initialize(self) -> None:
        """Nothing to open: the pacing is all in memory."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Answer]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Answer:
        if not endpoint.startswith(MESSAGE_CALLS):
            return await callback(*args, **kwargs)
        retries = self.max_retries if rate_limit_args is None else rate_limit_args
        chat_id = _chat_of(data)
        for attempt in range(retries + 1):
            try:
                if chat_id is None:
                    return await self._overall_call(callback, args, kwargs)
                return await self._chat_call(chat_id, callback, args, kwargs)
            except RetryAfter as limited:
                if attempt == retries:
                    raise
                self._pause(_seconds(limited.retry_after))
                log.info("Telegram asked to wait %ss; every chat waits", limited.retry_after)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _overall_call(
        self, callback: Callable[..., Coroutine[Any, Any, Answer]], args: Any, kwargs: Any
    ) -> Answer:
        await self._wait_pause()
        async with self._answered.slot(), self._overall:
            return await callback(*args, **kwargs)

    async def _chat_call(
        self,
        chat_id: int | str,
        callback: Callable[..., Coroutine[Any, Any, Answer]],
        args: Any,
        kwargs: Any,
    ) -> Answer:
        turn = self._chat_turn.setdefault(chat_id, asyncio.Lock())
        async with turn:
            wait = self._chat_pacing.wait(chat_id)
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                return await self._overall_call(callback, args, kwargs)
            finally:
                # Counted from Telegram's answer, however long it took to come back.
                self._chat_pacing.sent(chat_id)
                if len(self._chat_pacing) > 4096:
                    self._forget_idle()

    def _forget_idle(self) -> None:
        """Chats whose interval has passed need no memory; keeps a busy bot's maps small."""
        self._chat_pacing.forget_idle(busy=self._busy)
        for chat_id in [c for c in self._chat_turn if not self._busy(c)]:
            if not self._chat_pacing.recent(chat_id):
                del self._chat_turn[chat_id]

    def _busy(self, chat_id: int | str) -> bool:
        turn = self._chat_turn.get(chat_id)
        return turn is not None and turn.locked()

    def _pause(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        self._paused_until = max(self._paused_until, loop.time() + seconds)

    async def _wait_pause(self) -> None:
        loop = asyncio.get_running_loop()
        while (remaining := self._paused_until - loop.time()) > 0:
            await asyncio.sleep(remaining)
