"""The demo district as a person walking through it finds it: a history that has happened."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from houqin.demo import seed_demo
from models.actions import ActionEvent
from models.assets import Asset
from models.duties import Duty, Task
from models.food_safety import ReportKind, build_report
from models.org import School
from models.records import Record
from settings import Settings

# 08:30 in Shanghai: early enough that a history filed "this morning" from 09:00 on would lie
# in the future.
NOW = datetime(2026, 12, 2, 0, 30, tzinfo=UTC)


def test_the_demo_has_no_record_completion_or_action_step_after_now(
    session: Session, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the label sheet goes to ./var/

    seed_demo(session, settings, now=NOW)

    assert session.scalar(select(func.count()).select_from(Record)) > 20
    assert session.scalar(select(func.max(Record.submitted_at))) < NOW
    assert session.scalar(select(func.count()).where(Task.done_at.is_not(None))) > 0
    assert session.scalar(select(func.max(Task.done_at))) < NOW
    assert session.scalar(select(func.count()).select_from(ActionEvent)) > 0
    assert session.scalar(select(func.max(ActionEvent.at))) < NOW


def test_the_demo_fire_record_holds_the_fortnights_patrols_and_the_problem_found(
    session: Session, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    seed_demo(session, settings, now=NOW)
    school = session.scalars(select(School).where(School.code == "SY01")).one()

    record = build_report(session, school, ReportKind.FIRE, date(2026, 11, 1), now=NOW)

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
    session: Session, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from models.documents import Document, DocumentKind
    from models.trips import Trip, TripStatus

    monkeypatch.chdir(tmp_path)
    seed_demo(session, settings, now=NOW)

    reviews = {
        d.person.display_name: d.expires_on
        for d in session.scalars(
            select(Document).where(Document.kind == DocumentKind.DRIVER_REVIEW)
        )
    }
    assert reviews["校车司机 吴师傅"] == date(2026, 12, 2) + timedelta(days=7)
    assert reviews["校车司机 冯师傅"] > date(2027, 6, 1)
    kinds = set(session.scalars(select(Document.kind).where(Document.asset_id.is_not(None))))
    assert {DocumentKind.BUS_INSPECTION, DocumentKind.BUS_MAINTENANCE} <= kinds
    # The history's arrivals were completed at the rear label.
    arrived = session.scalars(select(Trip).where(Trip.status == TripStatus.ARRIVED)).all()
    assert arrived and all(t.rear_checked_by is not None for t in arrived)
    assert (tmp_path / "var" / "labels-SY01.pdf").exists()


def test_the_demo_has_one_driver_whose_review_runs_out_next_week_and_one_in_order(
    session: Session, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from models.bus_papers import driver_of_the_day, message_in, papers_refusal

    monkeypatch.chdir(tmp_path)
    seed_demo(session, settings, now=NOW)
    school = session.scalars(select(School).where(School.code == "SY01")).one()
    first, second = session.scalars(
        select(Asset).where(Asset.school_id == school.id, Asset.kind == "bus").order_by(Asset.code)
    ).all()

    assert driver_of_the_day(session, second, None).display_name == "校车司机 冯师傅"
    for bus in (first, second):
        assert papers_refusal(session, bus, driver_of_the_day(session, bus, None), NOW) is None
    next_month = NOW + timedelta(days=30)
    driver = driver_of_the_day(session, first, None)
    refusal = papers_refusal(session, first, driver, next_month)
    assert refusal is not None and "校车司机 吴师傅的驾驶证审验" in message_in("zh_CN", refusal)
    assert (
        papers_refusal(session, second, driver_of_the_day(session, second, None), next_month)
        is None
    )


def test_the_demo_schedules_drills_and_has_one_retired_extinguisher_with_its_history(
    session: Session, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    seed_demo(session, settings, now=NOW)

    drills = session.scalars(select(Duty).where(Duty.template_key == "fire_drill")).all()
    assert sorted(d.recurrence.frequency for d in drills) == ["quarterly", "yearly"]
    retired = session.scalars(select(Asset).where(Asset.retired_at.is_not(None))).one()
    assert retired.code == "MHQ-008" and retired.retired_reason
    current = select(func.count()).where(Task.asset_id == retired.id, Task.current)
    assert session.scalar(current) == 0


def test_the_demo_boarding_school_patrols_at_night_and_has_extinguishers_coming_due(
    session: Session, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from models.extinguishers import LifeStatus, extinguisher_register

    monkeypatch.chdir(tmp_path)
    seed_demo(session, settings, now=NOW)
    day_school, boarding = session.scalars(select(School).order_by(School.code)).all()

    assert boarding.code == "ZX02" and boarding.boarding and not day_school.boarding
    record = build_report(session, boarding, ReportKind.FIRE, date(2026, 11, 1), now=NOW)
    nights = [
        c
        for d in record.days
        for c in d.checks
        if c.template_key == "fire_night_patrol" and c.record_id
    ]
    assert len(nights) >= 6 and all(c.by == "宿管 何老师" and c.at == "21:40" for c in nights)
    tasks = session.scalars(
        select(Task).where(Task.template_key == "fire_night_patrol", Task.current)
    ).all()
    assert {t.school_id for t in tasks} == {boarding.id}
    statuses = [line.status for line in extinguisher_register(session, boarding, date(2026, 12, 2))]
    assert statuses[:3] == [LifeStatus.SERVICE_DUE, LifeStatus.SCRAP_SOON, LifeStatus.SERVICE_SOON]
