"""The district, its schools and the places inside them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ForeignKey, String, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base
from models.catalogue import DEFAULT_LOCALE

# The time zone of a district that names none (settings choose it for new ones), and of a
# person with no role anywhere yet.
DEFAULT_TIMEZONE = "Asia/Shanghai"


class District(Base):
    __tablename__ = "district"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    # The language of its people who chose none, as its time zone is the time they read.
    locale: Mapped[str] = mapped_column(String(10), default=DEFAULT_LOCALE)

    schools: Mapped[list[School]] = relationship(back_populates="district", order_by="School.code")

    @property
    def zone(self) -> ZoneInfo:
        """The district's time zone: every date and time its people read is in it."""
        return ZoneInfo(self.timezone)

    def local(self, moment: datetime) -> datetime:
        """A moment in the district's own time, as every text a person reads shows it."""
        return moment.astimezone(self.zone)


class School(Base):
    __tablename__ = "school"

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Pupils sleep at school (寄宿制学校): its fire patrol goes on at night too.
    boarding: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Its stage (学段, models/stages.py SchoolStage): the grades its orders offer. None: not set.
    stage: Mapped[str | None] = mapped_column(String(24))
    # Where it stands (WGS 84, as phones report) and how far around it a record may be filed
    # without being flagged (models/positions.py). None: not set, nothing is flagged.
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    radius_m: Mapped[int] = mapped_column(default=300, server_default=text("300"))

    district: Mapped[District] = relationship(back_populates="schools")


class Location(Base):
    __tablename__ = "location"
    __table_args__ = (UniqueConstraint("school_id", "building", "floor", "room"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    building: Mapped[str] = mapped_column(String(100))
    floor: Mapped[str] = mapped_column(String(20), default="")
    room: Mapped[str] = mapped_column(String(100), default="")

    school: Mapped[School] = relationship()

    @property
    def label(self) -> str:
        return " ".join(part for part in (self.building, self.floor, self.room) if part)
