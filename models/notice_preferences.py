"""Each person's choice of what reaches them where: per channel the lowest severity it gets,
and quiet hours in which reminders wait.

Only the deliveries are chosen here: the web inbox always has every notice. A critical alert
goes to every channel the person has an address on, whatever they chose, and does not wait
for the end of their quiet hours.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.addresses import channels_of
from models.base import Base
from models.messages import N_, DomainError, Message, SubmissionInvalid
from models.people import Person
from models.severity import Severity

# The daily summary (models/sweep.py sends it): a channel may take it beside its severities,
# so e-mail carries it for people who chose only critical alerts there.
DIGEST = N_(
    "Daily summary for %(place)s: %(due)d due today, %(overdue)d overdue, "
    "%(missed)d missed yesterday, %(actions)d corrective actions open, "
    "%(expiring)d documents expiring within 7 days."
)

# What a channel gets until its person chooses: chats everything, e-mail (read less often,
# and slower to notice) critical alerts and the daily summary only.
DEFAULT_LOWEST: dict[str, Severity] = {"email": Severity.CRITICAL}
NOT_YOURS = N_("You can change only your own notification settings.")
SAME_START_AND_END = N_("Quiet hours end at another time than they start.")
ONE_OF_TWO = N_("Give both the start and the end, or neither.")


class ChannelPreference(Base):
    """A person's choice for one channel; a channel without a row keeps the defaults."""

    __tablename__ = "channel_preference"
    __table_args__ = (UniqueConstraint("person_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    channel: Mapped[str] = mapped_column(String(16))
    lowest: Mapped[str] = mapped_column(String(16))
    digest: Mapped[bool] = mapped_column(default=True)


class QuietHours(Base):
    """From `starts` to `ends` in the person's local time (past midnight when ends < starts)."""

    __tablename__ = "quiet_hours"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    starts: Mapped[time]
    ends: Mapped[time]


@dataclass(frozen=True)
class Choice:
    """What one channel of a person gets."""

    channel: str
    lowest: Severity
    digest: bool = True

    def takes(self, severity: Severity, message: str) -> bool:
        return (
            severity == Severity.CRITICAL
            or severity.rank >= self.lowest.rank
            or (self.digest and message == DIGEST)
        )


@dataclass(frozen=True)
class Route:
    """A delivery to queue: the channel, and when it may first be tried (None: at once)."""

    channel: str
    not_before: datetime | None = None


def default_choice(channel: str) -> Choice:
    return Choice(channel, DEFAULT_LOWEST.get(channel, Severity.INFO))


def _choices(session: Session, person_ids: list[int]) -> dict[tuple[int, str], Choice]:
    if not person_ids:
        return {}
    return {
        (row.person_id, row.channel): Choice(row.channel, Severity(row.lowest), row.digest)
        for row in session.scalars(
            select(ChannelPreference).where(ChannelPreference.person_id.in_(person_ids))
        )
    }


def choices_of(session: Session, person: Person, channels: Iterable[str]) -> list[Choice]:
    """The person's choice for each of these channels, the defaults where they made none."""
    chosen = _choices(session, [person.id])
    return [chosen.get((person.id, channel), default_choice(channel)) for channel in channels]


def _own(actor: Person, person: Person) -> None:
    if actor.id != person.id:
        raise DomainError(Message(NOT_YOURS))


def set_choice(
    session: Session,
    actor: Person,
    person: Person,
    channel: str,
    *,
    lowest: Severity,
    digest: bool,
) -> None:
    """The person chooses the lowest severity a channel of theirs gets, and the summary."""
    _own(actor, person)
    row = session.scalar(
        select(ChannelPreference).where(
            ChannelPreference.person_id == person.id, ChannelPreference.channel == channel
        )
    )
    if row is None:
        row = ChannelPreference(person_id=person.id, channel=channel)
        session.add(row)
    row.lowest = lowest.value
    row.digest = digest
    session.flush()


def quiet_hours_of(session: Session, person: Person) -> QuietHours | None:
    return session.get(QuietHours, person.id)


def set_quiet_hours(
    session: Session,
    actor: Person,
    person: Person,
    starts: time | None,
    ends: time | None,
    *,
    now: datetime,
) -> None:
    """Quiet hours from `starts` to `ends` local time; neither given: none. Notices held for
    the old quiet hours that the new ones would not hold so long go out at once (or when the
    new ones end)."""
    _own(actor, person)
    if (starts is None) != (ends is None):
        field = "quiet_ends" if ends is None else "quiet_starts"
        raise SubmissionInvalid({field: Message(ONE_OF_TWO)})
    current = session.get(QuietHours, person.id)
    old_ends = current.ends if current is not None else None
    if starts is None or ends is None:
        if current is not None:
            session.delete(current)
        session.flush()
        if old_ends is not None:
            _release_held(session, person, old_ends, None, now)
        return
    starts, ends = starts.replace(second=0, microsecond=0), ends.replace(second=0, microsecond=0)
    if starts == ends:
        raise SubmissionInvalid({"quiet_ends": Message(SAME_START_AND_END)})
    if current is None:
        current = QuietHours(person_id=person.id, starts=starts, ends=ends)
        session.add(current)
    current.starts, current.ends = starts, ends
    session.flush()
    if old_ends is not None:
        _release_held(
            session, person, old_ends, quiet_until(starts, ends, person.timezone, now), now
        )


def _release_held(
    session: Session, person: Person, old_ends: time, held_until: datetime | None, now: datetime
) -> None:
    """The person's deliveries not yet tried that wait for the end of the old quiet hours
    (`old_ends`, their local time) wait only until `held_until` now (None: not at all)."""
    from models.notifications import Delivery, Notification  # which imports this module

    zone = ZoneInfo(person.timezone)
    waiting = session.scalars(
        select(Delivery)
        .join(Notification, Notification.id == Delivery.notification_id)
        .where(
            Notification.recipient_id == person.id,
            Delivery.sent_at.is_(None),
            Delivery.attempts == 0,
            Delivery.next_attempt_at > now,
        )
    )
    for delivery in waiting:
        moment = delivery.next_attempt_at
        if moment is None or moment.astimezone(zone).time() != old_ends:
            continue  # waiting for something else: a snooze, say
        if held_until is None or held_until < moment:
            delivery.next_attempt_at = held_until
    session.flush()


def quiet_until(starts: time, ends: time, zone: str, moment: datetime) -> datetime | None:
    """The end of the quiet hours `moment` falls in, or None when it falls in none."""
    tz = ZoneInfo(zone)
    local = moment.astimezone(tz)
    now = local.time().replace(tzinfo=None)
    day = local.date()
    if starts < ends:
        if not starts <= now < ends:
            return None
    elif ends <= now < starts:
        return None
    elif now >= starts:
        day += timedelta(days=1)
    return datetime.combine(day, ends, tzinfo=tz).astimezone(moment.tzinfo)


def routes(
    session: Session,
    people: Iterable[Person],
    *,
    severity: Severity,
    message: str,
    now: datetime,
) -> dict[int, list[Route]]:
    """For each person, the deliveries a notice gets: the channels they have an address on
    that take its severity (or the summary), held to the end of quiet hours unless critical."""
    severity = Severity(severity)
    by_id = {person.id: person for person in people}
    ids = list(by_id)
    addressed = channels_of(session, ids)
    chosen = _choices(session, ids)
    quiet = (
        {
            q.person_id: q
            for q in session.scalars(select(QuietHours).where(QuietHours.person_id.in_(ids)))
        }
        if ids and severity != Severity.CRITICAL
        else {}
    )
    planned: dict[int, list[Route]] = {}
    for person_id, channels in addressed.items():
        hours = quiet.get(person_id)
        held = (
            quiet_until(hours.starts, hours.ends, by_id[person_id].timezone, now)
            if hours is not None
            else None
        )
        planned[person_id] = [
            Route(channel, held)
            for channel in channels
            if chosen.get((person_id, channel), default_choice(channel)).takes(severity, message)
        ]
    return planned
