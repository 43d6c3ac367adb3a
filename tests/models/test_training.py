"""Training sessions with attendees chosen from the school's staff, and each person's history."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.messages import SubmissionInvalid
from models.people import Role
from models.training import add_training, school_trainings, training_history
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
