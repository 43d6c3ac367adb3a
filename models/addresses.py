"""Where a person is reached: their address on each channel, known only by the channel's name.

A channel (a messenger, a group robot, e-mail…) is an adapter outside the domain; here it is
a name, and an address is whatever that channel sends to (a chat id, a user id, an e-mail
address), kept as text. A person has at most one address per channel, and an address belongs
to one person.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.audit import audit
from models.base import Base
from models.messages import N_, DomainError, Message, SubmissionInvalid
from models.people import Person
from models.staff import can_manage_person

EMAIL = "email"
MAX_ADDRESS = 200
NOT_YOURS = N_("You may not change this person's addresses.")
NOT_AN_EMAIL = N_("Enter an e-mail address such as name@school.edu.cn.")
ADDRESS_TAKEN = N_("This address is already someone else's.")
TOO_LONG = N_("At most %(count)d characters.")


class ChannelAccount(Base):
    __tablename__ = "channel_account"
    __table_args__ = (
        UniqueConstraint("person_id", "channel"),
        UniqueConstraint("channel", "address"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(200))
    linked_at: Mapped[datetime]

    person: Mapped[Person] = relationship()


def address_of(session: Session, person: Person, channel: str) -> ChannelAccount | None:
    """The person's address on this channel, if they linked one."""
    return session.scalar(
        select(ChannelAccount).where(
            ChannelAccount.person_id == person.id, ChannelAccount.channel == channel
        )
    )


def person_at(session: Session, channel: str, address: str) -> Person | None:
    """The active person this address on this channel belongs to, if any."""
    return session.scalar(
        select(Person)
        .join(ChannelAccount)
        .where(ChannelAccount.channel == channel, ChannelAccount.address == address, Person.active)
    )


def channels_of(session: Session, person_ids: Iterable[int]) -> dict[int, list[str]]:
    """The channels each of these people has an address on, by name, in a stable order."""
    ids = list(person_ids)
    found: dict[int, list[str]] = defaultdict(list)
    if not ids:
        return found
    for person_id, channel in session.execute(
        select(ChannelAccount.person_id, ChannelAccount.channel)
        .where(ChannelAccount.person_id.in_(ids))
        .order_by(ChannelAccount.channel)
    ):
        found[person_id].append(channel)
    return found


class AddressRefused(DomainError):
    """The actor may not set this person's addresses."""


WECOM_USER_ID = re.compile(r"[A-Za-z0-9_\-.@]{1,64}")
NOT_A_WECOM_ID = N_("A WeCom user id is 1 to 64 letters, digits and _ - . @")


def set_address(
    session: Session,
    actor: Person,
    person: Person,
    channel: str,
    address: str | None,
    *,
    now: datetime,
    field: str = "address",
) -> ChannelAccount | None:
    """Set (or, with no address, remove) the person's address on a channel: their own, or as an
    administrator managing them. An e-mail address is checked and normalised, a WeCom user id
    checked; a refusal names `field`, the form's field for the address."""
    if actor.id != person.id and not can_manage_person(actor, person):
        raise AddressRefused(Message(NOT_YOURS))
    address = (address or "").strip()
    current = address_of(session, person, channel)
    if not address:
        if current is not None:
            _audit_address(session, actor, person, channel, current.address, "", now)
            session.delete(current)
            session.flush()
        return None
    if channel == EMAIL:
        address = _checked_email(address, field)
    elif channel == "wecom" and not WECOM_USER_ID.fullmatch(address):
        raise SubmissionInvalid({field: Message(NOT_A_WECOM_ID)})
    if len(address) > MAX_ADDRESS:
        raise SubmissionInvalid({field: Message(TOO_LONG, {"count": MAX_ADDRESS})})
    taken = session.scalar(
        select(ChannelAccount.person_id).where(
            ChannelAccount.channel == channel, ChannelAccount.address == address
        )
    )
    if taken is not None and taken != person.id:
        raise SubmissionInvalid({field: Message(ADDRESS_TAKEN)})
    if current is None:
        current = ChannelAccount(person_id=person.id, channel=channel, address=address)
        session.add(current)
    if current.address != address or current.linked_at is None:
        _audit_address(session, actor, person, channel, current.address or "", address, now)
        current.address, current.linked_at = address, now
    session.flush()
    return current


def _checked_email(address: str, field: str) -> str:
    """The address as email-validator normalises it (no DNS look-up: the form answers at once)."""
    try:
        checked = validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        raise SubmissionInvalid({field: Message(NOT_AN_EMAIL)}) from None
    return str(checked.normalized)


def _audit_address(
    session: Session,
    actor: Person,
    person: Person,
    channel: str,
    before: str,
    after: str,
    now: datetime,
) -> None:
    """An administrator's change of someone else's address is logged; one's own is not."""
    if actor.id != person.id and before != after:
        audit(session, actor, "person.edited", person, {channel: before}, {channel: after}, now=now)
