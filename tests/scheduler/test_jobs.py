"""The scheduler's jobs do their work in a transaction of their own, and only once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models.assets import AssetKind
from models.checklists import base_template
from models.clock import SettableClock
from models.duties import Task
from models.notifications import Notification
from models.people import Role
from models.photos import PhotoStore
from models.records import Channel, submit_record
from scheduler import build_scheduler, check_trips, run_sweep, sweep_policy
from settings import Settings
from tests.factories import file_pre_trip_check, make_asset, make_person, make_school


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
    file_pre_trip_check(session, clock, store, bus, teacher)
    submit_record(
        session,
        actor=teacher,
        asset=bus,
        template=base_template(session, "bus_departure"),
        answers={"teacher_on_board": "yes", "children_boarded": "9", "seatbelts_on": "yes"},
        uploads=[],
        key="dep-00001",
        channel=Channel.WEB,
        clock=clock,
        store=store,
    )
    session.commit()

    # Not in the minute it left, nor until its arrival window has passed.
    assert check_trips(session_factory, clock, timedelta(minutes=120)) == 0
    clock.advance(timedelta(minutes=120))
    assert check_trips(session_factory, clock, timedelta(minutes=120)) == 0
    clock.advance(timedelta(minutes=60))
    assert check_trips(session_factory, clock, timedelta(minutes=120)) == 1
    assert check_trips(session_factory, clock, timedelta(minutes=120)) == 0

    session.rollback()
    assert session.scalar(select(func.count()).select_from(Notification)) == 2


def test_the_trip_check_alarms_for_an_arrival_nobody_walked_to_the_back_of(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    store: PhotoStore,
) -> None:
    school = make_school(session)
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车", seats=19)
    file_pre_trip_check(session, clock, store, bus, teacher)
    for key, answers in (
        ("dep-00001", {"teacher_on_board": "yes", "children_boarded": "9", "seatbelts_on": "yes"}),
        ("arr-00001", {"children_got_off": "9", "bus_checked_empty": "yes"}),
    ):
        template = "bus_departure" if key.startswith("dep") else "bus_arrival"
        submit_record(
            session,
            actor=teacher,
            asset=bus,
            template=base_template(session, template),
            answers=answers,
            uploads=[],
            key=key,
            channel=Channel.WEB,
            clock=clock,
            store=store,
        )
        clock.advance(timedelta(minutes=30))
    session.commit()

    clock.advance(timedelta(minutes=61))
    assert check_trips(session_factory, clock, timedelta(minutes=120)) == 1

    session.rollback()
    messages = session.scalars(select(Notification.message)).all()
    assert len(messages) == 2
    assert all("nobody scanned the label at the back of the bus" in m for m in messages)


def test_the_scheduler_runs_the_trip_check_and_the_sweep_every_minute(
    session_factory: sessionmaker[Session],
) -> None:
    settings = Settings()
    settings.schedules.sweep_every_seconds = 30
    scheduler = build_scheduler(settings, session_factory)

    jobs = {job.id: job for job in scheduler.get_jobs()}

    assert jobs["check_trips"].trigger.interval == timedelta(minutes=1)
    assert jobs["sweep"].trigger.interval == timedelta(seconds=30)


def test_the_sweep_job_commits_what_it_queued_and_a_second_run_adds_nothing(
    session: Session, session_factory: sessionmaker[Session], clock: SettableClock
) -> None:
    school = make_school(session)
    staff = make_person(session, clock, school, Role.INSPECTOR, "staff")
    make_asset(session, clock, school, responsible=staff)
    session.commit()
    settings = Settings()
    # The monthly check is due on 25 March at 17:00; remind from ten minutes ago.
    settings.schedules.remind_before_minutes = (23 * 24 + 8) * 60 + 30 + 10

    first = run_sweep(session_factory, clock, sweep_policy(settings))
    second = run_sweep(session_factory, clock, sweep_policy(settings))

    assert first.started == 2 and [n.recipient_id for n in first.queued] == [staff.id]
    assert second.started == 0 and second.queued == []
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Task)) == 2
