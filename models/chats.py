"""Telegram chats linked to people, and the outbox's Telegram deliveries.

A person links a chat by sending the bot a one-time code shown in the web app (valid 15
minutes). Only a linked chat ever sees school data; each notice is delivered to it once, in
order, and marked with Telegram's message id.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base
from models.messages import N_, DomainError, Message
from models.notifications import Delivery, Notification
from models.people import Person

LINK_CODE_LIFETIME = timedelta(minutes=15)
TELEGRAM = "telegram"


class ChatLink(Base):
    __tablename__ = "chat_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    linked_at: Mapped[datetime]

    person: Mapped[Person] = relationship()


class LinkCode(Base):
    __tablename__ = "link_code"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class LinkRefused(DomainError):
    pass


def new_link_code(session: Session, person: Person, *, now: datetime) -> LinkCode:
    """A fresh one-time code for `/start`; the person's earlier unused codes stop working."""
    session.execute(
        update(LinkCode)
        .where(LinkCode.person_id == person.id, LinkCode.used_at.is_(None))
        .values(expires_at=now)
    )
    code = LinkCode(
        code=secrets.token_urlsafe(12),
        person_id=person.id,
        created_at=now,
        expires_at=now + LINK_CODE_LIFETIME,
    )
    session.add(code)
    session.flush()
    return code


def link_chat(session: Session, code: str, chat_id: int, *, now: datetime) -> Person:
    """Link the chat that sent a valid code to its person; one chat per person, and the
    notices queued before the link are not sent after it (the web inbox has them)."""
    found = session.get(LinkCode, code.strip()[:32], with_for_update=True) if code else None
    if found is None or found.used_at is not None or found.expires_at <= now:
        raise LinkRefused(
            Message(N_("This code is not valid any more. Open Houqin and get a new one."))
        )
    person = session.get_one(Person, found.person_id)
    if not person.active:
        raise LinkRefused(Message(N_("This login is switched off.")))
    found.used_at = now
    for link in session.scalars(
        select(ChatLink).where(or_(ChatLink.person_id == person.id, ChatLink.chat_id == chat_id))
    ):
        session.delete(link)
    session.flush()
    session.add(ChatLink(person_id=person.id, chat_id=chat_id, linked_at=now))
    _skip_pending(session, Notification.recipient_id == person.id, now)
    session.flush()
    return person


def _skip_pending(session: Session, recipients: Any, now: datetime) -> int:
    """Telegram deliveries still waiting for these recipients are settled as skipped."""
    queued = select(Notification.id).where(recipients)
    result = session.execute(
        update(Delivery)
        .where(
            Delivery.channel == TELEGRAM,
            Delivery.sent_at.is_(None),
            Delivery.notification_id.in_(queued),
        )
        .values(sent_at=now, outcome="skipped")
    )
    return result.rowcount or 0


def unlink_chat(
    session: Session, *, chat_id: int | None = None, person: Person | None = None
) -> Person | None:
    """Unlink a chat, found by its id (the bot's /stop) or by its person (the web page): the
    person it was linked to, or None when there was none."""
    if person is not None:
        link = chat_of(session, person)
    else:
        link = session.scalar(select(ChatLink).where(ChatLink.chat_id == chat_id))
    if link is None:
        return None
    person = link.person
    session.delete(link)
    session.flush()
    return person


def person_for_chat(session: Session, chat_id: int) -> Person | None:
    """The active person this chat is linked to, if any."""
    return session.scalar(
        select(Person).join(ChatLink).where(ChatLink.chat_id == chat_id, Person.active)
    )


def chat_of(session: Session, person: Person) -> ChatLink | None:
    return session.scalar(select(ChatLink).where(ChatLink.person_id == person.id))


# --- the outbox, as Telegram drains it ----------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    delivery_id: int
    chat_id: int
    text: str
    notification_id: int = 0
    locale: str = "zh_CN"
    severity: str = "info"
    task_ids: tuple[int, ...] = ()
    acknowledged: bool = False
    link: str | None = None  # the page the notice points to, a path under the web app


def pending_telegram(
    session: Session, *, now: datetime, after_id: int = 0, limit: int = 1000
) -> list[Outgoing]:
    """Notices waiting for a linked chat, oldest first, that may be tried now. A chat whose
    older notice waits for a retry gets nothing newer before it, so it reads them in order."""
    waiting = (
        select(Notification.recipient_id)
        .join(Delivery, Delivery.notification_id == Notification.id)
        .where(
            Delivery.channel == TELEGRAM,
            Delivery.sent_at.is_(None),
            Delivery.attempts > 0,
            Delivery.next_attempt_at > now,
        )
    )
    rows = session.execute(
        select(
            Delivery.id,
            ChatLink.chat_id,
            Notification.text,
            Notification.id,
            Person.locale,
            Notification.severity,
            Notification.task_ids,
            Notification.acknowledged_at,
            Notification.link,
        )
        .join(Notification, Notification.id == Delivery.notification_id)
        .join(ChatLink, ChatLink.person_id == Notification.recipient_id)
        .join(Person, Person.id == Notification.recipient_id)
        .where(
            Delivery.channel == TELEGRAM,
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
            chat_id=chat_id,
            text=text,
            notification_id=notification_id,
            locale=locale or "zh_CN",
            severity=severity,
            task_ids=tuple(task_ids or ()),
            acknowledged=acknowledged_at is not None,
            link=link,
        )
        for (
            delivery_id,
            chat_id,
            text,
            notification_id,
            locale,
            severity,
            task_ids,
            acknowledged_at,
            link,
        ) in rows
    ]


def delivery_for_message(session: Session, chat_id: int, message_id: int) -> Notification | None:
    """The notice a message in this chat delivered: what a reply to it is about."""
    return session.scalar(
        select(Notification)
        .join(Delivery, Delivery.notification_id == Notification.id)
        .join(ChatLink, ChatLink.person_id == Notification.recipient_id)
        .where(
            Delivery.channel == TELEGRAM,
            Delivery.message_id == message_id,
            ChatLink.chat_id == chat_id,
        )
    )


def skip_unlinked(session: Session, *, now: datetime) -> int:
    """Notices for people with no linked chat are not kept waiting for one (the web inbox
    has them), so the queue the sender reads stays short."""
    linked = select(ChatLink.person_id)
    return _skip_pending(session, Notification.recipient_id.not_in(linked), now)


def mark_delivered(session: Session, delivery_id: int, message_id: int, *, now: datetime) -> None:
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.sent_at.is_(None))
        .values(sent_at=now, message_id=message_id, outcome="sent")
    )


def mark_failed(
    session: Session, delivery_id: int, *, now: datetime, retry_at: datetime | None
) -> None:
    """A failed try: again at `retry_at`, or never (the chat blocked the bot)."""
    values: dict[str, object] = {"attempts": Delivery.attempts + 1, "next_attempt_at": retry_at}
    if retry_at is None:
        values.update(sent_at=now, outcome="failed")
    session.execute(update(Delivery).where(Delivery.id == delivery_id).values(**values))
