"""Where a person is reached: their address on each channel, known only by the channel's name.

A channel (a messenger, a group robot, e-mail…) is an adapter outside the domain; here it is
a name, and an address is whatever that channel sends to (a chat id, a user id, an e-mail
address), kept as text. A person has at most one address per channel, and an address belongs
to one person.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base
from models.people import Person


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
