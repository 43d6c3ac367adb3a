"""The monthly fire check record, read line by line from a hand-built March 2026: patrols every
school day but Wednesday 4th, Tuesday 10th's patrol finds an escape route blocked, cleared on
the 12th (a day past its fix-by); the extinguisher checked on the 20th, a drill on the 18th,
and a fire door found open on 27 February still open."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.food_safety import (
    ReportKind,
    ReportRefused,
    ReportStatus,
    Verdict,
    build_report,
    remind_unsigned,
    report_row,
    reports_of_month,
    sign_report,
    signed_on_time,
)
from models.people import Role
from models.photos import PhotoStore
from tests.factories import FireMonth, cst, make_district_admin, make_person

MARCH = date(2026, 3, 1)


@pytest.fixture
def month(session: Session, clock: SettableClock, store: PhotoStore) -> FireMonth:
    return FireMonth(session, clock, store)


def test_the_fire_record_counts_the_patrols_and_names_the_missed_day(month: FireMonth) -> None:
    month.live_through(31)

    record = build_report(
        month.session, month.school, ReportKind.FIRE, MARCH, now=cst(1, 10, month=4)
    )

    assert (record.starts_on, record.ends_on) == ("2026-03-01", "2026-03-31")
    assert [
        (c.title["zh_CN"], c.due, c.done, c.missed, c.filed, c.failed) for c in record.checked
    ] == [
        ("每日防火巡查记录", 22, 21, 1, 0, 1),
        ("消防演练记录", 0, 0, 0, 1, 0),
        ("灭火器月度检查", 1, 1, 0, 0, 0),
    ]
    [missed] = record.missed
    assert (missed.day, missed.title["zh_CN"], missed.asset, missed.record_id) == (
        "2026-03-04",
        "每日防火巡查记录",
        "后勤办公室",
        None,
    )
    assert [d.day for d in record.missed_days] == ["2026-03-04"]
    assert [(d.day, d.verdict) for d in record.days[5:8]] == [
        ("2026-03-09", Verdict.ZERO_RISK),
        ("2026-03-10", Verdict.PROBLEMS),
        ("2026-03-11", Verdict.ZERO_RISK),
    ]
    patrolled = [c for d in record.days for c in d.checks if c.template_key == "fire_patrol"]
    assert all(c.record_id for c in patrolled if c.state == "done")
    assert (patrolled[0].by, patrolled[0].at, patrolled[0].result) == ("Inspector", "16:30", "pass")
    [drill] = record.filed
    assert (drill.day, drill.at, drill.title["zh_CN"], drill.record_id is not None) == (
        "2026-03-18",
        "10:30",
        "消防演练记录",
        True,
    )
    [extinguisher] = record.assets[:1]
    assert (extinguisher.asset, extinguisher.due, extinguisher.done) == ("一楼东侧灭火器", 1, 1)


def test_the_fire_record_shows_the_failure_fixed_late_and_the_problem_carried_in(
    month: FireMonth,
) -> None:
    month.live_through(31)

    record = build_report(
        month.session, month.school, ReportKind.FIRE, MARCH, now=cst(1, 10, month=4)
    )

    figures = record.figures
    assert (figures.problems, figures.fixed, figures.fixed_late, figures.still_open) == (1, 0, 1, 1)
    [blocked] = record.problems
    assert (blocked.found_on, blocked.what["zh_CN"], blocked.severity) == (
        "2026-03-10",
        "安全出口、疏散通道堵塞，或疏散指示标志、应急照明损坏",
        "critical",
    )
    assert (blocked.status, blocked.fix_by, blocked.fixed_on, blocked.handling) == (
        "fixed_late",
        "2026-03-11 16:30",
        "2026-03-12 09:00",
        "清走楼梯间堆放的桌椅",
    )
    assert blocked.record_id == record.days[6].checks[0].record_id
    [carried] = record.still_open
    assert (carried.found_on, carried.what["zh_CN"], carried.status, carried.fixed_on) == (
        "2026-02-27",
        "常闭式防火门未关闭，或防火卷帘下堆放物品",
        "open",
        None,
    )


def test_the_head_signs_the_fire_record_once_the_month_is_over(month: FireMonth) -> None:
    month.live_through(31)
    session, school, admin = month.session, month.school, month.admin
    district = make_district_admin(session, month.clock, school)

    with pytest.raises(ReportRefused):
        sign_report(session, admin, school, ReportKind.FIRE, MARCH, "", now=cst(31, 18))
    for person in (district, month.inspector):
        with pytest.raises(ReportRefused):
            sign_report(session, person, school, ReportKind.FIRE, MARCH, "", now=cst(1, 9, month=4))
    signed = sign_report(
        session, admin, school, ReportKind.FIRE, MARCH, "防火门已安排维修", now=cst(1, 9, month=4)
    )

    assert signed.content is not None and signed.content["missed"][0]["day"] == "2026-03-04"
    row = report_row(session, school, ReportKind.FIRE, MARCH)
    assert row is not None and row.kind == "fire" and row.notes == "防火门已安排维修"
    statuses = {
        item.kind: item.status
        for item in reports_of_month(session, school, MARCH, now=cst(2, 9, month=4))
    }
    # No canteen and no dispenser: the school owes only its fire record.
    assert statuses == {
        ReportKind.MONTHLY: ReportStatus.NOT_OWED,
        ReportKind.WEEKLY: ReportStatus.NOT_OWED,
        ReportKind.FIRE: ReportStatus.SIGNED,
        ReportKind.WATER: ReportStatus.NOT_OWED,
    }


def test_the_head_is_reminded_of_the_fire_record_and_the_district_hears_when_overdue(
    month: FireMonth,
) -> None:
    session, school = month.session, month.school
    make_district_admin(session, month.clock, school)
    month.live_through(31)

    ready = remind_unsigned(session, now=cst(1, 10, month=4))
    overdue = remind_unsigned(session, now=cst(5, 17, month=4))

    assert [(n.recipient.username, n.text) for n in ready] == [
        (
            "admin",
            "实验小学：2026-03-01 至 2026-03-31 的每月防火检查记录已可签字，"
            "请于 04-05 17:00 前签字。",
        )
    ]
    assert ready[0].link == "/reports/S1/fire-safety/monthly/2026-03-01"
    assert [(n.recipient.username, n.severity) for n in overdue] == [
        ("admin", "major"),
        ("district", "major"),
    ]


def test_the_score_counts_the_fire_record_signed_by_its_deadline(month: FireMonth) -> None:
    session, school, admin = month.session, month.school, month.admin
    other = make_person(session, month.clock, school, Role.SCHOOL_ADMIN, "deputy")
    sign_report(session, admin, school, ReportKind.FIRE, date(2026, 2, 1), "", now=cst(6, 9))
    sign_report(session, other, school, ReportKind.FIRE, MARCH, "", now=cst(3, 9, month=4))

    # Deadlines 5 March (February's, signed a day late) and 5 April (March's, on time).
    counts = signed_on_time(session, [school], cst(1, 0), cst(30, 0, month=4))

    assert counts == {school.id: (1, 2)}
