"""Leases: a row claimed by one sender for a while, so several senders never take it twice.

Any entity with two columns, `claimed_by: str | None` (String(64), the sender's id) and
`claimed_until: datetime | None`, can be claimed with `claim_rows`: up to `limit` of the
candidate rows whose claim is free or has expired become the sender's until `now + lease`.
A sender that dies leaves its claims to expire; another sender then takes them. A sender
that stops gracefully hands its claims back with `release_rows`; settling a row (sent,
failed) should clear its claim the same way.

On PostgreSQL the candidates are locked with `SELECT ... FOR UPDATE SKIP LOCKED`, so
concurrent senders each get different rows without waiting for one another. SQLite has one
writer at a time: the claim is a single conditional UPDATE, which takes the write lock
before it reads, and the rows this sender now holds are read back after it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session


def _free(entity: Any, now: datetime) -> Any:
    return or_(entity.claimed_until.is_(None), entity.claimed_until < now)


def claim_rows(
    session: Session,
    entity: Any,
    candidate_ids: Select[Any],
    *,
    sender: str,
    now: datetime,
    lease: timedelta,
    limit: int,
) -> list[int]:
    """Claim up to `limit` of the candidates (a select of the entity's ids, in the order
    they should be taken) that no other sender holds now; returns the ids claimed, in order.

    Rows this sender already holds count as free to it: its claim is renewed."""
    if limit <= 0:
        return []
    until = now + lease
    mine_or_free = or_(_free(entity, now), entity.claimed_by == sender)
    if session.get_bind().dialect.name == "postgresql":
        wanted = candidate_ids.subquery()
        locked = session.scalars(
            select(entity.id)
            .where(entity.id.in_(select(wanted.c[0])), mine_or_free)
            .order_by(entity.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        ids = list(locked)
        if ids:
            session.execute(
                update(entity)
                .where(entity.id.in_(ids))
                .values(claimed_by=sender, claimed_until=until)
                .execution_options(synchronize_session=False)
            )
        return ids
    chosen = (
        select(entity.id)
        .where(entity.id.in_(candidate_ids.scalar_subquery()), mine_or_free)
        .order_by(entity.id)
        .limit(limit)
    )
    session.execute(
        update(entity)
        .where(entity.id.in_(chosen.scalar_subquery()), mine_or_free)
        .values(claimed_by=sender, claimed_until=until)
        .execution_options(synchronize_session=False)
    )
    return list(
        session.scalars(
            select(entity.id)
            .where(
                entity.id.in_(candidate_ids.scalar_subquery()),
                entity.claimed_by == sender,
                entity.claimed_until == until,
            )
            .order_by(entity.id)
        )
    )


def release_rows(session: Session, entity: Any, sender: str, ids: list[int] | None = None) -> int:
    """Hand back the sender's claims (all of them, or these ids) for another sender to take."""
    query = update(entity).where(entity.claimed_by == sender)
    if ids is not None:
        query = query.where(entity.id.in_(ids))
    result: Any = session.execute(
        query.values(claimed_by=None, claimed_until=None).execution_options(
            synchronize_session=False
        )
    )
    return int(result.rowcount or 0)
