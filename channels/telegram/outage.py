"""Telegram out of reach, logged once: one line when calls first fail, one when they succeed.

Every call the bot makes (polling, replies, the outbox) goes through one WatchedRequest, so
an outage is seen wherever it shows first and its end wherever a call first gets through;
the failing calls themselves are retried quietly by their callers.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from telegram.error import NetworkError
from telegram.request import HTTPXRequest

log = logging.getLogger(__name__)

# Telegram (or the proxy in front of it) answering these is Telegram being unreachable.
UNREACHABLE = frozenset({502, 503, 504})


class Outage:
    """Whether Telegram is reachable, as the last call found it; logs only the changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._since: float | None = None
        self._failed_calls = 0

    @property
    def down(self) -> bool:
        return self._since is not None

    def failed(self, reason: object) -> None:
        with self._lock:
            self._failed_calls += 1
            if self._since is not None:
                return
            self._since = time.monotonic()
        log.warning("Telegram cannot be reached (%s); retrying quietly until it can", reason)

    def reached(self) -> None:
        with self._lock:
            if self._since is None:
                return
            lasted, calls = time.monotonic() - self._since, self._failed_calls
            self._since, self._failed_calls = None, 0
        log.warning("Telegram is reachable again after %.0f s (%d failed calls)", lasted, calls)


class QuietNetworkErrors(logging.Filter):
    """python-telegram-bot logs each failed poll with its traceback (its updater's default
    error callback); while Telegram is out of reach the outage has said so once already."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, NetworkError)


def quiet_library_logs() -> None:
    """Install the filter on python-telegram-bot's polling logger, once."""
    updater = logging.getLogger("telegram.ext.Updater")
    if not any(isinstance(f, QuietNetworkErrors) for f in updater.filters):
        updater.addFilter(QuietNetworkErrors())


class WatchedRequest(HTTPXRequest):
    """python-telegram-bot's HTTP client, telling the outage what each call found."""

    def __init__(self, outage: Outage, **options: Any) -> None:
        super().__init__(**options)
        self.outage = outage

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        try:
            status, payload = await super().do_request(*args, **kwargs)
        except Exception as error:
            self.outage.failed(error)
            raise
        if status in UNREACHABLE:
            self.outage.failed(f"HTTP {status}")
        else:
            self.outage.reached()
        return status, payload
