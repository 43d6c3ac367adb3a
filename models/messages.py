"""Messages the domain hands to a door, which translates them for the person reading."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def N_(msgid: str) -> str:
    """Marks a string for the catalogue without translating it here."""
    return msgid


@dataclass(frozen=True)
class Message:
    msgid: str
    params: dict[str, Any] = field(default_factory=dict)


class DomainError(Exception):
    """An operation refused; `message` says why in catalogue terms."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.msgid)
        self.message = message


class SubmissionInvalid(Exception):
    """A record was refused; `errors` maps each field to what is wrong with it.

    `overload` is (children, seats) when the refusal was a bus with more children than seats:
    that is refused and also raised as an alert. `alerted` says the refusal raised alerts
    (an overloaded bus, a bus with no escort teacher): the door keeps them and nothing else.
    """

    def __init__(
        self,
        errors: dict[str, Message],
        overload: tuple[int, int] | None = None,
        *,
        alerted: bool = False,
    ) -> None:
        super().__init__(", ".join(f"{k}: {m.msgid}" for k, m in errors.items()))
        self.errors = errors
        self.overload = overload
        self.alerted = alerted or overload is not None
