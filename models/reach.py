"""Which channels reach the people of a school, for its administrators: each person's
addresses on the channels the installation runs, when each last delivered and last failed,
and who is reached by none (only the web inbox)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.addresses import ChannelAccount
from models.messages import Message
from models.notifications import Delivery, Notification, read_reason
from models.org import School
from models.paging import PAGE_SIZE, Page, count, page_of
from models.people import Person
from models.staff import people_at_school_query


@dataclass(frozen=True)
class ChannelReach:
    channel: str
    linked_at: datetime
    last_sent: datetime | None = None
    last_failed: datetime | None = None
    failure: Message | None = None  # why the latest failed delivery failed


@dataclass(frozen=True)
class PersonReach:
    person: Person
    channels: list[ChannelReach] = field(default_factory=list)


def _unreached(channels: Sequence[str]) -> Any:
    return Person.id.not_in(
        select(ChannelAccount.person_id).where(ChannelAccount.channel.in_(list(channels)))
    )


def reach_page(
    session: Session,
    actor: Person,
    school: School,
    channels: Sequence[str],
    *,
    unreached_only: bool = False,
    page: Any = 1,
    size: int = PAGE_SIZE,
) -> Page[PersonReach]:
    """One page of the school's active people, by name, each with the channels among
    `channels` they have an address on; with `unreached_only`, those with none of them.
    Nobody for an actor who does not administer the school."""
    if not actor.can_manage_school(school):
        return Page([], 0)
    query = people_at_school_query(school)
    if unreached_only:
        query = query.where(_unreached(channels))
    people: Page[Person] = page_of(session, query, page, size)
    ids = [person.id for person in people.items]
    found: dict[int, list[ChannelReach]] = defaultdict(list)
    if ids and channels:
        last: dict[tuple[int, str, str | None], datetime | None] = {
            (person_id, channel, outcome): moment
            for person_id, channel, outcome, moment in session.execute(
                select(
                    Notification.recipient_id,
                    Delivery.channel,
                    Delivery.outcome,
                    func.max(Delivery.sent_at),
                )
                .join(Notification, Notification.id == Delivery.notification_id)
                .where(
                    Notification.recipient_id.in_(ids),
                    Delivery.channel.in_(list(channels)),
                    Delivery.outcome.in_(("sent", "failed")),
                )
                .group_by(Notification.recipient_id, Delivery.channel, Delivery.outcome)
            )
        }
        latest_failed = (
            select(func.max(Delivery.id))
            .join(Notification, Notification.id == Delivery.notification_id)
            .where(
                Notification.recipient_id.in_(ids),
                Delivery.channel.in_(list(channels)),
                Delivery.outcome == "failed",
            )
            .group_by(Notification.recipient_id, Delivery.channel)
        )
        failures: dict[tuple[int, str], str | None] = {
            (person_id, channel): reason
            for person_id, channel, reason in session.execute(
                select(Notification.recipient_id, Delivery.channel, Delivery.reason)
                .join(Notification, Notification.id == Delivery.notification_id)
                .where(Delivery.id.in_(latest_failed))
            )
        }
        for account in session.scalars(
            select(ChannelAccount)
            .where(ChannelAccount.person_id.in_(ids), ChannelAccount.channel.in_(list(channels)))
            .order_by(ChannelAccount.channel)
        ):
            key = (account.person_id, account.channel)
            found[account.person_id].append(
                ChannelReach(
                    account.channel,
                    account.linked_at,
                    last.get((*key, "sent")),
                    last.get((*key, "failed")),
                    read_reason(failures.get(key)),
                )
            )
    rows = [PersonReach(person, found.get(person.id, [])) for person in people.items]
    return Page(rows, people.total, people.number, people.size)


def unreached_count(
    session: Session, actor: Person, school: School, channels: Sequence[str]
) -> int:
    """How many of the school's active people none of `channels` reaches."""
    if not actor.can_manage_school(school):
        return 0
    return count(session, people_at_school_query(school).where(_unreached(channels)))
