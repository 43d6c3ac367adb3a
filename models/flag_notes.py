"""A flag explained (已说明): an administrator's note on a flagged record, kept with who wrote
it and when. The flags still show, each record's with its note, so an inspector reads both."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.audit import audit
from models.base import Base
from models.fields import clean_text
from models.messages import N_, DomainError, Message, SubmissionInvalid
from models.people import Person
from models.records import Record

NOTE_MAX = 500


class FlagNote(Base):
    __tablename__ = "flag_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    # One note per record, covering every flag it has; written again, it is replaced.
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), unique=True)
    note: Mapped[str] = mapped_column(String(NOTE_MAX))
    by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    at: Mapped[datetime]

    by: Mapped[Person] = relationship(lazy="joined")


class NotYourSchool(DomainError):
    pass


def can_explain(person: Person, record: Record) -> bool:
    """The record's school's administrators, and the district's, explain its flags."""
    return person.can_manage_school(record.asset.school)


def explain_flags(
    session: Session, actor: Person, record: Record, note: str, *, now: datetime
) -> FlagNote:
    """Mark a record's flags as explained with a note; who and when are kept beside it."""
    if not can_explain(actor, record):
        raise NotYourSchool(Message(N_("Only the school's administrators can explain a flag.")))
    errors: dict[str, Message] = {}
    note = clean_text(note, "note", NOTE_MAX, errors)
    if errors:
        raise SubmissionInvalid(errors)
    kept = session.scalar(select(FlagNote).where(FlagNote.record_id == record.id))
    before = {"note": kept.note} if kept is not None else {}
    audit(
        session,
        actor,
        "flags.explained",
        record,
        before,
        {"note": note},
        now=now,
        label=record.asset.name,
    )
    if kept is None:
        kept = FlagNote(record_id=record.id, note=note, by=actor, at=now)
        session.add(kept)
    else:
        kept.note, kept.by, kept.at = note, actor, now
    session.flush()
    return kept


def notes_for(session: Session, record_ids: list[int]) -> dict[int, FlagNote]:
    """The note on each of these records that has one, by record id."""
    found: dict[int, FlagNote] = {}
    for chunk in range(0, len(record_ids), 900):
        for kept in session.scalars(
            select(FlagNote).where(FlagNote.record_id.in_(record_ids[chunk : chunk + 900]))
        ):
            found[kept.record_id] = kept
    return found
