"""Food samples (留样), the second step: a dish's sample is kept 48 hours from when it was
sampled, and only then its disposal is recorded. Disposing of it sooner is refused with the
moment it may go; the canteen's page lists the samples still in the fridge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, selectinload

from models.assets import Asset
from models.base import Base
from models.checklist_roles import check_may_file
from models.checklists import FormTemplate
from models.messages import N_, DomainError, Message
from models.notifications import Notification, Severity, notify, school_admins
from models.org import District, School
from models.people import Person, can_see_school
from models.records import Record

SAMPLE_RETENTION = "canteen_food_sample_retention"
KEEP_FOR = timedelta(hours=48)
# How far back the morning reminder looks for samples nobody recorded as disposed of.
REMIND_WITHIN = timedelta(days=7)
DISPOSAL_DUE = N_(
    "%(count)d food samples at %(place)s have been kept for 48 hours: dispose of them and "
    "record it on the canteen's page."
)


class SampleDisposal(Base):
    """When a sample left the fridge, and who took it out."""

    __tablename__ = "sample_disposal"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), unique=True)
    disposed_at: Mapped[datetime]
    disposed_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))

    record: Mapped[Record] = relationship()
    disposed_by: Mapped[Person] = relationship()


class DisposalRefused(DomainError):
    """Too early, already disposed of, or not this person's to dispose of."""


def sampled_at(record: Record) -> datetime:
    """The sampling time the record gives, on the day it was filed (local time); never after
    it was filed."""
    district = record.asset.school.district
    local = district.local(record.submitted_at)
    given = record.answers.get("sampled_at")
    if not given:
        return record.submitted_at
    moment = local.replace(
        hour=time.fromisoformat(given).hour,
        minute=time.fromisoformat(given).minute,
        second=0,
        microsecond=0,
    )
    return min(moment, local).astimezone(record.submitted_at.tzinfo)


def disposable_from(record: Record) -> datetime:
    return sampled_at(record) + KEEP_FOR


@dataclass(frozen=True)
class KeptSample:
    """A sample still in the fridge, as the canteen's page lists it."""

    record: Record
    sampled_at: datetime
    disposable_from: datetime
    ready: bool

    @property
    def dish(self) -> str:
        return str(self.record.answers.get("dish") or self.record.answers.get("dishes") or "")

    @property
    def meal(self) -> str:
        return str(self.record.answers.get("meal") or "")

    @property
    def weight(self) -> float | None:
        weight = self.record.answers.get("weight")
        return float(weight) if weight is not None else None


def kept_samples(session: Session, asset: Asset, now: datetime) -> list[KeptSample]:
    """The asset's samples not yet disposed of, oldest first, each with when it may go."""
    disposed = select(SampleDisposal.record_id)
    records = session.scalars(
        select(Record)
        .join(Record.template)
        .where(
            Record.asset_id == asset.id,
            FormTemplate.key == SAMPLE_RETENTION,
            Record.submitted_at <= now,
            Record.id.not_in(disposed),
        )
        .order_by(Record.submitted_at, Record.id)
    )
    samples = []
    for record in records:
        until = disposable_from(record)
        samples.append(KeptSample(record, sampled_at(record), until, until <= now))
    return samples


def dispose_sample(
    session: Session, actor: Person, record: Record, now: datetime
) -> SampleDisposal:
    """Record that the sample left the fridge: not before 48 hours from its sampling."""
    if record.template.key != SAMPLE_RETENTION or not can_see_school(
        session, actor, record.school_id
    ):
        raise DisposalRefused(Message(N_("This is not a food sample you may dispose of.")))
    check_may_file(session, actor, record.asset, record.template)
    if session.scalar(select(SampleDisposal).where(SampleDisposal.record_id == record.id)):
        raise DisposalRefused(Message(N_("This sample's disposal is already recorded.")))
    until = disposable_from(record)
    if now < until:
        local = record.asset.school.district.local(until)
        raise DisposalRefused(
            Message(
                N_(
                    "Keep this sample for 48 hours from when it was sampled: "
                    "it may be disposed of from %(when)s."
                ),
                {"when": local.strftime("%Y-%m-%d %H:%M")},
            )
        )
    disposal = SampleDisposal(record=record, disposed_at=now, disposed_by_id=actor.id)
    session.add(disposal)
    session.flush()
    return disposal


def disposal_of(session: Session, record: Record) -> SampleDisposal | None:
    """The sample's disposal, once recorded."""
    return session.scalar(select(SampleDisposal).where(SampleDisposal.record_id == record.id))


@dataclass(frozen=True)
class SampleKeeping:
    """A filed sample's 48 hours as an inspector reads them: when it was sampled, from when it
    may go, and when and by whom it went (None and "" while it is still kept). Local times."""

    sampled_at: datetime
    disposable_from: datetime
    disposed_at: datetime | None
    disposed_by: str

    def still_kept(self) -> Message:
        """That it is still kept, and from when it may go."""
        return Message(
            N_("Not disposed of yet; it may be from %(when)s"),
            {"when": self.disposable_from.strftime("%Y-%m-%d %H:%M")},
        )


def sample_keeping(session: Session, records: list[Record]) -> dict[int, SampleKeeping]:
    """The keeping of each food sample among `records` (others are left out), by record id."""
    samples = [r for r in records if r.template.key == SAMPLE_RETENTION]
    disposals: dict[int, SampleDisposal] = {}
    ids = [r.id for r in samples]
    for chunk in range(0, len(ids), 900):
        for disposal in session.scalars(
            select(SampleDisposal)
            .where(SampleDisposal.record_id.in_(ids[chunk : chunk + 900]))
            .options(selectinload(SampleDisposal.disposed_by))
        ):
            disposals[disposal.record_id] = disposal
    kept = {}
    for record in samples:
        district = record.asset.school.district
        held = disposals.get(record.id)
        kept[record.id] = SampleKeeping(
            sampled_at=district.local(sampled_at(record)),
            disposable_from=district.local(disposable_from(record)),
            disposed_at=district.local(held.disposed_at) if held else None,
            disposed_by=held.disposed_by.display_name if held else "",
        )
    return kept


def remind_disposals(session: Session, district: District, now: datetime) -> list[Notification]:
    """The morning reminder: each canteen with samples past their 48 hours (filed in the last
    week and not yet disposed of) tells its responsible person, or the school's office."""
    disposed = select(SampleDisposal.record_id)
    records = session.scalars(
        select(Record)
        .join(Record.template)
        .join(School, School.id == Record.school_id)
        .where(
            School.district_id == district.id,
            FormTemplate.key == SAMPLE_RETENTION,
            Record.submitted_at > now - REMIND_WITHIN,
            Record.submitted_at <= now,
            Record.id.not_in(disposed),
        )
        .order_by(Record.asset_id, Record.id)
    )
    ready: dict[int, list[Record]] = {}
    for record in records:
        if disposable_from(record) <= now:
            ready.setdefault(record.asset_id, []).append(record)
    queued: list[Notification] = []
    today = district.local(now).date().isoformat()
    for records_here in ready.values():
        asset = records_here[0].asset
        recipients = (
            [asset.responsible]
            if asset.responsible is not None and asset.responsible.active
            else school_admins(session, asset.school_id, district.id)
        )
        label = asset.current_label
        queued += notify(
            session,
            recipients,
            message=DISPOSAL_DUE,
            params={"count": len(records_here), "place": f"{asset.school.name} {asset.name}"},
            severity=Severity.INFO,
            dedup_key=f"samples:{asset.id}:{today}",
            now=now,
            link=f"/s/{label.token}#samples" if label is not None else None,
        )
    return queued
