"""Group robots: a school's (or a district's) WeCom or DingTalk staff group that notices go to.

A group is known by its channel's name and a secret address (a webhook key or an access
token, and for DingTalk a signing secret), stored and never shown again in full. A notice
whose recipients' school and role match an active group, at or above its minimum severity,
becomes ONE post to the group that @-mentions every matching recipient by mobile. A channel's
adapter claims posts (a lease with an expiry), sends them oldest first per group, and marks
them sent or failed with a reason an administrator reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.audit import audit
from models.base import Base
from models.catalogue import render_notice
from models.leases import claim_rows
from models.messages import N_, DomainError, Message
from models.org import District, School
from models.people import Person, Role
from models.severity import Severity

WECOM_ROBOT = "wecom_robot"
DINGTALK_ROBOT = "dingtalk_robot"
ROBOT_CHANNELS = (WECOM_ROBOT, DINGTALK_ROBOT)
# What an administrator calls each channel, on the group's form and in the audit log alike.
ROBOT_CHANNEL_LABELS = {WECOM_ROBOT: N_("WeCom group robot"), DINGTALK_ROBOT: N_("DingTalk robot")}


class ChannelGroup(Base):
    """One staff group reached by a robot: a school's (or the district's), one role's or all."""

    __tablename__ = "channel_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"))
    role: Mapped[str | None] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(200))
    signing_secret: Mapped[str | None] = mapped_column(String(200))
    min_severity: Mapped[str] = mapped_column(String(16), default="info")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))

    district: Mapped[District] = relationship()
    school: Mapped[School | None] = relationship()

    @property
    def masked_address(self) -> str:
        """What an administrator sees of the key: its last four characters."""
        return "…" + self.address[-4:]


class GroupPost(Base):
    """One notice to one group, pending until the group's channel sends it."""

    __tablename__ = "group_post"
    __table_args__ = (UniqueConstraint("group_id", "dedup_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("channel_group.id"), index=True)
    dedup_key: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300))
    severity: Mapped[str] = mapped_column(String(16))
    mentions: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    # sent or failed, once finished; `reason` says why it failed, for an administrator.
    outcome: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(300))
    external_id: Mapped[str | None] = mapped_column(String(200))
    # A long notice goes in pieces: each accepted piece is counted, a retry resumes after it.
    pieces_sent: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]

    group: Mapped[ChannelGroup] = relationship()


NEEDS_SECRET = N_("A DingTalk robot needs its signing secret.")


class GroupRefused(DomainError):
    """A group an administrator may not add, or one missing what its channel needs."""


def _reaches(severity: str, minimum: str) -> bool:
    return Severity(severity).rank >= Severity(minimum).rank


def queue_group_posts(session: Session, notifications: Sequence[Any], *, now: datetime) -> int:
    """One post per matching active group for these notices (one notice, many recipients),
    mentioning each matching recipient's mobile; a post already queued is left alone."""
    if not notifications:
        return 0
    groups = list(session.scalars(select(ChannelGroup).where(ChannelGroup.active)))
    if not groups:
        return 0
    by_key: dict[tuple[int, str], tuple[Any, list[str]]] = {}
    for notification in notifications:
        person: Person = notification.recipient
        for group in groups:
            if not _reaches(notification.severity, group.min_severity):
                continue
            if not any(_grant_matches(group, g) for g in person.grants):
                continue
            key = (group.id, notification.dedup_key)
            _, mobiles = by_key.setdefault(key, (notification, []))
            if person.phone and person.phone not in mobiles:
                mobiles.append(person.phone)
    queued = 0
    for (group_id, dedup_key), (notification, mobiles) in by_key.items():
        group = session.get_one(ChannelGroup, group_id)
        existing = session.scalar(
            select(GroupPost).where(
                GroupPost.group_id == group_id, GroupPost.dedup_key == dedup_key
            )
        )
        if existing is not None:
            if existing.sent_at is None:
                existing.mentions = sorted({*existing.mentions, *mobiles})
            continue
        district = group.district
        post = GroupPost(
            group_id=group_id,
            dedup_key=dedup_key,
            text=render_notice(
                notification.message, notification.params, district.locale, district.timezone
            ),
            link=notification.link,
            severity=notification.severity,
            mentions=sorted(mobiles),
            created_at=now,
        )
        try:
            with session.begin_nested():
                session.add(post)
        except IntegrityError:
            continue  # queued at the same moment by another process
        queued += 1
    return queued


def _grant_matches(group: ChannelGroup, grant: Any) -> bool:
    if grant.district_id != group.district_id:
        return False
    if group.school_id is not None and grant.school_id != group.school_id:
        return False
    return group.role is None or grant.role == group.role


def groups_for(session: Session, person: Person) -> list[ChannelGroup]:
    """The groups an administrator may see: their schools', and the district's for district
    administrators."""
    district_ids = [g.district_id for g in person.grants if g.role == Role.DISTRICT_ADMIN]
    school_ids = [g.school_id for g in person.grants if g.role == Role.SCHOOL_ADMIN and g.school_id]
    return list(
        session.scalars(
            select(ChannelGroup)
            .where(
                or_(
                    ChannelGroup.district_id.in_(district_ids),
                    ChannelGroup.school_id.in_(school_ids),
                )
            )
            .order_by(ChannelGroup.id)
        )
    )


def add_group(
    session: Session,
    actor: Person,
    *,
    channel: str,
    district: District,
    school: School | None,
    role: str | None,
    label: str,
    address: str,
    signing_secret: str | None,
    min_severity: str,
    now: datetime,
) -> ChannelGroup:
    """A new group; a school administrator adds their own school's only."""
    if school is not None and not actor.can_manage_school(school):
        raise GroupRefused(Message(N_("You cannot manage this school.")))
    if school is None and not actor.is_district_admin_of(district.id):
        raise GroupRefused(
            Message(N_("Only a district administrator can add a district-wide group."))
        )
    if channel not in ROBOT_CHANNELS or min_severity not in set(Severity):
        raise GroupRefused(Message(N_("Choose a channel and a severity from the list.")))
    if channel == DINGTALK_ROBOT and not signing_secret:
        raise GroupRefused(Message(NEEDS_SECRET))
    group = ChannelGroup(
        district_id=district.id,
        school_id=school.id if school else None,
        role=role or None,
        channel=channel,
        label=label.strip(),
        address=address.strip(),
        signing_secret=(signing_secret or "").strip() or None,
        min_severity=min_severity,
        created_at=now,
        created_by_id=actor.id,
    )
    session.add(group)
    session.flush()
    audit(session, actor, "group.added", group, {}, _group_fields(group), now=now)
    return group


def _group_fields(group: ChannelGroup) -> dict[str, Any]:
    """A group as its audit entry names it. The webhook's key and the signing secret go under
    names the log never keeps a value of: it says they were set, not what they are."""
    fields: dict[str, Any] = {
        "label": group.label,
        "channel": group.channel,
        "school": group.school.name if group.school is not None else "",
        "role": group.role or "",
        "min_severity": group.min_severity,
        "webhook_secret": bool(group.address),
    }
    if group.signing_secret:
        fields["signing_secret"] = True
    return fields


def _manageable(session: Session, actor: Person, group_id: int) -> ChannelGroup | None:
    return next((g for g in groups_for(session, actor) if g.id == group_id), None)


def disable_group(
    session: Session, actor: Person, group_id: int, *, now: datetime
) -> ChannelGroup | None:
    """Stop posting to a group; its pending posts stay unsent and are not sent."""
    group = _manageable(session, actor, group_id)
    if group is not None and group.active:
        group.active = False
        before, after = {"enabled": True}, {"enabled": False}
        audit(session, actor, "group.disabled", group, before, after, now=now)
    return group


TEST_MESSAGE = N_("Houqin test message: notices for this group will appear here.")


def queue_test_post(
    session: Session, actor: Person, group_id: int, *, now: datetime
) -> GroupPost | None:
    """A test message to the group, sent by its channel's next drain."""
    group = _manageable(session, actor, group_id)
    if group is None or not group.active:
        return None
    district = group.district
    post = GroupPost(
        group_id=group.id,
        dedup_key=f"test:{now.isoformat(timespec='seconds')}",
        text=render_notice(TEST_MESSAGE, {}, district.locale, district.timezone),
        severity="info",
        mentions=[],
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(post)
    except IntegrityError:
        return None
    return post


@dataclass(frozen=True)
class LastDelivery:
    sent_at: datetime | None
    failure: str | None


def last_deliveries(session: Session, group_ids: Iterable[int]) -> dict[int, LastDelivery]:
    """Per group: when it last delivered, and the reason of its latest failure, if any."""
    ids = list(group_ids)
    sent = dict(
        session.execute(
            select(GroupPost.group_id, func.max(GroupPost.sent_at))
            .where(GroupPost.group_id.in_(ids), GroupPost.outcome == "sent")
            .group_by(GroupPost.group_id)
        ).all()
    )
    failures: dict[int, str | None] = {}
    for group_id, reason in session.execute(
        select(GroupPost.group_id, GroupPost.reason)
        .where(GroupPost.group_id.in_(ids), GroupPost.reason.is_not(None))
        .order_by(GroupPost.id)
    ):
        failures[group_id] = reason
    return {i: LastDelivery(sent.get(i), failures.get(i)) for i in ids}


# --- the adapters' side: claim, record each piece, mark ---


@dataclass(frozen=True)
class OutgoingPost:
    post_id: int
    group_id: int
    address: str
    signing_secret: str | None
    text: str
    link: str | None
    mentions: tuple[str, ...]
    pieces_sent: int
    # The language the post was written in (its district's), for the words a channel adds.
    locale: str = "zh_CN"


def claim_posts(
    session: Session,
    channel: str,
    *,
    sender: str,
    now: datetime,
    lease: timedelta,
    limit: int = 500,
) -> list[OutgoingPost]:
    """The channel's posts that may be tried now, claimed for `sender` until the lease ends,
    oldest first per group; a group whose older post waits for a retry gets nothing newer."""
    waiting = select(GroupPost.group_id).where(
        GroupPost.sent_at.is_(None), GroupPost.attempts > 0, GroupPost.next_attempt_at > now
    )
    candidates = (
        select(GroupPost.id)
        .join(ChannelGroup, ChannelGroup.id == GroupPost.group_id)
        .where(
            ChannelGroup.channel == channel,
            ChannelGroup.active,
            GroupPost.sent_at.is_(None),
            or_(GroupPost.next_attempt_at.is_(None), GroupPost.next_attempt_at <= now),
            GroupPost.group_id.not_in(waiting),
        )
        .order_by(GroupPost.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True, of=GroupPost)
    ids = list(session.scalars(candidates))
    claimed = _claim(session, ids, sender=sender, now=now, lease=lease)
    rows = session.execute(
        select(GroupPost, ChannelGroup)
        .join(ChannelGroup, ChannelGroup.id == GroupPost.group_id)
        .where(GroupPost.id.in_(claimed))
        .order_by(GroupPost.id)
    )
    return [
        OutgoingPost(
            post_id=post.id,
            group_id=group.id,
            address=group.address,
            signing_secret=group.signing_secret,
            text=post.text,
            link=post.link,
            mentions=tuple(post.mentions or ()),
            pieces_sent=post.pieces_sent,
            locale=group.district.locale,
        )
        for post, group in rows
    ]


def _claim(
    session: Session, ids: list[int], *, sender: str, now: datetime, lease: timedelta
) -> list[int]:
    """The rows of `ids` this sender now holds: free, or their last claim expired."""
    if not ids:
        return []
    candidates = select(GroupPost.id).where(GroupPost.id.in_(ids)).order_by(GroupPost.id)
    return claim_rows(
        session, GroupPost, candidates, sender=sender, now=now, lease=lease, limit=len(ids)
    )


def record_piece(session: Session, post_id: int, sender: str, pieces_sent: int) -> None:
    """A piece was accepted: a retry, or another sender after a crash, resumes after it."""
    session.execute(
        update(GroupPost)
        .where(GroupPost.id == post_id, GroupPost.claimed_by == sender)
        .values(pieces_sent=pieces_sent)
    )


def mark_post_sent(
    session: Session, post_id: int, sender: str, external_id: str, *, now: datetime
) -> None:
    session.execute(
        update(GroupPost)
        .where(GroupPost.id == post_id, GroupPost.sent_at.is_(None))
        .values(
            sent_at=now,
            outcome="sent",
            external_id=external_id,
            claimed_by=None,
            claimed_until=None,
        )
    )


def mark_post_failed(
    session: Session,
    post_id: int,
    *,
    now: datetime,
    retry_at: datetime | None,
    reason: str,
) -> None:
    """A failed try: again at `retry_at`, or never, with the reason an administrator reads."""
    values: dict[str, object] = {
        "attempts": GroupPost.attempts + 1,
        "next_attempt_at": retry_at,
        "reason": reason[:300],
        "claimed_by": None,
        "claimed_until": None,
    }
    if retry_at is None:
        values.update(sent_at=now, outcome="failed")
    session.execute(update(GroupPost).where(GroupPost.id == post_id).values(**values))


def release_posts(session: Session, post_ids: list[int], sender: str) -> None:
    """Claims this sender will not use this drain (their group waits): free them now."""
    if post_ids:
        session.execute(
            update(GroupPost)
            .where(GroupPost.id.in_(post_ids), GroupPost.claimed_by == sender)
            .values(claimed_by=None, claimed_until=None)
        )
