"""The district's table of report signatures for March 2026: a school with a canteen, an
office and dispensers, one with only an office, and a school of another district kept out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy.orm import Session

from models.assets import AssetKind
from models.clock import SettableClock
from models.food_safety import ReportKind, ReportStatus, sign_report
from models.org import School
from models.people import Person, Role
from models.report_statuses import report_statuses
from tests.factories import cst, make_asset, make_district_admin, make_person, make_school

MARCH = date(2026, 3, 1)


@dataclass
class District:
    full: School
    office_only: School
    elsewhere: School
    head: Person
    office_head: Person
    district: Person


@pytest.fixture
def district(session: Session, clock: SettableClock) -> District:
    full = make_school(session)
    office_only = make_school(session, "S2", "第二小学", district=full.district)
    elsewhere = make_school(session, "T1", "外区小学")
    for kind, code in (
        (AssetKind.CANTEEN, "ST-01"),
        (AssetKind.SCHOOL_OFFICE, "HQ-01"),
        (AssetKind.WATER_DISPENSER, "YS-01"),
    ):
        make_asset(session, clock, full, kind, code, code)
    make_asset(session, clock, office_only, AssetKind.SCHOOL_OFFICE, "HQ-01", "后勤办公室")
    make_asset(session, clock, elsewhere, AssetKind.SCHOOL_OFFICE, "HQ-01", "后勤办公室")
    head = make_person(session, clock, full, Role.SCHOOL_ADMIN, "head")
    world = District(
        full,
        office_only,
        elsewhere,
        head,
        make_person(session, clock, office_only, Role.SCHOOL_ADMIN, "office_head"),
        make_district_admin(session, clock, full),
    )
    sign_report(session, head, full, ReportKind.WEEKLY, date(2026, 3, 2), "", now=cst(9, 9))
    sign_report(session, head, full, ReportKind.WEEKLY, date(2026, 3, 9), "", now=cst(20, 9))
    session.flush()
    return world


def test_the_district_sees_every_school_and_report_due_in_the_month(
    session: Session, district: District
) -> None:
    table = report_statuses(session, district.district, MARCH, now=cst(1, 10, month=4))

    assert [(c.kind, c.starts_on.isoformat()) for c in table.columns] == [
        (ReportKind.MONTHLY, "2026-03-01"),
        (ReportKind.WEEKLY, "2026-03-02"),
        (ReportKind.WEEKLY, "2026-03-09"),
        (ReportKind.WEEKLY, "2026-03-16"),
        (ReportKind.WEEKLY, "2026-03-23"),
        (ReportKind.WEEKLY, "2026-03-30"),
        (ReportKind.FIRE, "2026-03-01"),
        (ReportKind.WATER, "2026-01-01"),
    ]
    assert [row.school.code for row in table.schools] == ["S1", "S2"]
    full, office_only = table.schools
    assert [c.status for c in full.cells] == [
        ReportStatus.TO_SIGN,
        ReportStatus.SIGNED,
        ReportStatus.SIGNED,
        ReportStatus.OVERDUE,
        ReportStatus.OVERDUE,
        ReportStatus.IN_PROGRESS,
        ReportStatus.TO_SIGN,
        ReportStatus.TO_SIGN,
    ]
    on_time, late = full.cells[1], full.cells[2]
    assert (on_time.signed_by, on_time.signed_at, on_time.on_time) == ("Head", cst(9, 9), True)
    assert (late.signed_by, late.signed_at, late.on_time) == ("Head", cst(20, 9), False)
    assert on_time.path == "/reports/S1/food-safety/weekly/2026-03-02"
    assert full.cells[7].path == "/reports/S1/drinking-water/quarterly/2026-01-01"
    # An office and nothing else: its fire record is owed, the canteen's and water's are not.
    assert [c.status for c in office_only.cells] == [ReportStatus.NOT_OWED] * 6 + [
        ReportStatus.TO_SIGN,
        ReportStatus.NOT_OWED,
    ]


def test_the_water_report_is_a_column_only_in_the_month_its_quarter_ends(
    session: Session, district: District
) -> None:
    table = report_statuses(session, district.district, date(2026, 2, 10), now=cst(1, 10))

    assert ReportKind.WATER not in [c.kind for c in table.columns]
    # February is before the assets came: nothing is owed then.
    assert {c.status for row in table.schools for c in row.cells} == {ReportStatus.NOT_OWED}


def test_a_schools_administrator_sees_only_their_own_school(
    session: Session, district: District
) -> None:
    own = report_statuses(session, district.office_head, MARCH, now=cst(1, 10, month=4))
    head = report_statuses(session, district.head, MARCH, now=cst(1, 10, month=4))

    assert [row.school.code for row in own.schools] == ["S2"]
    assert [row.school.code for row in head.schools] == ["S1"]
