"""Assets carry QR labels; a label's token is the only thing a scan knows."""

from __future__ import annotations

import enum
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint, and_, bindparam, func, select
from sqlalchemy.orm import Mapped, Session, joinedload, mapped_column, relationship

from models.audit import audit
from models.base import Base
from models.messages import N_
from models.org import Location, School
from models.people import Person, visible_school_ids
from qr_labels.tokens import looks_like_token, new_token


class AssetKind(enum.StrEnum):
    EXTINGUISHER = "extinguisher"
    WATER_DISPENSER = "water_dispenser"
    BUS = "bus"
    DORM_ROOM = "dorm_room"
    CANTEEN = "canteen"
    METER = "meter"
    BROADCAST = "broadcast"
    SCHOOL_OFFICE = "school_office"


KIND_LABELS = {
    AssetKind.EXTINGUISHER: N_("Fire extinguisher"),
    AssetKind.WATER_DISPENSER: N_("Water dispenser"),
    AssetKind.BUS: N_("School bus"),
    AssetKind.DORM_ROOM: N_("Dormitory room"),
    AssetKind.CANTEEN: N_("Canteen"),
    AssetKind.METER: N_("Utility meter"),
    AssetKind.BROADCAST: N_("Broadcast equipment"),
    AssetKind.SCHOOL_OFFICE: N_("Logistics office"),
}

ATTRIBUTE_LABELS = {
    "agent": N_("Extinguishing agent"),
    "capacity_kg": N_("Capacity (kg)"),
    "production_date": N_("Production date"),
    "plate": N_("Licence plate"),
    "seats": N_("Seats"),
    "driver": N_("Driver"),
    "beds": N_("Beds"),
    "model": N_("Model"),
    "meter_type": N_("Meter type"),
    "meter_number": N_("Meter number"),
}


class Asset(Base):
    __tablename__ = "asset"
    __table_args__ = (UniqueConstraint("school_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"))
    kind: Mapped[AssetKind] = mapped_column(String(32), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime]
    # Retired (报废/停用): no more tasks, off the label sheet; its records stay. None: in use.
    retired_at: Mapped[datetime | None]
    retired_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")
    retired_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))

    school: Mapped[School] = relationship()
    location: Mapped[Location | None] = relationship()
    responsible: Mapped[Person | None] = relationship(foreign_keys=[responsible_id])
    retired_by: Mapped[Person | None] = relationship(foreign_keys=[retired_by_id])
    labels: Mapped[list[Label]] = relationship(
        back_populates="asset", order_by="Label.issued_at", cascade="all, delete-orphan"
    )

    @property
    def current_label(self) -> Label | None:
        """The live label on the asset itself (a bus's front one)."""
        return self.live_label(LabelPosition.FRONT)

    @property
    def rear_label(self) -> Label | None:
        """A bus's live label at the back, scanned after walking every row on arrival."""
        return self.live_label(LabelPosition.REAR)

    def live_label(self, position: str) -> Label | None:
        live = [
            label
            for label in self.labels
            if label.revoked_at is None and (label.position or LabelPosition.FRONT) == position
        ]
        return live[-1] if live else None


class LabelPosition(enum.StrEnum):
    """Where a label is stuck: every asset has one; a bus has a second at the back (车尾)."""

    FRONT = "front"
    REAR = "rear"


# The kinds whose assets carry a second label at the back.
REAR_LABELLED_KINDS = frozenset({AssetKind.BUS})


class Label(Base):
    """One printed label. Revoking it makes every printed copy stop working."""

    __tablename__ = "label"

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    position: Mapped[str] = mapped_column(String(8), default=LabelPosition.FRONT)
    issued_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    asset: Mapped[Asset] = relationship(back_populates="labels")


def create_asset(
    session: Session,
    *,
    school: School,
    kind: AssetKind,
    code: str,
    name: str,
    now: datetime,
    location: Location | None = None,
    responsible: Person | None = None,
    attributes: dict[str, Any] | None = None,
    flush: bool = True,
) -> Asset:
    """A new asset with its first label already issued (flushed later when not `flush`, as an
    import of many does at once)."""
    asset = Asset(
        school=school,
        kind=kind,
        code=code,
        name=name,
        location=location,
        responsible=responsible,
        attributes=dict(attributes or {}),
        created_at=now,
    )
    session.add(asset)
    issue_label(session, asset, now=now, flush=flush)
    if kind in REAR_LABELLED_KINDS:
        issue_label(session, asset, now=now, flush=flush, position=LabelPosition.REAR)
    return asset


def issue_label(
    session: Session,
    asset: Asset,
    *,
    now: datetime,
    flush: bool = True,
    position: str = LabelPosition.FRONT,
    actor: Person | None = None,
) -> Label:
    """Revoke the asset's live label at that position, if any, and issue a fresh one; an
    administrator's (`actor`) revocation is logged."""
    current = asset.live_label(position)
    if current is not None:
        current.revoked_at = now
        if actor is not None:
            audit(session, actor, "label.revoked", asset, {}, {"position": position}, now=now)
    label = Label(asset=asset, token=new_token(), issued_at=now, position=position)
    session.add(label)
    if flush:
        session.flush()
    return label


def revoke_label(session: Session, asset: Asset, *, now: datetime) -> Label | None:
    """Stop the asset's live label from working, without issuing a new one."""
    current = asset.current_label
    if current is not None:
        current.revoked_at = now
        session.flush()
    return current


def find_asset_by_token(session: Session, token: str) -> Asset | None:
    """The asset behind a live label; None for junk, unknown or revoked tokens alike."""
    label = find_label_by_token(session, token)
    return label.asset if label is not None else None


def find_label_by_token(session: Session, token: str) -> Label | None:
    """The live label with this token (which says where on the asset it is), or None."""
    if not looks_like_token(token):
        return None
    return session.scalar(_label_by_token(), {"token": token})


@cache
def _label_by_token() -> Any:
    """Built once: every scan asks it."""
    return (
        select(Label)
        .where(Label.token == bindparam("token", type_=String), Label.revoked_at.is_(None))
        # What every page of a scan shows: the asset, where it is, its school and district.
        .options(
            joinedload(Label.asset).joinedload(Asset.location),
            joinedload(Label.asset).joinedload(Asset.school).joinedload(School.district),
        )
    )


def visible_asset(
    session: Session,
    person: Person,
    *,
    code: str = "",
    asset_id: int | None = None,
    school_id: int | None = None,
) -> Asset | None:
    """An asset at one of the person's schools (at `school_id` only, when given: codes repeat
    across schools), by its label code (in any case) or its id; None when there is none, or
    when two schools use the code."""
    query = select(Asset).where(Asset.school_id.in_(visible_school_ids(person)))
    if school_id is not None:
        query = query.where(Asset.school_id == school_id)
    if asset_id is not None:
        query = query.where(Asset.id == asset_id)
    else:
        query = query.where(func.upper(Asset.code) == code.strip().upper())
    found = session.scalars(query.limit(2)).all()
    return found[0] if len(found) == 1 else None


def assets_in_care_of(session: Session, person: Person, limit: int = 8) -> list[Asset]:
    """The assets a person is responsible for ("my assets"), by code."""
    return list(
        session.scalars(
            select(Asset).where(Asset.responsible_id == person.id).order_by(Asset.code).limit(limit)
        )
    )


def assets_in_use(session: Session, school: School) -> list[Asset]:
    """A school's assets that are not retired, by kind and code (to choose one from)."""
    return list(
        session.scalars(
            select(Asset)
            .where(Asset.school_id == school.id, Asset.retired_at.is_(None))
            .order_by(Asset.kind, Asset.code)
        )
    )


def labelled_assets(session: Session, school: School, kind: str | None = None) -> list[Asset]:
    """A school's assets in use that have a live front label, in code order, for printing."""
    front = Asset.labels.any(
        and_(Label.revoked_at.is_(None), Label.position == LabelPosition.FRONT)
    )
    query = (
        select(Asset)
        .where(Asset.school_id == school.id, front, Asset.retired_at.is_(None))
        .order_by(Asset.kind, Asset.code)
    )
    if kind:
        query = query.where(Asset.kind == kind)
    return list(session.scalars(query))
