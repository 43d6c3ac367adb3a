"""What a chat is in the middle of (a report half told), kept across restarts of its door.

A door's conversation library (the bot's python-telegram-bot) keeps such state in memory;
this table keeps it in the database instead, by scope (what is kept) and key (whose it is),
as JSON. The door decides what goes in; the domain only keeps it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base


class ConversationState(Base):
    __tablename__ = "conversation_state"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(200))
    value: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


def states_in(session: Session, scope: str) -> dict[str, dict[str, Any]]:
    """Every key's state in the scope."""
    rows = session.execute(
        select(ConversationState.key, ConversationState.value).where(
            ConversationState.scope == scope
        )
    )
    return {key: value for key, value in rows}


def keep_state(
    session: Session, scope: str, key: str, value: dict[str, Any] | None, *, now: datetime
) -> None:
    """Keep the key's state (None forgets it)."""
    row = session.scalar(
        select(ConversationState).where(
            ConversationState.scope == scope, ConversationState.key == key
        )
    )
    if value is None:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        session.add(ConversationState(scope=scope, key=key, value=value, updated_at=now))
    else:
        row.value = value
        row.updated_at = now
