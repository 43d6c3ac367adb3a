"""A Telegram chat as an address: the domain's linking and lookups, given a chat's id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from channels.telegram import CHANNEL
from models.addresses import ChannelAccount, address_of, person_at
from models.linking import link_address, unlink_address
from models.notifications import Notification
from models.outbox import notification_for_reply
from models.people import Person


def link_chat(session: Session, code: str, chat_id: int, *, now: datetime) -> Person:
    """Link the chat that sent a valid code to its person (models.linking.link_address)."""
    return link_address(session, code, CHANNEL, str(chat_id), now=now)


def unlink_chat(
    session: Session,
    *,
    chat_id: int | None = None,
    person: Person | None = None,
    now: datetime,
) -> Person | None:
    """Unlink a chat, found by its id (the bot's /stop) or by its person (the web page)."""
    address = None if chat_id is None else str(chat_id)
    return unlink_address(session, CHANNEL, address=address, person=person, now=now)


def person_for_chat(session: Session, chat_id: int) -> Person | None:
    """The active person this chat is linked to, if any."""
    return person_at(session, CHANNEL, str(chat_id))


def chat_of(session: Session, person: Person) -> ChannelAccount | None:
    """The person's linked chat, if any."""
    return address_of(session, person, CHANNEL)


def delivery_for_message(session: Session, chat_id: int, message_id: int) -> Notification | None:
    """The notice a message in this chat delivered: what a reply to it is about."""
    return notification_for_reply(session, CHANNEL, str(chat_id), str(message_id))
