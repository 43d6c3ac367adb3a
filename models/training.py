"""Training sessions (points 6 and 9): who was trained, on what, when and by whom, so a school
shows that its dorm managers, guards, cleaners and canteen staff were trained before they
started work, and each person's training history is one list."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import Column, Float, ForeignKey, String, Table, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base
from models.messages import N_, Message, SubmissionInvalid
from models.org import School
from models.people import Person
from models.staff import STAFF_ROLES, people_at_school
from models.suppliers import RegisterRefused

# A training attended counts as the training certificate a guard, cleaner or dorm manager needs
# (models/documents.py REQUIRED_CERTIFICATES) for a year after the day it was held.
TRAINING_VALID_FOR_YEARS = 1

training_attendee = Table(
    "training_attendee",
    Base.metadata,
    Column("training_id", ForeignKey("training_session.id"), primary_key=True),
    Column("person_id", ForeignKey("person.id"), primary_key=True, index=True),
)


class TrainingSession(Base):
    """One training: its topic, day, trainer and the people who attended."""

    __tablename__ = "training_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    topic: Mapped[str] = mapped_column(String(200))
    held_on: Mapped[date]
    trainer: Mapped[str] = mapped_column(String(100))
    hours: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))

    school: Mapped[School] = relationship()
    attendees: Mapped[list[Person]] = relationship(
        secondary=training_attendee, order_by="Person.display_name", lazy="selectin"
    )

    @property
    def counts_until(self) -> date:
        """The last day this training counts as its attendees' training certificate."""
        return trained_until(self.held_on)


def trainable_people(session: Session, school: School) -> list[Person]:
    """Whom a school's training can list: its staff, by name."""
    return people_at_school(session, school, STAFF_ROLES)


def add_training(
    session: Session,
    actor: Person,
    school: School,
    *,
    topic: str,
    held_on: str | date,
    trainer: str,
    attendee_ids: list[int],
    hours: str = "",
    today: date,
    now: datetime,
) -> TrainingSession:
    """A training held (today or before), its attendees chosen from the school's staff."""
    if not actor.can_manage_school(school):
        raise RegisterRefused(Message(N_("Only the school's administrators can do this.")))
    errors: dict[str, Message] = {}
    topic, trainer = topic.strip(), trainer.strip()
    if not topic or len(topic) > 200:
        errors["topic"] = Message(N_("Enter the topic, at most 200 characters."))
    if not trainer or len(trainer) > 100:
        errors["trainer"] = Message(N_("Enter who gave the training, at most 100 characters."))
    try:
        day = held_on if isinstance(held_on, date) else date.fromisoformat(held_on.strip())
    except ValueError:
        day = None
    if day is None or day > today:
        errors["held_on"] = Message(N_("Enter the day it was held, today or earlier."))
    length: float | None = None
    if hours.strip():
        try:
            length = float(hours)
        except ValueError:
            length = -1
        if not 0 < length <= 24:
            errors["hours"] = Message(N_("Enter the hours, more than 0 and at most 24."))
    staff = {p.id: p for p in trainable_people(session, school)}
    chosen = [staff[i] for i in dict.fromkeys(attendee_ids) if i in staff]
    if not chosen or len(chosen) != len(set(attendee_ids)):
        errors["attendees"] = Message(N_("Choose the attendees from the school's staff."))
    if errors:
        raise SubmissionInvalid(errors)
    assert day is not None
    training = TrainingSession(
        school_id=school.id,
        topic=topic,
        held_on=day,
        trainer=trainer,
        hours=length,
        created_at=now,
        created_by_id=actor.id,
        attendees=chosen,
    )
    session.add(training)
    session.flush()
    return training


def school_trainings(session: Session, school: School) -> list[TrainingSession]:
    """The school's trainings, the latest first."""
    return list(
        session.scalars(
            select(TrainingSession)
            .where(TrainingSession.school_id == school.id)
            .order_by(TrainingSession.held_on.desc(), TrainingSession.id.desc())
        )
    )


def training_history(session: Session, person: Person) -> list[TrainingSession]:
    """Every training the person attended, at any school, the latest first."""
    return list(
        session.scalars(
            select(TrainingSession)
            .join(training_attendee, training_attendee.c.training_id == TrainingSession.id)
            .where(training_attendee.c.person_id == person.id)
            .order_by(TrainingSession.held_on.desc(), TrainingSession.id.desc())
        )
    )


def trained_until(held_on: date) -> date:
    """The last day a training held on that day counts: the same day a year on (28 February
    for a training on 29 February)."""
    year = held_on.year + TRAINING_VALID_FOR_YEARS
    try:
        return held_on.replace(year=year)
    except ValueError:
        return held_on.replace(year=year, day=28)


def trainings_in_force(
    session: Session, person_ids: Iterable[int], today: date
) -> dict[int, TrainingSession]:
    """Each of these people's latest training, at any school, that still counts today (held
    today or in the year before): what the registers show for it."""
    ids = list(set(person_ids))
    if not ids:
        return {}
    latest: dict[int, TrainingSession] = {}
    for person_id, training in session.execute(
        select(training_attendee.c.person_id, TrainingSession)
        .join(TrainingSession, TrainingSession.id == training_attendee.c.training_id)
        .where(
            training_attendee.c.person_id.in_(ids),
            TrainingSession.held_on <= today,
            TrainingSession.held_on >= today - timedelta(days=366 * TRAINING_VALID_FOR_YEARS),
        )
        .order_by(TrainingSession.held_on.desc(), TrainingSession.id.desc())
    ):
        if person_id not in latest and trained_until(training.held_on) >= today:
            latest[person_id] = training
    return latest
