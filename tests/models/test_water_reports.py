"""The quarterly drinking-water report, read line by line from a school whose two dispensers
came on 2 March 2026: the quarter's test report, each dispenser's disinfections due, done and
missed, the out-of-date bottles found and fixed; and the next quarter, with no test report."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.food_safety import ReportKind, ReportStatus, Verdict, build_report, report_status
from models.photos import PhotoStore
from tests.factories import WaterQuarter, cst

FIRST_QUARTER = date(2026, 1, 1)


@pytest.fixture
def quarter(session: Session, clock: SettableClock, store: PhotoStore) -> WaterQuarter:
    world = WaterQuarter(session, clock, store)
    world.live_through_march()
    return world


def test_the_water_report_holds_the_quarters_test_report_as_filed(quarter: WaterQuarter) -> None:
    report = build_report(
        quarter.session,
        quarter.school,
        ReportKind.WATER,
        date(2026, 2, 14),
        now=cst(1, 10, month=4),
    )

    assert (report.starts_on, report.ends_on) == ("2026-01-01", "2026-03-31")
    [test] = report.water_tests
    assert (test.filed_on, test.by, test.supplier, test.qs_certified) == (
        "2026-03-05",
        "Inspector",
        "清泉桶装水厂",
        "yes",
    )
    assert (test.report_date, test.test_result, test.valid_until) == (
        "2026-03-03",
        "pass",
        "2026-06-30",
    )
    assert not test.lapses_in_period and test.record_id == report.filed[0].record_id


def test_the_water_report_counts_each_dispensers_disinfections_and_names_the_missed_one(
    quarter: WaterQuarter,
) -> None:
    report = build_report(
        quarter.session, quarter.school, ReportKind.WATER, FIRST_QUARTER, now=cst(1, 10, month=4)
    )

    assert [(a.asset, a.due, a.done, a.missed, a.filed, a.failed) for a in report.assets] == [
        ("一楼饮水机", 4, 4, 0, 0, 0),
        ("二楼饮水机", 3, 2, 1, 0, 1),
        ("后勤办公室", 0, 0, 0, 1, 0),  # the quarter's test report, filed without a schedule
    ]
    [missed] = report.missed
    assert (missed.day, missed.asset, missed.title["zh_CN"]) == (
        "2026-03-16",
        "二楼饮水机",
        "饮水机消毒记录",
    )
    assert [(d.day, d.verdict) for d in report.days] == [
        ("2026-03-05", Verdict.ZERO_RISK),
        ("2026-03-09", Verdict.PROBLEMS),
        ("2026-03-16", Verdict.MISSING),
        ("2026-03-23", Verdict.ZERO_RISK),
        ("2026-03-30", Verdict.ZERO_RISK),
    ]
    [bottles] = report.problems
    assert (bottles.found_on, bottles.asset, bottles.what["zh_CN"], bottles.status) == (
        "2026-03-09",
        "二楼饮水机",
        "桶装水过期或来自不合格供应商",
        "fixed",
    )
    assert (bottles.fixed_on, bottles.handling) == ("2026-03-11 15:00", "换用合格供应商的桶装水")
    assert report.still_open == []


def test_a_quarter_without_a_test_report_has_none_and_is_signed_after_its_ten_days(
    quarter: WaterQuarter,
) -> None:
    second = build_report(
        quarter.session, quarter.school, ReportKind.WATER, date(2026, 4, 1), now=cst(20, 9, month=4)
    )

    assert second.water_tests == []
    # Its test report's task (due 15 April) is still open until the quarter ends.
    assert [
        c.state for d in second.days for c in d.checks if c.template_key == "water_quarterly_report"
    ] == ["pending"]
    school = quarter.school
    assert (
        report_status(school, ReportKind.WATER, FIRST_QUARTER, None, now=cst(31, 23))
        == ReportStatus.IN_PROGRESS
    )
    assert (
        report_status(school, ReportKind.WATER, FIRST_QUARTER, None, now=cst(10, 16, month=4))
        == ReportStatus.TO_SIGN
    )
    assert (
        report_status(school, ReportKind.WATER, FIRST_QUARTER, None, now=cst(10, 17, month=4))
        == ReportStatus.OVERDUE
    )
