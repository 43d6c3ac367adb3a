"""Records: what was found at an asset, by whom, when, with the photos that prove it."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, bindparam, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import (
    Mapped,
    Session,
    joinedload,
    lazyload,
    mapped_column,
    relationship,
)

from models.actions import open_actions_for_failures
from models.answers import Directory, SupplierChoice, check_answers
from models.assets import Asset
from models.base import Base
from models.checklist_roles import check_may_file
from models.checklists import FormTemplate, TemplateSpec, latest_template, version_spec
from models.clock import Clock, sent_moment
from models.db import read_rows
from models.documents import local_today
from models.duties import Task, TaskState, complete_tasks
from models.health import judge_roster
from models.messages import N_, DomainError, Message, SubmissionInvalid
from models.meters import reading_errors
from models.notifications import Severity, notify, school_admins
from models.org import District, Location, School
from models.people import Person, can_see_school, visible_school_ids
from models.photos import (
    Photo,
    PhotoRejected,
    PhotoStore,
    ProcessedPhoto,
    RecordPhoto,
    capture_time,
    process_photo,
    store_photo,
)
from models.places import distance_between
from models.positions import PhonePosition, school_distance
from models.staff import people_at_school, school_roles
from models.supplier_licences import supplier_refusals
from models.suppliers import suppliers_for
from models.trips import (
    TripRefused,
    alert_overload,
    alert_refused_departure,
    arrival_failures,
    escort_errors,
    record_trip,
    trip_refusal,
)
from models.water import register_water_test_report


class Channel(enum.StrEnum):
    WEB = "web"
    BOT = "bot"


class Result(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"


class Record(Base):
    __tablename__ = "record"
    __table_args__ = (
        Index("ix_record_asset_id_submitted_at", "asset_id", "submitted_at"),
        Index("ix_record_school_id_submitted_at", "school_id", "submitted_at"),
        Index(
            "ix_record_school_id_asset_kind_submitted_at", "school_id", "asset_kind", "submitted_at"
        ),
        # Only the flagged records (the same photo as an earlier one), so counting or listing
        # them reads those few and not a year of records. same_photo_as_id makes it cover the
        # count, so SQLite (which keeps no statistics) prefers it to (school_id, submitted_at).
        Index(
            "ix_record_flagged_school_id_submitted_at",
            "school_id",
            "submitted_at",
            "same_photo_as_id",
            sqlite_where=text("same_photo_as_id IS NOT NULL"),
            postgresql_where=text("same_photo_as_id IS NOT NULL"),
        ),
        # The records filed soon after the same person's at another asset (the quick
        # succession the ledger flags): counted along it, without reading a year of records.
        Index(
            "ix_record_quick_school_id_submitted_at",
            "school_id",
            "submitted_at",
            "after_seconds",
            sqlite_where=text("after_seconds IS NOT NULL"),
            postgresql_where=text("after_seconds IS NOT NULL"),
        ),
        # The records with an old photo or one without a capture time, counted along it.
        Index(
            "ix_record_photo_school_id_submitted_at",
            "school_id",
            "submitted_at",
            "photo_age_seconds",
            "photos_untimed",
            sqlite_where=text("photo_age_seconds IS NOT NULL OR photos_untimed > 0"),
            postgresql_where=text("photo_age_seconds IS NOT NULL OR photos_untimed > 0"),
        ),
        # A person's previous record, found when they file the next (`_follow_previous`).
        Index("ix_record_submitted_by_id_submitted_at", "submitted_by_id", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id"))
    # Copied from the asset (which never changes school or kind) so a ledger page is one index scan.
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    asset_kind: Mapped[str] = mapped_column(String(32))
    template_id: Mapped[int] = mapped_column(ForeignKey("form_template.id"))
    answers: Mapped[dict[str, Any]]
    failed_items: Mapped[list[Any]]
    result: Mapped[str] = mapped_column(String(8))
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    submitted_at: Mapped[datetime] = mapped_column(index=True)
    channel: Mapped[str] = mapped_column(String(8))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    # An earlier record with the very same photo: flagged, since one photo proves one check.
    same_photo_as_id: Mapped[int | None] = mapped_column(ForeignKey("record.id"))
    # When the same person's previous record was at another asset: that asset and the seconds
    # between the two. A short gap reads as implausible (models.plausibility); kept when filed,
    # so the dashboard counts it without comparing every record with the one before.
    after_asset_id: Mapped[int | None] = mapped_column(ForeignKey("asset.id"))
    after_seconds: Mapped[int | None]
    # Where that asset lies from this one (models.places.Distance; None: not known), so the
    # quick succession's threshold grows with the walk between them.
    after_distance: Mapped[str | None] = mapped_column(String(16))
    after_asset: Mapped[Asset | None] = relationship(foreign_keys=[after_asset_id])
    # How long before the record arrived its oldest photo was captured (None: no photo with a
    # capture time), and how many of its photos have no capture time at all (an album picture
    # or a screenshot): flagged by models.plausibility against the threshold of the day.
    photo_age_seconds: Mapped[int | None]
    photos_untimed: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    # The same person's record of the same label less than a minute before, when its answers
    # differ from this one's (answers tried until they pass): flagged (models.plausibility).
    changed_from_id: Mapped[int | None] = mapped_column(ForeignKey("record.id"))
    # The time on the phone when the person submitted (the form's script, kept in a draft or
    # a retry), beside submitted_at, the server's time when it arrived; None if not believable.
    phone_at: Mapped[datetime | None]
    # A photo sent to the bot as a forward of another message: when that message was first
    # sent. It may be someone else's photo, or an old one: flagged (models.plausibility).
    forwarded_at: Mapped[datetime | None]
    # Where the phone was when the person submitted, when they allowed it (js/photos.js), and
    # how far from its school's position that was when it arrived (None: either not known):
    # farther than the school's radius plus the accuracy is flagged (models.plausibility).
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    accuracy_m: Mapped[int | None]
    school_distance_m: Mapped[int | None]

    asset: Mapped[Asset] = relationship(foreign_keys=[asset_id])
    template: Mapped[FormTemplate] = relationship(lazy="joined")
    submitted_by: Mapped[Person] = relationship(lazy="joined")
    photos: Mapped[list[RecordPhoto]] = relationship(
        order_by="(RecordPhoto.item_key, RecordPhoto.position)",
        cascade="all, delete-orphan",
        lazy="selectin",
    )
    same_photo_as: Mapped[Record | None] = relationship(
        remote_side=[id], foreign_keys=[same_photo_as_id], lazy="selectin"
    )
    changed_from: Mapped[Record | None] = relationship(
        remote_side=[id], foreign_keys=[changed_from_id], lazy="selectin"
    )

    @property
    def passed(self) -> bool:
        return self.result == Result.PASS


@dataclass(frozen=True)
class Upload:
    """One uploaded file for a photo item, as the door received it."""

    item_key: str
    data: bytes
    # Processed by the door before the write transaction, so no lock waits on image work.
    processed: ProcessedPhoto | None = None
    # The capture time the phone read from the photo before scaling it (ISO 8601), unchecked.
    taken_at: str | None = None


@dataclass(frozen=True)
class Submission:
    record: Record
    created: bool


class NotAllowed(DomainError):
    pass


def submit_record(
    session: Session,
    *,
    actor: Person,
    asset: Asset,
    template: FormTemplate,
    answers: Mapping[str, str],
    uploads: Sequence[Upload],
    key: str,
    channel: Channel,
    clock: Clock,
    store: PhotoStore,
    keep_exif: bool = False,
    repeat_confirmed: bool = False,
    phone_time: str | None = None,
    located: PhonePosition | None = None,
    forwarded_at: datetime | None = None,
) -> Submission:
    """File a record with its photos in the caller's transaction; the same key files it once.

    The same check filed again in its window is refused with AlreadyFiled unless the person
    confirmed they mean a second record (`repeat_confirmed`). `located`: where the phone was,
    when the person allowed it to say; `forwarded_at`: when the message its photo was
    forwarded from was first sent (the bot)."""
    key = key.strip()
    if not 8 <= len(key) <= 64:
        raise DomainError(Message(N_("This form has expired. Please open it again.")))
    existing = _record_by_key(session, key)
    if existing is not None:
        return Submission(
            _resent(session, existing, actor, asset, template, answers, uploads), created=False
        )
    if not can_see_school(session, actor, asset.school_id):
        raise NotAllowed(Message(N_("You cannot file records for this school.")))
    if template.kind != asset.kind:
        raise DomainError(Message(N_("This checklist does not apply to this asset.")))
    if asset.retired_at is not None:
        raise DomainError(Message(N_("This asset is retired: nothing more is filed for it.")))
    check_may_file(session, actor, asset, template)

    spec = template.spec
    photo_items = {i.key for i in spec.items if i.type == "photo"}
    counts = _photo_counts(uploads)
    errors: dict[str, Message] = {}
    alerted = False
    try:
        today = local_today(clock.now(), asset.school.district)
        directory = directory_for(session, spec, asset, today)
        checked = check_answers(spec, answers, counts, asset, directory)
    except SubmissionInvalid as invalid:
        errors.update(invalid.errors)
        checked = None
        if invalid.overload is not None:
            children, seats = invalid.overload
            alert_overload(session, asset, actor, children, seats, key, clock.now())
            alerted = True
    if escort := escort_errors(session, spec, actor, asset, answers, key=key, now=clock.now()):
        errors.update(escort)
        alerted = True
    hidden = checked.hidden if checked is not None else frozenset()
    processed: list[tuple[str, ProcessedPhoto, datetime | None]] = []
    zone = asset.school.district.zone
    for upload in uploads:
        if upload.item_key not in photo_items or upload.item_key in errors.keys() | hidden:
            continue
        try:
            photo = upload.processed or process_photo(upload.data, keep_exif=keep_exif)
            taken = capture_time(upload.taken_at, photo, zone=zone, now=clock.now())
            processed.append((upload.item_key, photo, taken))
        except PhotoRejected as rejected:
            errors[upload.item_key] = rejected.message
    if checked is not None:
        errors.update(reading_errors(session, asset, spec, checked.answers))
    # The health check's roster: each worker's answers and certificate (models/health.py).
    roster = judge_roster(session, spec, asset, answers, clock.now())
    errors.update(roster.errors)
    if errors or checked is None:
        raise SubmissionInvalid(errors, alerted=alerted)

    now = clock.now()
    refusal = trip_refusal(session, spec, asset, now)
    if refusal is not None:
        if spec.trip == "departure":  # kept: the door answers the refusal, no exception escapes
            alert_refused_departure(session, asset, actor, refusal, key, now)
        raise TripRefused(refusal)
    if not repeat_confirmed:
        earlier = earlier_in_window(
            session, asset, template, checked.answers, now, checked.failed_items, key
        )
        if earlier is not None:
            raise AlreadyFiled(earlier, asset.school.district, now)
    derived = roster.answers
    failed_items = list(checked.failed_items)
    failed_items += [k for k in roster.failed if k not in failed_items]
    if spec.trip == "arrival":
        failed_items += [
            k
            for k in arrival_failures(session, asset, checked.answers, now)
            if k not in failed_items
        ]
    try:
        with session.begin_nested():
            record = Record(
                asset=asset,
                school_id=asset.school_id,
                asset_kind=asset.kind,
                template=template,
                answers={**checked.answers, **derived},
                failed_items=failed_items,
                result=Result.FAIL if failed_items else Result.PASS,
                submitted_by=actor,
                submitted_at=now,
                channel=channel,
                idempotency_key=key,
                phone_at=phone_moment(phone_time, now),
                forwarded_at=forwarded_at,
                latitude=located.latitude if located else None,
                longitude=located.longitude if located else None,
                accuracy_m=located.accuracy_m if located else None,
                school_distance_m=school_distance(asset.school, located) if located else None,
            )
            session.add(record)
            positions: dict[str, int] = {}
            for item_key, photo, taken in processed:
                stored = store_photo(session, store, photo, now=now, taken_at=taken)
                position = positions.get(item_key, 0)
                positions[item_key] = position + 1
                if not any(
                    p.photo_id == stored.id and p.item_key == item_key for p in record.photos
                ):
                    record.photos.append(
                        RecordPhoto(photo=stored, item_key=item_key, position=position)
                    )
            _note_photo_times(record, [taken for _, _, taken in processed], now, channel)
            session.flush()
            _follow_previous(session, record)
            _note_changed_answers(session, record)
            _flag_same_photo(session, record, now)
            complete_tasks(
                session,
                asset_id=asset.id,
                template_key=template.key,
                record_id=record.id,
                submitted_at=now,
            )
            record_trip(session, record, now=now)
            register_water_test_report(session, record, now=now)
            if record.failed_items:
                open_actions_for_failures(session, record, now=now)
    except IntegrityError:
        existing = _record_by_key(session, key)
        if existing is None:
            raise
        return Submission(
            _resent(session, existing, actor, asset, template, answers, uploads), created=False
        )
    return Submission(record, created=True)


class AlreadyFiled(DomainError):
    """The same check on the same asset is already filed in its window (`earlier`)."""

    def __init__(self, earlier: Record, district: District, now: datetime) -> None:
        local = district.local(earlier.submitted_at)
        shown = local.strftime(
            "%H:%M" if local.date() == district.local(now).date() else "%m-%d %H:%M"
        )
        super().__init__(
            Message(
                N_("This check was already filed at %(time)s. File it once more?"),
                {"time": shown},
            )
        )
        self.earlier = earlier


# Answers that say which check it was (a meal, a class, a delivery), not what was found.
_IDENTIFYING_TYPES = ("text", "single_choice", "date", "time", "datetime", "supplier", "person")


def earlier_in_window(
    session: Session,
    asset: Asset,
    template: FormTemplate,
    answers: Mapping[str, Any],
    now: datetime,
    failed_items: Sequence[str] = (),
    key: str = "",
) -> Record | None:
    """The record of this same check already filed in its window, if any.

    The window is the task's for this checklist and asset when one covers now, else the
    local day. A bus's trip checklists are exempt: a bus runs several trips a day. A
    checklist filed per meal, class or delivery counts as the same check only with the same
    required text, choice, date, supplier and person answers; findings may differ. Checking
    again after a failure, with other findings, is the fix being shown, not a repeat.
    """
    spec = template.spec
    if spec.trip is not None or spec.has("children_boarded"):
        return None
    start = (
        asset.school.district.local(now)
        .replace(hour=0, minute=0, second=0, microsecond=0)
        .astimezone(UTC)
    )
    task_start = session.scalar(
        select(func.min(Task.opens_at)).where(
            Task.asset_id == asset.id,
            Task.template_key == template.key,
            # A current task's window: a past one has closed, one a schedule change set aside
            # no longer counts.
            Task.current,
            Task.opens_at <= now,
            Task.closes_at > now,
        )
    )
    # A window every N days opens at the record that closed the one before: not a repeat; a
    # night patrol's opens after dark: the afternoon's patrol was not this one.
    after_start = Record.submitted_at >= start
    if task_start is not None:
        after_start = Record.submitted_at > task_start
    identifying = [
        item.key
        for item in spec.items
        if item.required and item.type in _IDENTIFYING_TYPES and not item.fail_values
    ]
    earlier = session.scalars(
        select(Record)
        .join(Record.template)
        .where(
            Record.asset_id == asset.id,
            FormTemplate.key == template.key,
            after_start,
            Record.submitted_at <= now,
            # The same submission arriving again is a resend, answered as one (`_resent`).
            Record.idempotency_key != key,
        )
        .order_by(Record.submitted_at.desc(), Record.id.desc())
    )
    for record in earlier:
        if all(record.answers.get(key) == answers.get(key) for key in identifying):
            if record.failed_items and sorted(record.failed_items) != sorted(failed_items):
                return None
            return record
    return None


# The longest gap kept: beyond it no threshold would call two records implausible.
AFTER_WITHIN = timedelta(hours=1)


def _follow_previous(session: Session, record: Record) -> None:
    """Note the asset and gap when the person's previous record was at another asset."""
    previous = session.execute(
        select(Record.asset_id, Record.submitted_at, Asset.location_id)
        .join(Asset, Asset.id == Record.asset_id)
        .where(
            Record.submitted_by_id == record.submitted_by_id,
            Record.id != record.id,
            Record.submitted_at <= record.submitted_at,
            Record.submitted_at > record.submitted_at - AFTER_WITHIN,
        )
        .order_by(Record.submitted_at.desc(), Record.id.desc())
        .limit(1)
    ).first()
    if previous is not None and previous.asset_id != record.asset_id:
        record.after_asset_id = previous.asset_id
        record.after_seconds = int((record.submitted_at - previous.submitted_at).total_seconds())
        there = session.get(Location, previous.location_id) if previous.location_id else None
        distance = distance_between(record.asset.location, there)
        record.after_distance = distance.value if distance is not None else None


# The phone's time is believed up to a minute ahead of the server and a week behind it
# (a record kept offline that long); anything else is a wrong clock or a forged field.
PHONE_AHEAD = timedelta(minutes=1)
PHONE_BEHIND = timedelta(days=7)
# The record page and the ledger show the phone's time beside the server's beyond this.
PHONE_DIFFERS = timedelta(minutes=5)


def phone_moment(sent: str | None, now: datetime) -> datetime | None:
    """The phone's time as sent (ISO 8601 with an offset, as a script's toISOString()), in
    UTC; None when missing, unreadable, or not within a week behind to a minute ahead. Never
    refused: the person cannot fix their phone's field."""
    moment = sent_moment(sent)
    if moment is None or not now - PHONE_BEHIND <= moment <= now + PHONE_AHEAD:
        return None
    return moment.astimezone(UTC)


def phone_time_differs(record: Record) -> bool:
    """Whether the phone's time and the server's are far enough apart to show both."""
    return (
        record.phone_at is not None and abs(record.submitted_at - record.phone_at) > PHONE_DIFFERS
    )


# A second record of the same label by the same person this soon, with other answers, reads
# as answers tried until they pass.
CHANGED_WITHIN = timedelta(minutes=1)


def _note_changed_answers(session: Session, record: Record) -> None:
    """Keep the same person's record of the same label under a minute before, if it differs."""
    previous = session.scalar(
        select(Record)
        .where(
            Record.submitted_by_id == record.submitted_by_id,
            Record.asset_id == record.asset_id,
            Record.id != record.id,
            Record.submitted_at <= record.submitted_at,
            Record.submitted_at > record.submitted_at - CHANGED_WITHIN,
        )
        .order_by(Record.submitted_at.desc(), Record.id.desc())
        .limit(1)
    )
    if previous is not None and (
        previous.answers != record.answers or previous.template_id != record.template_id
    ):
        record.changed_from = previous


def _note_photo_times(
    record: Record, taken: Sequence[datetime | None], now: datetime, channel: Channel
) -> None:
    """Keep how long before arrival the oldest photo was captured, and how many have no time.

    A photo sent to the bot never has one (Telegram strips EXIF from the photos it takes), so
    only the web form's count them: flagging every bot record would hide the ones that matter.
    """
    ages = [int((now - t).total_seconds()) for t in taken if t is not None]
    record.photo_age_seconds = max(0, max(ages)) if ages else None
    record.photos_untimed = sum(1 for t in taken if t is None) if channel == Channel.WEB else 0


def _flag_same_photo(session: Session, record: Record, now: datetime) -> None:
    """A photo that already backs another record is flagged on this one and told to the
    school's administrators: flagged, not refused (a photo can be sent twice by mistake)."""
    photo_ids = {p.photo_id for p in record.photos}
    if not photo_ids:
        return
    earlier = session.scalar(
        select(Record)
        .join(RecordPhoto, RecordPhoto.record_id == Record.id)
        .where(
            RecordPhoto.photo_id.in_(photo_ids),
            Record.id != record.id,
            # Its administrators can open the earlier record; another school's stays unnamed.
            Record.school_id == record.school_id,
        )
        .order_by(Record.submitted_at, Record.id)
        .limit(1)
    )
    if earlier is None:
        return
    record.same_photo_as = earlier
    asset = record.asset
    notify(
        session,
        school_admins(session, asset.school_id, asset.school.district_id),
        message=N_(
            "%(asset)s: record %(record)d (%(checklist)s) has the same photo as "
            "record %(earlier)d at %(at)s."
        ),
        params={
            "asset": asset.name,
            "record": record.id,
            "checklist": dict(record.template.spec.title),
            "earlier": earlier.id,
            "at": earlier.submitted_at.isoformat(),
        },
        severity=Severity.MAJOR,
        dedup_key=f"record:{record.id}:same_photo",
        now=now,
        link=f"/records/{record.id}",
    )


def submit_task_photo(
    session: Session,
    *,
    actor: Person,
    task_id: int,
    photo: bytes,
    key: str,
    clock: Clock,
    store: PhotoStore,
    keep_exif: bool = False,
    processed: ProcessedPhoto | None = None,
    sent_at: datetime | None = None,
    forwarded_at: datetime | None = None,
) -> Submission:
    """A photo sent for a task (from the Telegram bot) files its checklist, where the
    checklist says a photo can stand for it; the same photo pipeline as the web (`processed`
    when the door already processed it, outside the transaction).

    `sent_at`: when the chat's message was sent, kept as the phone's time (a bot that was
    down files it later); `forwarded_at`: when the message it forwards was first sent."""
    task = session.get(Task, task_id)
    if task is None or not can_see_school(session, actor, task.school_id):
        raise NotAllowed(Message(N_("This task is not yours to record.")))
    template = latest_template(session, task.template_key, district_id=task.school.district_id)
    if template is None or not photo_completes(template):
        raise DomainError(
            Message(N_("This checklist needs its form: scan the label on the asset."))
        )
    if task.state != TaskState.OPEN and _record_by_key(session, key) is None:
        # Another photo for a task already done would prove the same check twice.
        raise DomainError(
            Message(
                N_("This task is already closed: nothing more was filed. /due lists what is open.")
            )
        )
    bot = template.spec.bot
    assert bot is not None  # photo_completes said so
    return submit_record(
        session,
        actor=actor,
        asset=session.get_one(Asset, task.asset_id),
        template=template,
        answers=bot.answers,
        uploads=[Upload(bot.photo, photo, processed)],
        key=key,
        channel=Channel.BOT,
        clock=clock,
        store=store,
        keep_exif=keep_exif,
        # The task is open: the photo is the person's own answer to it; a resend has its key.
        repeat_confirmed=True,
        phone_time=sent_at.isoformat() if sent_at is not None else None,
        forwarded_at=forwarded_at,
    )


def photo_completes(template: FormTemplate) -> bool:
    """Whether a photo alone files this checklist (its spec says which answers it stands
    for): the one rule for the chat's "done, send a photo" and for the photo itself."""
    return template.spec.bot is not None


def tasks_a_photo_closes(session: Session, task_ids: Sequence[int]) -> list[Task]:
    """Those of these tasks that are still open and that a photo alone can close, in order."""
    if not task_ids:
        return []
    tasks = session.scalars(
        select(Task).where(Task.id.in_(task_ids), Task.state == TaskState.OPEN)
    ).all()
    closes: dict[tuple[str, int], bool] = {}
    for task in tasks:
        which = (task.template_key, task.school.district_id)
        if which not in closes:
            template = latest_template(session, which[0], district_id=which[1])
            closes[which] = template is not None and photo_completes(template)
    by_id = {
        task.id: task for task in tasks if closes[(task.template_key, task.school.district_id)]
    }
    return [by_id[task_id] for task_id in task_ids if task_id in by_id]


def undone_task_ids(session: Session, task_ids: Sequence[int]) -> set[int]:
    """Which of these tasks are neither done nor retired: a notice about none of them (a
    snoozed reminder whose task was done meanwhile) has nothing left to ask. A missed task
    still counts: its escalation is still news."""
    if not task_ids:
        return set()
    settled = (TaskState.DONE, TaskState.RETIRED)
    return set(
        session.scalars(select(Task.id).where(Task.id.in_(task_ids), Task.state.not_in(settled)))
    )


def _photo_counts(uploads: Sequence[Upload]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for upload in uploads:
        counts[upload.item_key] = counts.get(upload.item_key, 0) + 1
    return counts


def directory_for(
    session: Session, spec: TemplateSpec, asset: Asset, today: date | None = None
) -> Directory:
    """Whom and what the checklist may name, looked up only when it has such an item; with
    `today`, a supplier whose licence is missing or expired by then is refused."""
    types = {item.type for item in spec.items}
    at_school = people_at_school(session, asset.school) if "person" in types else []
    people = {p.id: p.display_name for p in at_school}
    roles = {p.id: frozenset(str(r) for r in school_roles(p, asset.school)) for p in at_school}
    suppliers = {}
    if "supplier" in types:
        district_id = session.get_one(School, asset.school_id).district_id
        listed = suppliers_for(session, district_id)
        refused = supplier_refusals(session, listed, today) if today is not None else {}
        suppliers = {
            s.id: SupplierChoice(
                name=s.name, categories=tuple(s.categories), refusals=refused.get(s.id, {})
            )
            for s in listed
        }
    return Directory(people=people, suppliers=suppliers, roles=roles)


def _record_by_key(session: Session, key: str) -> Record | None:
    return session.scalar(select(Record).where(Record.idempotency_key == key))


class AlreadySent(DomainError):
    """The form was sent before with other answers: the person must look and send it anew."""


def _resent(
    session: Session,
    record: Record,
    actor: Person,
    asset: Asset,
    template: FormTemplate,
    answers: Mapping[str, str],
    uploads: Sequence[Upload],
) -> Record:
    """The record a retry of the same submission already filed; anything else is refused."""
    already = Message(
        N_("This form was already sent. Check the answers and send them as a new record.")
    )
    if record.submitted_by_id != actor.id or record.asset_id != asset.id:
        raise DomainError(Message(N_("This form has expired. Please open it again.")))
    if record.template_id != template.id or len(uploads) != len(record.photos):
        raise AlreadySent(already)
    counts = _photo_counts(uploads)
    try:
        checked = check_answers(
            template.spec,
            answers,
            counts,
            asset,
            directory_for(session, template.spec, asset),
        )
    except SubmissionInvalid:
        raise AlreadySent(already) from None
    # Keys with a leading _ were added by a rule (models/health.py), not typed in.
    # A roster's answers are judged apart (models/health.py): compared as kept.
    rosters = {i.key for i in template.spec.items if i.type == "roster"}
    kept = {k: v for k, v in record.answers.items() if not k.startswith("_") and k not in rosters}
    if checked.answers != kept:
        raise AlreadySent(already)
    return record


def last_record(session: Session, asset_id: int, template_key: str) -> Record | None:
    """The asset's newest record of one checklist, with who filed it (a form says it)."""
    return session.scalar(_last_record(), {"asset_id": asset_id, "template_key": template_key})


@cache
def _last_record() -> Any:
    """Built once: every form a scan opens asks it."""
    return (
        select(Record)
        .join(Record.template)
        .where(
            Record.asset_id == bindparam("asset_id", type_=Integer),
            FormTemplate.key == bindparam("template_key", type_=String),
        )
        .options(
            joinedload(Record.submitted_by).lazyload(Person.grants),
            lazyload(Record.template),
            lazyload(Record.photos),
            lazyload(Record.same_photo_as),
            lazyload(Record.changed_from),
        )
        .order_by(Record.submitted_at.desc(), Record.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class PhotoShown:
    """A photo of a listed record, as the templates' thumbnails read a record's photos."""

    photo_id: int


@dataclass(frozen=True)
class RecordLine:
    """A record as the list of an asset's newest shows it: when, which checklist, by whom,
    passed or not, and its photos, read as plain columns."""

    id: int
    submitted_at: datetime
    passed: bool
    template_key: str
    title: Mapping[str, str]
    submitter: str
    photos: tuple[PhotoShown, ...]


def recent_record_lines(session: Session, asset_id: int, limit: int) -> list[RecordLine]:
    """The asset's newest records as a list shows them, in one query: every scan of a label
    lists them."""
    rows: dict[int, Any] = {}
    photos: dict[int, list[PhotoShown]] = {}
    for row in read_rows(session, _recent_lines(), {"asset_id": asset_id, "limit": limit}):
        rows.setdefault(row.id, row)
        if row.photo_id is not None:
            photos.setdefault(row.id, []).append(PhotoShown(row.photo_id))
    return [
        RecordLine(
            id=row.id,
            submitted_at=row.submitted_at,
            passed=row.result == Result.PASS,
            template_key=row.key,
            title=version_spec(
                session, row.template_id, row.key, row.version, row.content_hash
            ).title,
            submitter=row.display_name,
            photos=tuple(photos.get(row.id, ())),
        )
        for row in rows.values()
    ]


@cache
def _recent_lines() -> Any:
    """The newest records, each with its photos (a row for each, as `Record.photos` orders
    them)."""
    newest = (
        select(
            Record.id,
            Record.submitted_at,
            Record.result,
            Record.template_id,
            FormTemplate.key,
            FormTemplate.version,
            FormTemplate.content_hash,
            Person.display_name,
        )
        .join(FormTemplate, FormTemplate.id == Record.template_id)
        .join(Person, Person.id == Record.submitted_by_id)
        .where(Record.asset_id == bindparam("asset_id", type_=Integer))
        .order_by(Record.submitted_at.desc(), Record.id.desc())
        .limit(bindparam("limit", type_=Integer))
        .subquery()
    )
    return (
        select(newest, RecordPhoto.photo_id)
        .outerjoin(RecordPhoto, RecordPhoto.record_id == newest.c.id)
        .order_by(
            newest.c.submitted_at.desc(),
            newest.c.id.desc(),
            RecordPhoto.item_key,
            RecordPhoto.position,
        )
    )


def visible_record(session: Session, viewer: Person, record_id: int) -> Record | None:
    return session.scalar(
        select(Record)
        .join(Record.asset)
        .where(Record.id == record_id, Asset.school_id.in_(visible_school_ids(viewer)))
    )


def visible_photo(session: Session, viewer: Person, photo_id: int) -> Photo | None:
    """A photo, if it proves a record or a fixed action the viewer may see."""
    from models.actions import ActionEvent, CorrectiveAction

    schools = visible_school_ids(viewer)
    in_record = (
        select(RecordPhoto.photo_id)
        .join(Record, Record.id == RecordPhoto.record_id)
        .where(RecordPhoto.photo_id == photo_id, Record.school_id.in_(schools))
    )
    in_action = (
        select(ActionEvent.photo_id)
        .join(CorrectiveAction, CorrectiveAction.id == ActionEvent.action_id)
        .where(ActionEvent.photo_id == photo_id, CorrectiveAction.school_id.in_(schools))
    )
    return session.scalar(
        select(Photo).where(Photo.id == photo_id, Photo.id.in_(in_record.union(in_action)))
    )
