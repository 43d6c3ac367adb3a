"""Linking a person's address on a channel with a one-time code, and unlinking it.

A person gets a code in the web app (valid 15 minutes) and sends it from the channel, which
names the address it came from; any channel links the same way. Only a linked address ever
sees school data, and it gets the notices queued after the link, not before it.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.addresses import ChannelAccount, address_of
from models.audit import audit
from models.base import Base
from models.messages import N_, DomainError, Message
from models.notifications import Notification
from models.outbox import skip_pending
from models.people import Person

LINK_CODE_LIFETIME = timedelta(minutes=15)


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
    """A fresh one-time code to send from a channel; the person's earlier unused codes stop
    working."""
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


def link_address(
    session: Session, code: str, channel: str, address: str, *, now: datetime
) -> Person:
    """Link the address that sent a valid code to its person; one address per person on each
    channel, and the notices queued before the link are not sent after it (the web inbox has
    them)."""
    found = session.get(LinkCode, code.strip()[:32], with_for_update=True) if code else None
    if found is None or found.used_at is not None or found.expires_at <= now:
        raise LinkRefused(
            Message(N_("This code is not valid any more. Open Houqin and get a new one."))
        )
    person = session.get_one(Person, found.person_id)
    if not person.active:
        raise LinkRefused(Message(N_("This login is switched off.")))
    found.used_at = now
    was = ""
    for account in session.scalars(
        select(ChannelAccount).where(
            ChannelAccount.channel == channel,
            or_(ChannelAccount.person_id == person.id, ChannelAccount.address == address),
        )
    ):
        if account.person_id == person.id:
            was = account.address
        else:
            # The address moves to this person: its earlier person's link ends with it.
            unlinked = {channel: account.address}
            audit(session, person, "person.chat_unlinked", account.person, unlinked, {}, now=now)
        session.delete(account)
    session.flush()
    session.add(
        ChannelAccount(person_id=person.id, channel=channel, address=address, linked_at=now)
    )
    skip_pending(session, channel, Notification.recipient_id == person.id, now=now)
    if was != address:
        before, after = {channel: was}, {channel: address}
        audit(session, person, "person.chat_linked", person, before, after, now=now)
    session.flush()
    return person


def unlink_address(
    session: Session,
    channel: str,
    *,
    address: str | None = None,
    person: Person | None = None,
    now: datetime,
) -> Person | None:
    """Unlink an address on the channel, found by itself (a message from it) or by its
    person (the web page): the person it was linked to, or None when there was none."""
    if person is not None:
        account = address_of(session, person, channel)
    else:
        account = session.scalar(
            select(ChannelAccount).where(
                ChannelAccount.channel == channel, ChannelAccount.address == address
            )
        )
    if account is None:
        return None
    person = account.person
    unlinked = {channel: account.address}
    audit(session, person, "person.chat_unlinked", person, unlinked, {}, now=now)
    session.delete(account)
    session.flush()
    return person
