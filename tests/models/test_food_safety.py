"""The canteen's daily record, weekly report and monthly minutes, read line by line from a
hand-built March 2026: Monday 2nd has nothing wrong, Wednesday 4th misses the morning check,
Tuesday 10th finds tableware stored dirty, fixed on Monday 16th, three days past its fix-by."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.food_safety import (
    ReportKind,
    ReportRefused,
    ReportStatus,
    Verdict,
    build_report,
    daily_report,
    remind_unsigned,
    report_row,
    reports_of_month,
    save_notes,
    sign_report,
    signed_on_time,
)
from models.people import Role
from models.photos import PhotoStore
from tests.factories import (
    NOTE,
    CanteenMonth,
    cst,
    make_district_admin,
    make_person,
    make_school,
)


@pytest.fixture
def month(session: Session, clock: SettableClock, store: PhotoStore) -> CanteenMonth:
    return CanteenMonth(session, clock, store)


def test_a_day_with_every_check_done_and_nothing_wrong_is_a_zero_risk_day(
    month: CanteenMonth,
) -> None:
    month.live_through(3)

    monday = daily_report(month.session, month.school, date(2026, 3, 2), now=month.clock.now())

    assert monday.verdict == Verdict.ZERO_RISK
    assert [(c.title["zh_CN"], c.state, c.by, c.at, c.result) for c in monday.checks] == [
        ("食堂从业人员晨检", "done", "Cook", "07:10", "pass"),
        ("餐具消毒记录", "done", "Cook", "13:40", "pass"),
    ]
    assert all(c.record_id for c in monday.checks)
    assert monday.problems == [] and monday.missing == []


def test_a_day_with_a_check_missing_says_which(
    month: CanteenMonth,
) -> None:
    month.live_through(5)

    wednesday = daily_report(month.session, month.school, date(2026, 3, 4), now=month.clock.now())

    assert wednesday.verdict == Verdict.MISSING
    assert [m["zh_CN"] for m in wednesday.missing] == ["食堂从业人员晨检"]
    assert [(c.state, c.record_id is None) for c in wednesday.checks] == [
        ("missed", True),
        ("done", False),
    ]
    saturday = daily_report(month.session, month.school, date(2026, 3, 7), now=month.clock.now())
    assert saturday.verdict == Verdict.NO_CHECKS


def test_the_week_report_lists_what_was_checked_the_missed_day_and_the_open_problem(
    month: CanteenMonth,
) -> None:
    month.live_through(15)
    now = month.clock.now()

    first = build_report(month.session, month.school, ReportKind.WEEKLY, date(2026, 3, 2), now=now)
    assert (first.starts_on, first.ends_on) == ("2026-03-02", "2026-03-08")
    assert [(c.title["zh_CN"], c.due, c.done, c.missed) for c in first.checked] == [
        ("食堂从业人员晨检", 5, 4, 1),
        ("餐具消毒记录", 5, 5, 0),
    ]
    assert [d.day for d in first.missed_days] == ["2026-03-04"]
    assert [d.verdict for d in first.days].count(Verdict.ZERO_RISK) == 4
    assert first.problems == [] and first.still_open == []

    second = build_report(month.session, month.school, ReportKind.WEEKLY, date(2026, 3, 9), now=now)
    assert second.missed_days == []
    assert second.figures.zero_risk_days == 4
    [problem] = second.problems
    assert (problem.found_on, problem.what["zh_CN"], problem.status) == (
        "2026-03-10",
        "消毒后餐具未放入保洁柜",
        "open",
    )
    assert problem.record_id == second.days[1].checks[1].record_id
    assert problem.fix_by == "2026-03-13 13:40"
    assert second.still_open == [problem]


def test_the_month_minutes_count_the_month_and_show_the_failure_fixed_late(
    month: CanteenMonth,
) -> None:
    month.live_through(31)
    now = month.clock.now()

    minutes = build_report(
        month.session, month.school, ReportKind.MONTHLY, date(2026, 3, 1), now=now
    )

    figures = minutes.figures
    assert (figures.school_days, figures.checks_due, figures.checks_done) == (22, 44, 43)
    assert (figures.checks_missed, figures.missed_days, figures.zero_risk_days) == (1, 1, 20)
    assert (figures.problems, figures.fixed, figures.fixed_late, figures.still_open) == (
        1,
        0,
        1,
        0,
    )
    [problem] = minutes.problems
    assert (problem.status, problem.fixed_on, problem.handling) == (
        "fixed_late",
        "2026-03-16 09:00",
        "重新清洗消毒后入柜",
    )
    # Every week with a day in March the school owes (the canteen opened on the 2nd).
    assert [(w.starts_on, w.status) for w in minutes.weeks] == [
        ("2026-03-02", ReportStatus.OVERDUE),
        ("2026-03-09", ReportStatus.OVERDUE),
        ("2026-03-16", ReportStatus.OVERDUE),
        ("2026-03-23", ReportStatus.OVERDUE),
        ("2026-03-30", ReportStatus.IN_PROGRESS),
    ]
    assert [d.day for d in minutes.missed_days] == ["2026-03-04"]


def test_the_head_signs_the_week_and_the_signed_report_no_longer_changes(
    month: CanteenMonth,
) -> None:
    month.live_through(9)
    monday = date(2026, 3, 2)
    session, school, admin = month.session, month.school, month.admin
    listed = reports_of_month(session, school, monday, now=month.clock.now())
    assert next(r for r in listed if r.starts_on == monday).status == ReportStatus.TO_SIGN

    save_notes(session, admin, school, ReportKind.WEEKLY, monday, "晨检漏检已提醒", now=cst(9, 9))
    signed = sign_report(
        session,
        admin,
        school,
        ReportKind.WEEKLY,
        monday,
        "晨检漏检已提醒，专人负责",
        now=cst(9, 10),
    )

    assert signed.signed_by_id == admin.id and signed.signed_at == cst(9, 10)
    assert signed.notes == NOTE
    assert signed.content is not None
    assert signed.content["missed_days"][0]["day"] == "2026-03-04"
    with pytest.raises(ReportRefused):
        save_notes(session, admin, school, ReportKind.WEEKLY, monday, "改一改", now=cst(9, 11))
    with pytest.raises(ReportRefused):
        sign_report(session, admin, school, ReportKind.WEEKLY, monday, "", now=cst(9, 11))
    row = report_row(session, school, ReportKind.WEEKLY, monday)
    assert row is not None and row.notes == NOTE


def test_a_week_is_signed_only_once_over_and_only_by_its_schools_head(
    month: CanteenMonth,
) -> None:
    month.live_through(4)
    session, school = month.session, month.school
    other = make_school(session, "S2", "第二小学", district=school.district)
    stranger = make_person(session, month.clock, other, Role.SCHOOL_ADMIN, "stranger")
    district = make_district_admin(session, month.clock, school)
    monday = date(2026, 3, 2)

    with pytest.raises(ReportRefused):
        sign_report(session, month.admin, school, ReportKind.WEEKLY, monday, "", now=cst(5, 9))
    for person in (stranger, district, month.cook):
        with pytest.raises(ReportRefused):
            sign_report(session, person, school, ReportKind.WEEKLY, monday, "", now=cst(9, 9))
    assert report_row(session, school, ReportKind.WEEKLY, monday) is None


def test_an_unsigned_week_is_overdue_after_its_deadline(
    month: CanteenMonth,
) -> None:
    month.live_through(3)
    school, session = month.school, month.session
    monday = date(2026, 3, 2)

    def status(at: datetime) -> ReportStatus:
        listed = reports_of_month(session, school, monday, now=at)
        return next(r for r in listed if r.starts_on == monday).status

    assert status(cst(8, 23)) == ReportStatus.IN_PROGRESS
    assert status(cst(10, 16, 59)) == ReportStatus.TO_SIGN
    assert status(cst(10, 17)) == ReportStatus.OVERDUE


def test_the_head_is_reminded_to_sign_and_the_district_hears_of_an_overdue_week(
    month: CanteenMonth,
) -> None:
    session, school = month.session, month.school
    district = make_district_admin(session, month.clock, school)
    month.live_through(8)

    ready = remind_unsigned(session, now=cst(9, 10))
    again = remind_unsigned(session, now=cst(9, 11))
    overdue = remind_unsigned(session, now=cst(10, 17))
    sign_report(
        session, month.admin, school, ReportKind.WEEKLY, date(2026, 3, 2), "", now=cst(10, 18)
    )
    after = remind_unsigned(session, now=cst(11, 9))

    # February is before the canteen was added: nothing is asked of it.
    week = "2026-03-02 至 2026-03-08"
    assert [(n.recipient.username, n.text) for n in ready] == [
        ("admin", f"实验小学：{week} 的每周食品安全排查治理报告已可签字，请于 03-10 17:00 前签字。")
    ]
    assert ready[0].link == "/reports/S1/food-safety/weekly/2026-03-02"
    assert again == []
    assert [(n.recipient.username, n.severity) for n in overdue] == [
        ("admin", "major"),
        ("district", "major"),
    ]
    assert "已逾期，仍未签字" in overdue[1].text
    assert after == [] and district.id


def test_the_score_counts_the_reports_signed_by_their_deadline(month: CanteenMonth) -> None:
    session, school, admin = month.session, month.school, month.admin
    sign_report(session, admin, school, ReportKind.WEEKLY, date(2026, 3, 2), "", now=cst(10, 9))
    sign_report(session, admin, school, ReportKind.WEEKLY, date(2026, 3, 9), "", now=cst(20, 9))
    other = make_school(session, "SY02", "没有食堂的学校")

    # Deadlines from 9 to 25 March: the weeks from the 2nd (signed on the 10th, on time), the
    # 9th (signed on the 20th, three days late) and the 16th (not signed); no month's.
    counts = signed_on_time(session, [school, other], cst(9, 0), cst(25, 0))

    assert counts == {school.id: (1, 3)}
