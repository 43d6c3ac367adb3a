"""Wrong passwords slow down the one who types them, not the person whose login it is.

Failures are counted per login and per source together: the address a guess came from, or
the phone itself once that phone has logged in to this account (a signed device cookie the
web door hands out). Five wrong passwords from one source lock that login from that source
for fifteen minutes; the owner on their own phone, or from another address, can still log in.
A school administrator lifts every lock of a login at once (`unlock`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, UniqueConstraint, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
SOURCE_MAX = 100


class LoginFailure(Base):
    """Wrong passwords for one login from one source, counted since `first_at`."""

    __tablename__ = "login_failure"
    __table_args__ = (UniqueConstraint("person_id", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(SOURCE_MAX))
    failures: Mapped[int] = mapped_column(default=0)
    first_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]


def _row(
    session: Session, person_id: int, source: str, *, for_update: bool = False
) -> LoginFailure | None:
    query = select(LoginFailure).where(
        LoginFailure.person_id == person_id, LoginFailure.source == source[:SOURCE_MAX]
    )
    return session.scalar(query.with_for_update() if for_update else query)


def locked_for(session: Session, person_id: int, source: str, *, now: datetime) -> timedelta:
    """How long this login stays locked from this source; zero when it is not."""
    row = _row(session, person_id, source)
    if row is None or row.locked_until is None or row.locked_until <= now:
        return timedelta(0)
    return row.locked_until - now


def count_failure(session: Session, person_id: int, source: str, *, now: datetime) -> timedelta:
    """One more wrong password from this source; the fifth within the lockout period locks.

    The lock is read again here, in the write transaction: guesses sent side by side were
    all checked before the fifth locked, and those written after it are not counted (they
    would restart the count). Returns how long the login stays locked from this source
    when it already was, and then writes nothing (the door refuses, and commits what is
    written); zero when this failure was counted.
    """
    row = _row(session, person_id, source, for_update=True)
    if row is not None and row.locked_until is not None and row.locked_until > now:
        return row.locked_until - now
    # Counts from other sources that are over are forgotten, so the table stays small.
    session.execute(
        delete(LoginFailure).where(
            LoginFailure.person_id == person_id,
            LoginFailure.source != source[:SOURCE_MAX],
            LoginFailure.first_at <= now - LOCKOUT,
            or_(LoginFailure.locked_until.is_(None), LoginFailure.locked_until <= now),
        )
    )
    if row is None or row.first_at + LOCKOUT <= now:
        if row is not None:
            session.delete(row)
            session.flush()
        row = LoginFailure(
            person_id=person_id, source=source[:SOURCE_MAX], failures=0, first_at=now
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            # Another wrong guess from the same source got there first: count on its row.
            row = _row(session, person_id, source, for_update=True)
            assert row is not None
            if row.locked_until is not None and row.locked_until > now:
                return row.locked_until - now
    row.failures += 1
    if row.failures >= MAX_FAILURES:
        row.failures = 0
        row.first_at = now
        row.locked_until = now + LOCKOUT
    session.flush()
    return timedelta(0)


def clear_failures(session: Session, person_id: int, source: str) -> None:
    """The right password from this source: its count starts again."""
    session.execute(
        delete(LoginFailure).where(
            LoginFailure.person_id == person_id, LoginFailure.source == source[:SOURCE_MAX]
        )
    )


def is_locked_anywhere(session: Session, person_id: int, *, now: datetime) -> bool:
    """Whether some source is locked out of this login, for the administrator's page."""
    return (
        session.scalar(
            select(LoginFailure.id).where(
                LoginFailure.person_id == person_id, LoginFailure.locked_until > now
            )
        )
        is not None
    )


def unlock(session: Session, person_id: int) -> None:
    """Lift every lock and forget every count for this login."""
    session.execute(delete(LoginFailure).where(LoginFailure.person_id == person_id))
