"""The 护学岗 traffic post falls due at arrival and at dismissal on school days, and the
surroundings patrol every Friday; an unstaffed post fails as critical."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.assets import AssetKind
from models.clock import SettableClock
from models.duties import Task
from models.people import Role
from models.photos import PhotoStore
from models.records import Channel, submit_record
from models.sweep import sweep
from tests.factories import cst, make_asset, make_person, make_school, template_for

POSTS = ("traffic_post_arrival", "traffic_post_dismissal")


def _due(session: Session, key: str) -> datetime | None:
    return session.scalar(select(Task.due_at).where(Task.template_key == key, Task.current))


def test_the_gate_post_is_due_at_arrival_and_dismissal_on_school_days_only(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_asset(session, clock, school, AssetKind.SCHOOL_OFFICE, "HQ-01", "后勤办公室")

    sweep(session, now=cst(2, 6))  # Monday 2 March, 06:00

    assert _due(session, "traffic_post_arrival") == cst(2, 8, 30)
    assert _due(session, "traffic_post_dismissal") == cst(2, 17, 30)
    assert _due(session, "surroundings_patrol") == cst(6, 17)  # Friday
    sweep(session, now=cst(7, 10))  # Saturday: no post at the weekend, the next is Monday's
    assert _due(session, "traffic_post_arrival") == cst(9, 8, 30)


def test_an_unstaffed_post_with_children_crossing_unguided_fails_as_critical(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    guard = make_person(session, clock, school, Role.GUARD, "guard")
    office = make_asset(session, clock, school, AssetKind.SCHOOL_OFFICE, "HQ-01", "后勤办公室")
    clock.set(datetime(2026, 3, 2, 0, 20, tzinfo=UTC))

    record = submit_record(
        session,
        actor=guard,
        asset=office,
        template=template_for(session, "traffic_post_arrival"),
        answers={
            "post_staffed": "no",
            "on_duty": "门卫 张师傅",
            "vests_and_signs": "pass",
            "traffic_in_order": "fail",
            "children_crossed_safely": "fail",
            "incident": "no",
        },
        uploads=[],
        key="gate-post-0001",
        channel=Channel.WEB,
        clock=clock,
        store=store,
    ).record

    assert record.failed_items == ["post_staffed", "traffic_in_order", "children_crossed_safely"]
    assert record.template.spec.severity_of(record.failed_items) == "critical"


def test_graduation_photos_fall_due_on_the_districts_date_and_a_record_marks_them_done(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    office = make_asset(session, clock, school, AssetKind.SCHOOL_OFFICE, "HQ-01", "后勤办公室")
    sweep(session, now=cst(2, 6))
    assert _due(session, "student_photo") == cst(10, 17, month=6)

    clock.set(cst(8, 10, month=6))
    submit_record(
        session,
        actor=teacher,
        asset=office,
        template=template_for(session, "student_photo"),
        answers={
            "event": "graduation",
            "grades": "六年级全部 4 个班",
            "taken_on": "2026-06-08",
            "photographer": "光影照相馆",
            "students": "162",
            "voluntary": "yes",
        },
        uploads=[],
        key="photo-day-0001",
        channel=Channel.WEB,
        clock=clock,
        store=store,
    )

    task = session.scalar(select(Task).where(Task.template_key == "student_photo"))
    assert task is not None and task.state == "done"
