"""The scheduler's jobs do their work in a transaction of their own, and only once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from houqin.config import Settings
from models.assets import AssetKind
from models.clock import SettableClock
from models.notifications import Notification
from models.people import Role
from models.photos import PhotoStore
from models.records import Channel, submit_record
from models.templates import latest_template
from scheduler import build_scheduler, check_trips
from tests.factories import make_asset, make_person, make_school


def test_the_trip_check_alarms_for_a_bus_that_never_arrived_once(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    store: PhotoStore,
) -> None:
    school = make_school(session)
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车", seats=19)
    submit_record(
        session,
        actor=teacher,
        asset=bus,
        template=latest_template(session, "bus_departure"),
        answers={"teacher_on_board": "yes", "children_boarded": "9", "seatbelts_on": "yes"},
        uploads=[],
        key="dep-00001",
        channel=Channel.WEB,
        clock=clock,
        store=store,
    )
    session.commit()

    clock.advance(timedelta(hours=3))
    assert check_trips(session_factory, clock, timedelta(minutes=120)) == 1
    assert check_trips(session_factory, clock, timedelta(minutes=120)) == 0

    session.rollback()
    assert session.scalar(select(func.count()).select_from(Notification)) == 2


def test_the_scheduler_runs_the_trip_check_every_minute(
    session_factory: sessionmaker[Session],
) -> None:
    scheduler = build_scheduler(Settings(), session_factory)

    [job] = scheduler.get_jobs()

    assert job.id == "check_trips"
    assert job.trigger.interval == timedelta(minutes=1)
