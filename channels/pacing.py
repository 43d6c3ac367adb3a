"""Per-recipient pacing, the one every channel's sender keeps: at most `per_window` messages
to one recipient (a user, a chat, a group) in any `window` seconds, a rolling window.

A sender asks how long to wait before it sends (`wait`) or how many went lately (`recent`),
and says when a message went (`sent`), at the time it counts from (Telegram's: the answer).
The margin under the service's documented limit is the sender's: it passes a window that
already has it. Times come from a monotonic clock a test can set.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

Recipient = TypeVar("Recipient", bound=Hashable)


class RecipientPacing(Generic[Recipient]):
    def __init__(
        self,
        per_window: int,
        window: float | Callable[[Recipient], float],
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """`window` is seconds, or each recipient's seconds (a Telegram group's are longer
        than a private chat's)."""
        self.per_window = per_window
        self._window = window
        self.monotonic = monotonic
        self._sent: dict[Recipient, deque[float]] = {}

    def window(self, recipient: Recipient) -> float:
        return self._window(recipient) if callable(self._window) else self._window

    def _current(self, recipient: Recipient) -> deque[float]:
        """The recipient's send times still within the window, oldest first."""
        sent = self._sent.get(recipient)
        if sent is None:
            return deque()
        since = self.monotonic() - self.window(recipient)
        while sent and sent[0] <= since:
            sent.popleft()
        return sent

    def recent(self, recipient: Recipient) -> int:
        """How many messages the recipient got within the window."""
        return len(self._current(recipient))

    def wait(self, recipient: Recipient, count: int = 1) -> float:
        """Seconds before `count` more messages may go to the recipient; 0 if they may now."""
        sent = self._current(recipient)
        over = min(len(sent) + count - self.per_window, len(sent))
        if over <= 0:
            return 0.0
        return max(0.0, sent[over - 1] + self.window(recipient) - self.monotonic())

    def sent(self, recipient: Recipient) -> None:
        """One message went to the recipient now."""
        sent = self._sent.setdefault(recipient, deque())
        sent.append(self.monotonic())
        while len(sent) > self.per_window:
            sent.popleft()

    def forget_idle(self, busy: Callable[[Recipient], bool] = lambda recipient: False) -> None:
        """Recipients whose window has passed, less the busy ones, need no memory."""
        for recipient in list(self._sent):
            if not self._current(recipient) and not busy(recipient):
                del self._sent[recipient]

    def __len__(self) -> int:
        """Recipients remembered."""
        return len(self._sent)
