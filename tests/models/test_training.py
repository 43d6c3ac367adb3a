"""Training sessions with attendees chosen from the school's staff, and each person's history."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.documents import (
    CertificateShare,
    DocumentKind,
    certificate_shares,
    people_register,
    valid_certificate_share,
)
from models.messages import SubmissionInvalid
from models.people import Role
from models.training import add_training, school_trainings, trained_until, training_history
from tests.factories import make_person, make_school

TODAY = date(2026, 3, 2)


def test_each_person_sees_the_trainings_they_attended_latest_first(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    guard = make_person(session, clock, school, Role.GUARD, "guard")
    cleaner = make_person(session, clock, school, Role.CLEANER, "cleaner")
    fire = add_training(
        session,
        admin,
        school,
        topic="消防安全“四个能力”培训",
        held_on="2026-02-20",
        trainer="区消防大队 王教官",
        hours="2",
        attendee_ids=[guard.id, cleaner.id],
        today=TODAY,
        now=clock.now(),
    )
    gate = add_training(
        session,
        admin,
        school,
        topic="门卫岗前培训：来访登记与防冲撞",
        held_on=TODAY,
        trainer="保卫科 李老师",
        attendee_ids=[guard.id],
        today=TODAY,
        now=clock.now(),
    )

    assert training_history(session, guard) == [gate, fire]
    assert training_history(session, cleaner) == [fire]
    assert training_history(session, admin) == []
    assert school_trainings(session, school) == [gate, fire]
    assert fire.hours == 2 and gate.hours is None


def test_attendees_must_be_the_schools_staff_and_the_day_not_in_the_future(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    other = make_school(session, "S2", "第二小学", district=school.district)
    stranger = make_person(session, clock, other, Role.CLEANER, "stranger")

    with pytest.raises(SubmissionInvalid) as refused:
        add_training(
            session,
            admin,
            school,
            topic="",
            held_on="2026-03-03",
            trainer="李老师",
            attendee_ids=[stranger.id],
            today=TODAY,
            now=clock.now(),
        )

    assert set(refused.value.errors) == {"topic", "held_on", "attendees"}
    assert school_trainings(session, school) == []


def test_a_training_in_the_last_year_counts_as_the_training_certificate_the_roles_need(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    guard = make_person(session, clock, school, Role.GUARD, "guard")
    cleaner = make_person(session, clock, school, Role.CLEANER, "cleaner")
    make_person(session, clock, school, Role.DORM_STAFF, "dorm")
    for day, people in (("2025-03-02", [guard.id]), ("2025-03-01", [cleaner.id])):
        add_training(
            session,
            admin,
            school,
            topic="岗前培训",
            held_on=day,
            trainer="保卫科 李老师",
            attendee_ids=people,
            today=TODAY,
            now=clock.now(),
        )

    register = {e.person.username: e for e in people_register(session, school, TODAY)}

    # Held a year ago today: it still counts, through today; a day earlier it has run out.
    assert register["guard"].missing == []
    assert register["guard"].training is not None
    assert register["guard"].training.counts_until == TODAY
    assert register["cleaner"].missing == [DocumentKind.TRAINING_CERTIFICATE]
    assert register["cleaner"].training is None
    assert register["dorm"].missing == [DocumentKind.TRAINING_CERTIFICATE]
    shares = certificate_shares(session, school.id, TODAY)
    assert CertificateShare(Role.GUARD, DocumentKind.TRAINING_CERTIFICATE, 1, 1) in shares
    assert CertificateShare(Role.CLEANER, DocumentKind.TRAINING_CERTIFICATE, 0, 1) in shares
    assert valid_certificate_share(
        session, school.id, DocumentKind.TRAINING_CERTIFICATE, Role.GUARD, TODAY
    ) == ([guard], [guard])
    # The next day the guard's training has run out too.
    tomorrow = {e.person.username: e for e in people_register(session, school, date(2026, 3, 3))}
    assert tomorrow["guard"].missing == [DocumentKind.TRAINING_CERTIFICATE]


def test_a_training_on_29_february_counts_until_28_february_a_year_on() -> None:
    assert trained_until(date(2028, 2, 29)) == date(2029, 2, 28)
