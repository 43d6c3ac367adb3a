"""The demo district as a person walking through it finds it: a history that has happened."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.actions import ActionEvent
from models.assets import Asset
from models.duties import Duty, Task
from models.food_safety import ReportKind, build_report
from models.org import School
from models.records import Record
from tests.houqin.conftest import DEMO_NOW as NOW
from tests.houqin.conftest import SeededDemo


def test_the_demo_has_no_record_completion_or_action_step_after_now(demo: Session) -> None:

    assert demo.scalar(select(func.count()).select_from(Record)) > 20
    assert demo.scalar(select(func.max(Record.submitted_at))) < NOW
    assert demo.scalar(select(func.count()).where(Task.done_at.is_not(None))) > 0
    assert demo.scalar(select(func.max(Task.done_at))) < NOW
    assert demo.scalar(select(func.count()).select_from(ActionEvent)) > 0
    assert demo.scalar(select(func.max(ActionEvent.at))) < NOW


def test_the_demo_fire_record_holds_the_fortnights_patrols_and_the_problem_found(
    demo: Session,
) -> None:
    school = demo.scalars(select(School).where(School.code == "SY01")).one()

    record = build_report(demo, school, ReportKind.FIRE, date(2026, 11, 1), now=NOW)

    patrols = {
        d.day: c
        for d in record.days
        for c in d.checks
        if c.template_key == "fire_patrol" and c.record_id
    }
    assert len(patrols) >= 6
    assert all(c.by == "安全员 孙老师" and c.at == "16:30" for c in patrols.values())
    ids = {c.record_id for c in patrols.values()}
    found = [p.what["zh_CN"] for p in record.problems if p.record_id in ids]
    assert found == ["用火、用电有违章情况"]
    assert "2026-11-25" not in patrols  # the day the patrol was forgotten
    assert len(patrols) == 8  # 18 to 30 November, Monday to Friday, but that one


def test_the_demo_bus_has_its_papers_and_its_drivers_review_expires_next_week(
    demo: Session, seeded_demo: SeededDemo
) -> None:
    from datetime import timedelta

    from models.documents import Document, DocumentKind
    from models.trips import Trip, TripStatus

    reviews = {
        d.person.display_name: d.expires_on
        for d in demo.scalars(select(Document).where(Document.kind == DocumentKind.DRIVER_REVIEW))
    }
    assert reviews["校车司机 吴师傅"] == date(2026, 12, 2) + timedelta(days=7)
    assert reviews["校车司机 冯师傅"] > date(2027, 6, 1)
    kinds = set(demo.scalars(select(Document.kind).where(Document.asset_id.is_not(None))))
    assert {DocumentKind.BUS_INSPECTION, DocumentKind.BUS_MAINTENANCE} <= kinds
    # The history's arrivals were completed at the rear label.
    arrived = demo.scalars(select(Trip).where(Trip.status == TripStatus.ARRIVED)).all()
    assert arrived and all(t.rear_checked_by is not None for t in arrived)
    assert (seeded_demo.root / "var" / "labels-SY01.pdf").exists()


def test_the_demo_has_one_driver_whose_review_runs_out_next_week_and_one_in_order(
    demo: Session,
) -> None:
    from datetime import timedelta

    from models.bus_papers import driver_of_the_day, message_in, papers_refusal

    school = demo.scalars(select(School).where(School.code == "SY01")).one()
    first, second = demo.scalars(
        select(Asset).where(Asset.school_id == school.id, Asset.kind == "bus").order_by(Asset.code)
    ).all()

    assert driver_of_the_day(demo, second, None).display_name == "校车司机 冯师傅"
    for bus in (first, second):
        assert papers_refusal(demo, bus, driver_of_the_day(demo, bus, None), NOW) is None
    next_month = NOW + timedelta(days=30)
    driver = driver_of_the_day(demo, first, None)
    refusal = papers_refusal(demo, first, driver, next_month)
    assert refusal is not None and "校车司机 吴师傅的驾驶证审验" in message_in("zh_CN", refusal)
    assert papers_refusal(demo, second, driver_of_the_day(demo, second, None), next_month) is None


def test_the_demo_schedules_drills_and_has_one_retired_extinguisher_with_its_history(
    demo: Session,
) -> None:

    drills = demo.scalars(select(Duty).where(Duty.template_key == "fire_drill")).all()
    assert sorted(d.recurrence.frequency for d in drills) == ["quarterly", "yearly"]
    retired = demo.scalars(select(Asset).where(Asset.retired_at.is_not(None))).one()
    assert retired.code == "MHQ-008" and retired.retired_reason
    current = select(func.count()).where(Task.asset_id == retired.id, Task.current)
    assert demo.scalar(current) == 0


def test_the_demo_boarding_school_patrols_at_night_and_has_extinguishers_coming_due(
    demo: Session,
) -> None:
    from models.extinguishers import LifeStatus, extinguisher_register

    day_school, boarding = demo.scalars(select(School).order_by(School.code)).all()

    assert boarding.code == "ZX02" and boarding.boarding and not day_school.boarding
    record = build_report(demo, boarding, ReportKind.FIRE, date(2026, 11, 1), now=NOW)
    nights = [
        c
        for d in record.days
        for c in d.checks
        if c.template_key == "fire_night_patrol" and c.record_id
    ]
    assert len(nights) >= 6 and all(c.by == "宿管 何老师" and c.at == "21:40" for c in nights)
    tasks = demo.scalars(
        select(Task).where(Task.template_key == "fire_night_patrol", Task.current)
    ).all()
    assert {t.school_id for t in tasks} == {boarding.id}
    statuses = [line.status for line in extinguisher_register(demo, boarding, date(2026, 12, 2))]
    assert statuses[:3] == [LifeStatus.SERVICE_DUE, LifeStatus.SCRAP_SOON, LifeStatus.SERVICE_SOON]
