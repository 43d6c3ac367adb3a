"""Retiring an asset: its open task closes as retired (not missed), no new ones start, it
leaves the label sheet, nothing more is filed for it; its history stays; it can come back."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.assets import Asset, labelled_assets
from models.clock import SettableClock
from models.duties import Task, TaskState, TaskStatus
from models.food_safety import ReportKind, build_report
from models.messages import DomainError, SubmissionInvalid
from models.org import School
from models.people import Person, Role
from models.photos import PhotoStore
from models.records import Channel, Upload, submit_record
from models.retirement import RetirementRefused, reactivate_asset, retire_asset
from models.sweep import sweep
from models.task_lists import due_now
from tests.factories import (
    EXTINGUISHER_OK,
    distinct_jpeg,
    make_asset,
    make_person,
    make_school,
    template_for,
)


@pytest.fixture
def school(session: Session) -> School:
    return make_school(session)


@pytest.fixture
def admin(session: Session, clock: SettableClock, school: School) -> Person:
    return make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")


@pytest.fixture
def extinguisher(session: Session, clock: SettableClock, school: School, admin: Person) -> Asset:
    asset = make_asset(session, clock, school, responsible=admin)
    sweep(session, now=clock.now())
    session.flush()
    return asset


def _tasks(session: Session, asset: Asset) -> list[Task]:
    return list(session.scalars(select(Task).where(Task.asset_id == asset.id).order_by(Task.id)))


def _file(session: Session, clock: SettableClock, store: PhotoStore, who: Person, asset: Asset):  # type: ignore[no-untyped-def]
    return submit_record(
        session,
        actor=who,
        asset=asset,
        template=template_for(session, "extinguisher_monthly"),
        answers=EXTINGUISHER_OK,
        uploads=[Upload("photo", distinct_jpeg(str(clock.now())))],
        key=f"k-{clock.now().isoformat()}",
        channel=Channel.WEB,
        clock=clock,
        store=store,
    )


def test_a_retired_extinguishers_task_closes_as_retired_and_no_new_one_starts(
    session: Session, clock: SettableClock, school: School, admin: Person, extinguisher: Asset
) -> None:
    assert {t.state for t in _tasks(session, extinguisher)} == {TaskState.OPEN}

    retire_asset(session, admin, extinguisher, reason="过期报废", now=clock.now())
    clock.advance(timedelta(days=40))
    sweep(session, now=clock.now())
    session.flush()

    tasks = _tasks(session, extinguisher)
    assert len(tasks) == 2  # the monthly check and the annual maintenance, no new ones
    assert {(t.state, t.current) for t in tasks} == {(TaskState.RETIRED, False)}
    assert tasks[0].status(clock.now()) == TaskStatus.RETIRED
    assert due_now(session, admin, now=clock.now()).items == []
    assert labelled_assets(session, school) == []
    assert (extinguisher.retired_reason, extinguisher.retired_by) == ("过期报废", admin)


def test_nothing_more_is_filed_for_a_retired_asset_but_its_records_stay(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    admin: Person,
    extinguisher: Asset,
) -> None:
    filed = _file(session, clock, store, admin, extinguisher)
    retire_asset(session, admin, extinguisher, reason="损坏", now=clock.now())
    clock.advance(timedelta(minutes=5))

    with pytest.raises(DomainError, match="retired"):
        _file(session, clock, store, admin, extinguisher)
    assert session.get(type(filed.record), filed.record.id) is not None


def test_only_administrators_retire_and_a_reason_is_needed(
    session: Session, clock: SettableClock, school: School, admin: Person, extinguisher: Asset
) -> None:
    staff = make_person(session, clock, school, Role.INSPECTOR, "staff")
    with pytest.raises(RetirementRefused):
        retire_asset(session, staff, extinguisher, reason="坏了", now=clock.now())
    with pytest.raises(SubmissionInvalid) as invalid:
        retire_asset(session, admin, extinguisher, reason="  ", now=clock.now())
    assert set(invalid.value.errors) == {"reason"}
    assert extinguisher.retired_at is None


def test_a_reactivated_asset_gets_its_task_again_at_the_next_sweep(
    session: Session, clock: SettableClock, school: School, admin: Person, extinguisher: Asset
) -> None:
    retire_asset(session, admin, extinguisher, reason="送修", now=clock.now())
    clock.advance(timedelta(days=1))

    reactivate_asset(session, admin, extinguisher, now=clock.now())
    sweep(session, now=clock.now())
    session.flush()

    current = [t for t in _tasks(session, extinguisher) if t.current]
    assert [t.state for t in current] == [TaskState.OPEN, TaskState.OPEN]
    assert labelled_assets(session, school) == [extinguisher]
    with pytest.raises(RetirementRefused):
        reactivate_asset(session, admin, extinguisher, now=clock.now())


def test_the_fire_report_does_not_call_a_retired_extinguishers_check_missed(
    session: Session, clock: SettableClock, school: School, admin: Person, extinguisher: Asset
) -> None:
    retire_asset(session, admin, extinguisher, reason="报废", now=clock.now())
    clock.advance(timedelta(days=35))

    report = build_report(session, school, ReportKind.FIRE, date(2026, 3, 1), now=clock.now())

    assert [c for d in report.days for c in d.checks if c.state == "missed"] == []
    assert report.figures.checks_missed == 0
