"""The outbox as a channel's adapter drains it: claim its deliveries, send them, mark them.

Everything here takes the channel's name; the domain knows no channel. Each recipient's
notices are handed out oldest first, and one that waits for a retry holds back the newer
ones, so every channel delivers a person's notices in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, and_, or_, select, update
from sqlalchemy.orm import Session

from models.addresses import ChannelAccount
from models.catalogue import DEFAULT_LOCALE
from models.notifications import Delivery, Notification
from models.people import Person, reading_locale


@dataclass(frozen=True)
class Outgoing:
    """One delivery to send: the notice, and the recipient's address on the channel."""

    delivery_id: int
    address: str
    text: str
    notification_id: int = 0
    locale: str = DEFAULT_LOCALE  # the language the recipient reads, for the channel's buttons
    severity: str = "info"
    task_ids: tuple[int, ...] = ()
    acknowledged: bool = False
    link: str | None = None  # the page the notice points to, a path under the web app


def claim_deliveries(
    session: Session, channel: str, *, now: datetime, after_id: int = 0, limit: int = 1000
) -> list[Outgoing]:
    """The channel's deliveries that may be tried now, oldest first, each with its address.

    A recipient whose older notice waits for a retry gets nothing newer before it. One
    sender drains a channel today; a lease that lets several share it belongs here."""
    waiting = (
        select(Notification.recipient_id)
        .join(Delivery, Delivery.notification_id == Notification.id)
        .where(
            Delivery.channel == channel,
            Delivery.sent_at.is_(None),
            Delivery.attempts > 0,
            Delivery.next_attempt_at > now,
        )
    )
    rows = session.execute(
        select(
            Delivery.id,
            ChannelAccount.address,
            Notification.text,
            Notification.id,
            Person,
            Notification.severity,
            Notification.task_ids,
            Notification.acknowledged_at,
            Notification.link,
        )
        .join(Notification, Notification.id == Delivery.notification_id)
        .join(
            ChannelAccount,
            and_(
                ChannelAccount.person_id == Notification.recipient_id,
                ChannelAccount.channel == channel,
            ),
        )
        .join(Person, Person.id == Notification.recipient_id)
        .where(
            Delivery.channel == channel,
            Delivery.sent_at.is_(None),
            Delivery.id > after_id,
            or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
            Notification.recipient_id.not_in(waiting),
        )
        .order_by(Delivery.id)
        .limit(limit)
    )
    return [
        Outgoing(
            delivery_id=delivery_id,
            address=address,
            text=text,
            notification_id=notification_id,
            locale=reading_locale(person),
            severity=severity,
            task_ids=tuple(task_ids or ()),
            acknowledged=acknowledged_at is not None,
            link=link,
        )
        for (
            delivery_id,
            address,
            text,
            notification_id,
            person,
            severity,
            task_ids,
            acknowledged_at,
            link,
        ) in rows
    ]


def mark_delivered(session: Session, delivery_id: int, external_id: str, *, now: datetime) -> None:
    """The channel accepted the notice and calls its message `external_id`."""
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.sent_at.is_(None))
        .values(sent_at=now, external_id=external_id, outcome="sent")
    )


def mark_failed(
    session: Session, delivery_id: int, *, now: datetime, retry_at: datetime | None
) -> None:
    """A failed try: again at `retry_at`, or never (the address refuses for good)."""
    values: dict[str, object] = {"attempts": Delivery.attempts + 1, "next_attempt_at": retry_at}
    if retry_at is None:
        values.update(sent_at=now, outcome="failed")
    session.execute(update(Delivery).where(Delivery.id == delivery_id).values(**values))


def skip_pending(
    session: Session, channel: str, recipients: ColumnElement[bool], *, now: datetime
) -> int:
    """The channel's deliveries still waiting for these recipients are settled as skipped."""
    queued = select(Notification.id).where(recipients)
    # An UPDATE's result is a cursor's, which counts the rows it changed.
    result = cast(
        CursorResult[Any],
        session.execute(
            update(Delivery)
            .where(
                Delivery.channel == channel,
                Delivery.sent_at.is_(None),
                Delivery.notification_id.in_(queued),
            )
            .values(sent_at=now, outcome="skipped")
        ),
    )
    return result.rowcount or 0


def skip_unaddressed(session: Session, channel: str, *, now: datetime) -> int:
    """Notices for people with no address on the channel (any more) are not kept waiting for
    one (the web inbox has them), so the queue the adapter reads stays short."""
    addressed = select(ChannelAccount.person_id).where(ChannelAccount.channel == channel)
    return skip_pending(session, channel, Notification.recipient_id.not_in(addressed), now=now)


def notification_for_reply(
    session: Session, channel: str, address: str, external_id: str
) -> Notification | None:
    """The notice the channel delivered to this address as `external_id`: what a reply to
    that message, or a button under it, is about."""
    return session.scalar(
        select(Notification)
        .join(Delivery, Delivery.notification_id == Notification.id)
        .join(ChannelAccount, ChannelAccount.person_id == Notification.recipient_id)
        .where(
            Delivery.channel == channel,
            Delivery.external_id == external_id,
            ChannelAccount.channel == channel,
            ChannelAccount.address == address,
        )
    )
