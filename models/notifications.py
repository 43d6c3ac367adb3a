"""The outbox: every notice for a person, written in the transaction that caused it.

The web inbox shows every notice; each channel of the recipient's that their choice gives the
notice to (models.notice_preferences) gets a delivery row that the channel's adapter drains
(models/outbox.py). A dedup key makes queueing the same notice twice a no-op.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, bindparam, func, select
from sqlalchemy import text as sql_text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base
from models.catalogue import render_notice
from models.db import read_rows
from models.messages import Message
from models.notice_preferences import routes
from models.org import School
from models.paging import PAGE_SIZE, Page, page_of
from models.people import Person, Role, RoleGrant, reading_locale
from models.robot_groups import queue_group_posts
from models.severity import Severity
from models.staff import people_at_school

REASON_LENGTH = 500
# A parameter of a reason (a service's own words) is cut to this, so the JSON fits.
REASON_PARAM_LENGTH = 200


def stored_reason(reason: Message) -> str:
    """A reason as Delivery.reason keeps it: its msgid and parameters, as JSON."""
    params = {
        name: value[:REASON_PARAM_LENGTH] if isinstance(value, str) else value
        for name, value in reason.params.items()
    }
    return json.dumps({"msgid": reason.msgid, "params": params}, ensure_ascii=False)


def read_reason(stored: str | None) -> Message | None:
    """The reason Delivery.reason keeps, to translate for the reader; None when it has none."""
    if not stored:
        return None
    kept = json.loads(stored)
    return Message(kept["msgid"], kept.get("params") or {})


class Notification(Base):
    __tablename__ = "notification"
    __table_args__ = (UniqueConstraint("recipient_id", "dedup_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    # A catalogue message and its parameters; texts given as {zh_CN, en} pick the reader's.
    message: Mapped[str] = mapped_column(String(500))
    params: Mapped[dict[str, Any]]
    # The message as queued, in the recipient's language then, for channels that just send it.
    text: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(300))
    dedup_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
    # The tasks a reminder is about, so a reply can close them; empty for other notices.
    task_ids: Mapped[list[Any]] = mapped_column(default=list)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))

    recipient: Mapped[Person] = relationship(foreign_keys=[recipient_id])
    acknowledged_by: Mapped[Person | None] = relationship(foreign_keys=[acknowledged_by_id])
    deliveries: Mapped[list[Delivery]] = relationship(
        back_populates="notification", cascade="all, delete-orphan"
    )


class Delivery(Base):
    """One notification on one channel, by name: pending until that channel's adapter sends it."""

    __tablename__ = "delivery"
    __table_args__ = (UniqueConstraint("notification_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notification.id"))
    channel: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    # After a failed try: not before this. Once finished: sent, skipped (queued before the
    # person linked their address, or they unlinked it), failed (the address is gone) or
    # dropped (the person's login was switched off, or they left the school).
    next_attempt_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))
    # What the channel calls the message it sent, so a reply to it finds the notice.
    external_id: Mapped[str | None] = mapped_column(String(200))
    # The sender holding it now, and until when (models.leases): several senders, each once.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    # Pieces of a long notice the channel has accepted: a restart resumes at the next one.
    pieces_sent: Mapped[int] = mapped_column(default=0, server_default=sql_text("0"))
    # Why it failed or was dropped, for an administrator: a catalogue message and its
    # parameters as JSON (stored_reason), translated for whoever reads it (read_reason).
    reason: Mapped[str | None] = mapped_column(String(REASON_LENGTH))

    notification: Mapped[Notification] = relationship(back_populates="deliveries")


def notify(
    session: Session,
    recipients: Iterable[Person],
    *,
    message: str,
    params: dict[str, Any],
    severity: Severity,
    dedup_key: str,
    now: datetime,
    link: str | None = None,
    task_ids: list[int] | None = None,
) -> list[Notification]:
    """Queue a notice for each recipient once; a key already queued for someone is skipped.

    The text is written in the language each recipient reads and times in their district's
    zone (people.reading_locale, Person.timezone); it is delivered over the recipient's
    channels that their choice gives it to (models.notice_preferences). A person whose login
    is switched off gets nothing.
    """
    queued = []
    people = {p.id: p for p in recipients if p.active}
    planned = routes(session, people.values(), severity=severity, message=message, now=now)
    for person in people.values():
        exists = session.scalar(
            select(Notification.id).where(
                Notification.recipient_id == person.id, Notification.dedup_key == dedup_key
            )
        )
        if exists is not None:
            continue
        notification = Notification(
            recipient=person,
            severity=severity,
            message=message,
            params=params,
            text=render_notice(message, params, reading_locale(person), person.timezone),
            link=link,
            dedup_key=dedup_key,
            created_at=now,
            task_ids=list(task_ids or []),
            deliveries=[
                Delivery(channel=route.channel, next_attempt_at=route.not_before)
                for route in planned.get(person.id, ())
            ],
        )
        try:
            with session.begin_nested():
                session.add(notification)
        except IntegrityError:
            continue  # queued at the same moment by another process: once is enough
        queued.append(notification)
    queue_group_posts(session, queued, now=now)
    return queued


def school_admins(session: Session, school_id: int, district_id: int) -> list[Person]:
    """Who is alerted about a school: its administrators, else the district's."""
    admins = people_at_school(session, session.get_one(School, school_id), (Role.SCHOOL_ADMIN,))
    if admins:
        return admins
    return district_admins(session, district_id)


def district_admins(session: Session, district_id: int) -> list[Person]:
    return list(
        session.scalars(
            select(Person)
            .join(RoleGrant)
            .where(
                Person.active,
                RoleGrant.role == Role.DISTRICT_ADMIN,
                RoleGrant.district_id == district_id,
            )
        )
    )


def inbox(session: Session, person: Person, limit: int = 100) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.recipient_id == person.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def inbox_page(
    session: Session, person: Person, page: Any = 1, size: int = PAGE_SIZE
) -> Page[Notification]:
    """One page of the person's notices, newest first."""
    query = (
        select(Notification)
        .where(Notification.recipient_id == person.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    return page_of(session, query, page, size)


def unread_count(session: Session, person: Person) -> int:
    return read_rows(session, _unread_count(), {"person_id": person.id}).scalar() or 0


@cache
def _unread_count() -> Any:
    """Built once: every page of someone logged in shows it."""
    return (
        select(func.count())
        .select_from(Notification)
        .where(
            Notification.recipient_id == bindparam("person_id", type_=Integer),
            Notification.read_at.is_(None),
        )
    )


ACKNOWLEDGEABLE = (Severity.MAJOR, Severity.CRITICAL)


def unacknowledged_alerts(session: Session, person: Person, limit: int = 5) -> list[Notification]:
    """The person's alerts still waiting for an acknowledgement, newest first."""
    return list(
        session.scalars(
            select(Notification)
            .where(
                Notification.recipient_id == person.id,
                Notification.severity.in_([s.value for s in ACKNOWLEDGEABLE]),
                Notification.acknowledged_at.is_(None),
            )
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def snooze(
    session: Session, person: Person, notification_id: int, *, now: datetime, until: datetime
) -> Notification | None:
    """Send one of the person's notices to their channels again later."""
    original = session.get(Notification, notification_id)
    if original is None or original.recipient_id != person.id:
        return None
    # Snoozing the copy snoozes the notice: one key per notice and minute, so a second press
    # of the same button finds the copy it made rather than failing.
    first_key = original.dedup_key.split(":snoozed:")[0]
    dedup_key = f"{first_key}:snoozed:{until.isoformat(timespec='minutes')}"[:200]
    again = Notification(
        recipient=person,
        severity=original.severity,
        message=original.message,
        params=original.params,
        text=original.text,
        link=original.link,
        dedup_key=dedup_key,
        created_at=now,
        read_at=now,  # already in the inbox once
        task_ids=list(original.task_ids),
        deliveries=[
            Delivery(channel=route.channel, next_attempt_at=route.not_before or until)
            for route in routes(
                session,
                [person],
                severity=Severity(original.severity),
                message=original.message,
                now=until,
            ).get(person.id, ())
        ],
    )
    try:
        with session.begin_nested():
            session.add(again)
    except IntegrityError:  # snoozed to the same minute already: that copy is the answer
        return session.scalar(
            select(Notification).where(
                Notification.recipient_id == person.id, Notification.dedup_key == dedup_key
            )
        )
    return again


def acknowledge(
    session: Session, person: Person, notification_id: int, *, now: datetime
) -> Notification | None:
    """The recipient says they have seen an alert and act on it; the first time counts."""
    notification = session.get(Notification, notification_id)
    if notification is None or notification.recipient_id != person.id:
        return None
    if notification.acknowledged_at is None:
        notification.acknowledged_at = now
        notification.acknowledged_by_id = person.id
        notification.read_at = notification.read_at or now
    return notification


def mark_read(session: Session, person: Person, notification_id: int, *, now: datetime) -> bool:
    """Mark one of the person's own notices read; another person's is left alone."""
    notification = session.get(Notification, notification_id)
    if notification is None or notification.recipient_id != person.id:
        return False
    if notification.read_at is None:
        notification.read_at = now
    return True
