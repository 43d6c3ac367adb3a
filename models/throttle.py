"""Wrong passwords slow down the one who types them, not the person whose login it is.

Failures are counted per login and per source together: the address a guess came from, or
the phone itself once that phone has logged in to this account (a signed device cookie the
web door hands out). Five wrong passwords from one source lock that login from that source
for fifteen minutes; the owner on their own phone, or from another address, can still log in.
A school administrator lifts every lock of a login at once (`unlock`).

Failures are also counted per address, whichever login they tried, known or not: one address
trying a password on many logins is stopped as one guessing one login is; and for every
address together, against a flood from many. Neither lock stops a phone that has logged in
to the account before (its device is its own source), so no stranger can lock staff out.
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
# Failed logins from one address within LOCKOUT, whichever logins they tried.
ADDRESS_MAX_FAILURES = 30
# Failed logins from every address together within LOCKOUT.
OVERALL_MAX_FAILURES = 300
EVERYWHERE = "*"


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


class SourceFailure(Base):
    """Failed logins from one address (or from everywhere, EVERYWHERE), whichever logins they
    tried, counted since `first_at`."""

    __tablename__ = "source_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(SOURCE_MAX), unique=True)
    failures: Mapped[int] = mapped_column(default=0)
    first_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]


def source_locked_for(session: Session, source: str, *, now: datetime) -> timedelta:
    """How long logins from this address stay refused (it, or every address, tried too many
    wrong ones); zero when they are not, and always for a phone's own device source."""
    if not source.startswith("address:"):
        return timedelta(0)
    rows = session.scalars(
        select(SourceFailure).where(
            SourceFailure.source.in_([source[:SOURCE_MAX], EVERYWHERE]),
            SourceFailure.locked_until > now,
        )
    )
    return max((row.locked_until - now for row in rows if row.locked_until), default=timedelta(0))


def count_source_failure(session: Session, source: str, *, now: datetime) -> None:
    """One more failed login from this address, and from everywhere; a count past its limit
    locks logins from the address (or from every address but phones' own) for LOCKOUT."""
    if not source.startswith("address:"):
        return
    for key, limit in (
        (source[:SOURCE_MAX], ADDRESS_MAX_FAILURES),
        (EVERYWHERE, OVERALL_MAX_FAILURES),
    ):
        row = session.scalar(
            select(SourceFailure).where(SourceFailure.source == key).with_for_update()
        )
        if row is None:
            row = SourceFailure(source=key, failures=0, first_at=now)
            try:
                with session.begin_nested():
                    session.add(row)
            except IntegrityError:
                row = session.scalars(
                    select(SourceFailure).where(SourceFailure.source == key).with_for_update()
                ).one()
        if row.locked_until is not None and row.locked_until > now:
            continue
        if row.first_at + LOCKOUT <= now:
            row.failures, row.first_at, row.locked_until = 0, now, None
        row.failures += 1
        if row.failures >= limit:
            row.failures, row.first_at, row.locked_until = 0, now, now + LOCKOUT
    session.flush()
