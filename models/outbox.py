"""The outbox as a channel's adapter drains it: claim its deliveries, send them, mark them.

Everything here takes the channel's name; the domain knows no channel. Each recipient's
notices are handed out oldest first, and one that waits for a retry holds back the newer
ones, so every channel delivers a person's notices in order. Several senders may drain one
channel: each delivery handed out is claimed for a while (models.leases), and a person's
newer notices also wait while an older one is held by another sender.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, and_, func, or_, select, update
from sqlalchemy.orm import Session

from models.addresses import ChannelAccount
from models.catalogue import DEFAULT_LOCALE
from models.leases import claim_rows
from models.messages import Message
from models.notifications import Delivery, Notification, stored_reason
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
    pieces_sent: int = 0  # pieces of a long notice accepted already: resume at the next


LEASE = timedelta(minutes=10)


def claim_deliveries(
    session: Session,
    channel: str,
    *,
    now: datetime,
    after_id: int = 0,
    limit: int = 1000,
    sender: str = "",
    lease: timedelta = LEASE,
) -> list[Outgoing]:
    """The channel's deliveries that may be tried now, oldest first, each with its address,
    claimed for `sender` until `now + lease` so no other sender takes them meanwhile.

    A recipient whose older notice waits for a retry, or is held by another sender, gets
    nothing newer before it; a person whose login is switched off gets nothing at all."""
    if session.get_bind().dialect.name == "postgresql":
        # Claims of one channel one after another (each a short transaction): a sender sees
        # the claims committed before its own, so a person's notices stay with one sender.
        session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"outbox:{channel}"))))
    unsent = (Delivery.channel == channel, Delivery.sent_at.is_(None))
    waiting = (
        select(Notification.recipient_id)
        .join(Delivery, Delivery.notification_id == Notification.id)
        .where(*unsent, Delivery.attempts > 0, Delivery.next_attempt_at > now)
    )
    elsewhere = (
        select(Notification.recipient_id)
        .join(Delivery, Delivery.notification_id == Notification.id)
        .where(*unsent, Delivery.claimed_by != sender, Delivery.claimed_until >= now)
    )
    # Older notices this pass went past that no one holds now (handed back by a sender that
    # stopped): their recipient's newer ones wait for the next pass, which starts from the
    # oldest, so order holds.
    behind = (
        select(Notification.recipient_id)
        .join(Delivery, Delivery.notification_id == Notification.id)
        .where(
            *unsent,
            Delivery.id <= after_id,
            or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now),
        )
    )
    candidates = (
        select(Delivery.id)
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
            *unsent,
            Person.active,
            Delivery.id > after_id,
            or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
            Notification.recipient_id.not_in(waiting),
            Notification.recipient_id.not_in(elsewhere),
            Notification.recipient_id.not_in(behind),
        )
        .order_by(Delivery.id)
    )
    ids = claim_rows(
        session, Delivery, candidates, sender=sender, now=now, lease=lease, limit=limit
    )
    if not ids:
        return []
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
            Delivery.pieces_sent,
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
        .where(Delivery.id.in_(ids))
        .order_by(Delivery.id)
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
            pieces_sent=pieces_sent,
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
            pieces_sent,
        ) in rows
    ]


def mark_piece_sent(
    session: Session, delivery_id: int, pieces_sent: int, external_id: str, now: datetime
) -> None:
    """The channel accepted piece `pieces_sent` of a long notice: a sender started after a
    crash sends the pieces after it only. `now` is when it was accepted."""
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.sent_at.is_(None))
        .values(pieces_sent=pieces_sent, external_id=external_id)
    )


def mark_delivered(session: Session, delivery_id: int, external_id: str, *, now: datetime) -> None:
    """The channel accepted the notice and calls its message `external_id`."""
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.sent_at.is_(None))
        .values(
            sent_at=now,
            external_id=external_id,
            outcome="sent",
            reason=None,
            claimed_by=None,
            claimed_until=None,
        )
    )


def mark_failed(
    session: Session,
    delivery_id: int,
    *,
    now: datetime,
    retry_at: datetime | None,
    reason: Message | None = None,
) -> None:
    """A failed try: again at `retry_at`, or never (the address refuses for good); `reason`
    says what happened, for an administrator (the latest one while it is tried again)."""
    values: dict[str, object] = {
        "attempts": Delivery.attempts + 1,
        "next_attempt_at": retry_at,
        "claimed_by": None,
        "claimed_until": None,
    }
    if reason is not None:
        values["reason"] = stored_reason(reason)
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


def drop_for_people(
    session: Session, person_ids: list[int], *, now: datetime, reason: Message
) -> int:
    """Every channel's deliveries still queued for these people are settled as dropped: their
    login was switched off or they left the school (as `reason` says), so no channel reaches
    them any more."""
    if not person_ids:
        return 0
    queued = select(Notification.id).where(Notification.recipient_id.in_(person_ids))
    result = cast(
        CursorResult[Any],
        session.execute(
            update(Delivery)
            .where(Delivery.sent_at.is_(None), Delivery.notification_id.in_(queued))
            .values(
                sent_at=now,
                outcome="dropped",
                reason=stored_reason(reason),
                claimed_by=None,
                claimed_until=None,
            )
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
