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
    """A record was refused; `errors` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, Message]) -> None:
        super().__init__(", ".join(f"{k}: {m.msgid}" for k, m in errors.items()))
        self.errors = errors
