"""Time as a dependency: the system clock in production, a settable one in tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SettableClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment

    def advance(self, delta: timedelta) -> None:
        self._now += delta


def sent_moment(sent: str | None) -> datetime | None:
    """A time a phone's script sent (ISO 8601 with an offset), or None when it is missing,
    unreadable or has no offset: such a field is ignored, never refused, as the person cannot
    fix it."""
    if not sent:
        return None
    try:
        moment = datetime.fromisoformat(sent.strip()[:40])
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
