"""Channels: one adapter package per way of reaching people, outside the domain.

The domain (models/) knows a channel only by its name. It keeps each person's address on a
channel (models.addresses, linked with models.linking's one-time codes) and queues one
delivery per notice for every channel the recipient has an address on. An adapter, e.g.
`channels.telegram`, owns its name and does three things with models.outbox, in one short
transaction each, never holding one open while it talks to its service:

1. claim: `skip_unaddressed(session, NAME, now=…)`, then `claim_deliveries(session, NAME,
   now=…, after_id=…, sender=…, lease=…)` for the next batch, oldest first, each with the
   recipient's address, held for this sender (one id per process) until the lease ends, so
   several senders deliver each notice once; `models.leases.release_rows` hands back what a
   sender claimed and did not send when it stops;
2. send: each recipient's deliveries in order, within the service's documented limits,
   holding back a recipient's later notices while an earlier one waits for a retry;
3. mark: `mark_delivered(session, delivery_id, external_id, now=…)` as soon as the service
   accepts a notice (its message id, as text, lets `notification_for_reply` find the notice
   a reply or a button press is about), or `mark_failed(…, retry_at=…, reason=…)`: later,
   or never (`retry_at=None`) when the address refuses for good, with a catalogue message
   saying what happened in an administrator's words (the reach page shows it). A notice
   sent as several pieces records each with `mark_piece_sent` as it is accepted;
   `Outgoing.pieces_sent` says where to resume after a crash.

A new channel adds a package here and is started by its door; models/ does not change.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from models.clock import Clock
    from settings import Settings

log = logging.getLogger(__name__)


def sender_id() -> str:
    """Who claims: this host and process, and a random part for a process id reused."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


def lease_of(settings: Settings) -> timedelta:
    """How long a sender holds what it claimed ([channels] lease_seconds)."""
    return timedelta(seconds=settings.channels.lease_seconds)


class ServiceDown(Exception):
    """The service could not be reached (or answered 5xx): nothing was settled by it, so the
    drain stops and every undelivered notice waits, in order, for the next one."""


class Sender(Protocol):
    @property
    def name(self) -> str:
        """The channel's name, for the log."""
        ...

    def drain(self) -> int:
        """Send everything deliverable now; how many notices were delivered."""
        ...


SenderFactory = Callable[["Settings", "sessionmaker[Session]", "Clock"], Sender]


def _wecom(settings: Settings, factory: sessionmaker[Session], clock: Clock) -> Sender:
    from channels.wecom.sender import WeComSender

    return WeComSender(
        settings.wecom,
        factory,
        clock,
        base_url=settings.server.base_url,
        lease=lease_of(settings),
    )


def _email(settings: Settings, factory: sessionmaker[Session], clock: Clock) -> Sender:
    from channels.email.sender import EmailSender

    return EmailSender(
        settings.email,
        factory,
        clock,
        base_url=settings.server.base_url,
        lease=lease_of(settings),
    )


def _wecom_robot(settings: Settings, factory: sessionmaker[Session], clock: Clock) -> Sender:
    from channels import wecom_robot

    return wecom_robot.sender(settings, factory, clock)


def _dingtalk_robot(settings: Settings, factory: sessionmaker[Session], clock: Clock) -> Sender:
    from channels import dingtalk_robot

    return dingtalk_robot.sender(settings, factory, clock)


# Each channel `houqin send` runs: whether it is configured, and how to make its sender. The
# group robots need no configuration here: their groups are set up in the web app.
SENDERS: dict[str, tuple[Callable[[Settings], bool], SenderFactory]] = {
    "wecom": (lambda s: s.wecom.app_enabled, _wecom),
    "email": (lambda s: s.email.enabled, _email),
    "wecom_robot": (lambda s: True, _wecom_robot),
    "dingtalk_robot": (lambda s: True, _dingtalk_robot),
}


def enabled_senders(
    settings: Settings, factory: sessionmaker[Session], clock: Clock
) -> list[Sender]:
    return [
        make(settings, factory, clock) for enabled, make in SENDERS.values() if enabled(settings)
    ]


class OutageLog:
    """One log line when a service goes down and one when it is back, not one per call."""

    def __init__(self) -> None:
        self.down: dict[str, str] = {}

    def failed(self, name: str, reason: str) -> None:
        if name not in self.down:
            log.warning("%s is unreachable (%s); notices wait until it is back", name, reason)
        self.down[name] = reason

    def ok(self, name: str) -> None:
        if self.down.pop(name, None) is not None:
            log.warning("%s is reachable again; sending what waited", name)
