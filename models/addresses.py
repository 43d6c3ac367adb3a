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

from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base
from models.messages import N_, DomainError, Message
from models.people import Person
from models.staff import can_manage_person


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
    """An address refused: not one the channel can send to, someone else's, or not the
    actor's to set."""


WECOM_USER_ID = re.compile(r"[A-Za-z0-9_\-.@]{1,64}")
# An e-mail address as people type it: one @, a local part without spaces, a domain of
# labels separated by dots with a top-level part of letters (checked further below).
EMAIL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-]{1,64}@[A-Za-z0-9.\-]{1,253}")
DOMAIN_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?")


def _valid_email(address: str) -> bool:
    if not EMAIL.fullmatch(address) or len(address) > 254:
        return False
    local, domain = address.split("@")
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return False
    labels = domain.split(".")
    return (
        len(labels) >= 2
        and all(DOMAIN_LABEL.fullmatch(label) for label in labels)
        and labels[-1].isalpha()
    )


INVALID_ADDRESS = {
    "wecom": N_("A WeCom user id is 1 to 64 letters, digits and _ - . @"),
    "email": N_("Enter an e-mail address such as name@school.edu.cn"),
}
ADDRESS_TAKEN = N_("This address already belongs to someone else.")
NOT_YOURS = N_("You may not change this person's addresses.")


def normal_address(channel: str, address: str) -> str:
    """The address as kept: trimmed; an e-mail's domain in lower case. Raises AddressRefused
    when the channel cannot send to it."""
    address = address.strip()
    if channel == "wecom":
        valid = bool(WECOM_USER_ID.fullmatch(address))
    elif channel == "email":
        if "@" in address:
            local, _, domain = address.rpartition("@")
            address = f"{local}@{domain.lower()}"
        valid = _valid_email(address)
    else:
        valid = 0 < len(address) <= 200
    if not valid:
        raise AddressRefused(Message(INVALID_ADDRESS.get(channel, INVALID_ADDRESS["email"])))
    return address


def set_address(
    session: Session, actor: Person, person: Person, channel: str, address: str, *, now: datetime
) -> ChannelAccount | None:
    """The person's address on the channel, set by themselves or by an administrator who
    manages them; an empty address removes it. Returns the account, or None once removed."""
    if actor.id != person.id and not can_manage_person(actor, person):
        raise AddressRefused(Message(NOT_YOURS))
    current = address_of(session, person, channel)
    if not address.strip():
        if current is not None:
            session.delete(current)
            session.flush()
        return None
    address = normal_address(channel, address)
    owner = session.scalar(
        select(ChannelAccount.person_id).where(
            ChannelAccount.channel == channel, ChannelAccount.address == address
        )
    )
    if owner is not None and owner != person.id:
        raise AddressRefused(Message(ADDRESS_TAKEN))
    if current is None:
        current = ChannelAccount(
            person_id=person.id, channel=channel, address=address, linked_at=now
        )
        session.add(current)
    elif current.address != address:
        current.address = address
        current.linked_at = now
    session.flush()
    return current
