"""A school administrator records a training and opens an attendee's training history."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.people import Role
from models.training import add_training
from tests.conftest import Auth, csrf_token
from tests.factories import make_person, make_school


def test_a_training_is_recorded_and_shows_in_the_guards_history(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session, "S1", "实验小学")
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    guard = make_person(session, clock, school, Role.GUARD, "guard")
    guard_id = guard.id
    session.commit()
    clock.set(datetime(2026, 3, 20, 2, tzinfo=UTC))
    auth.login("admin")

    page = client.get("/training/S1").get_data(as_text=True)
    saved = client.post(
        "/training/S1",
        data={
            "csrf_token": csrf_token(page),
            "topic": "门卫岗前培训",
            "held_on": "2026-03-18",
            "trainer": "保卫科 李老师",
            "hours": "1.5",
            "attendees": [str(guard_id)],
        },
    )
    history = client.get(f"/training/S1/people/{guard_id}").get_data(as_text=True)

    assert saved.status_code == 302
    assert "2026-03-18 · 门卫岗前培训" in client.get("/training/S1").get_data(as_text=True)
    assert "门卫岗前培训" in history and "1.5 小时" in history and "门卫" in history


def test_the_people_register_links_each_person_to_their_training_history(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session, "S1", "实验小学")
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    cleaner = make_person(session, clock, school, Role.CLEANER, "cleaner")
    cleaner_id = cleaner.id
    session.commit()
    auth.login("admin")

    register = client.get("/registers/S1").get_data(as_text=True)
    history = client.get(f"/training/S1/people/{cleaner_id}").get_data(as_text=True)

    assert f'href="/training/S1/people/{cleaner_id}">培训经历</a>' in register
    assert "此人还没有培训记录。" in history and "保洁员" in history


def test_a_guard_trained_this_year_shows_as_trained_in_the_register_until_a_year_on(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session, "S1", "实验小学")
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    guard = make_person(session, clock, school, Role.GUARD, "guard")
    clock.set(datetime(2026, 3, 20, 2, tzinfo=UTC))
    add_training(
        session,
        admin,
        school,
        topic="门卫岗前培训",
        held_on="2026-03-18",
        trainer="保卫科 李老师",
        attendee_ids=[guard.id],
        today=date(2026, 3, 20),
        now=clock.now(),
    )
    session.commit()
    auth.login("admin")

    register = client.get("/registers/S1").get_data(as_text=True)

    assert "已培训（2026-03-18 培训：门卫岗前培训）" in register
    assert "有效期至 2027-03-18" in register
    assert "无有效培训合格证" not in register
