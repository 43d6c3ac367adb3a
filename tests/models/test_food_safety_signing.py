"""Who writes and signs the food-safety reports: the school's food-safety officer the weekly
report (its administrator while it has none), its head the monthly minutes; whoever signs is
reminded, the district hears of an overdue one; nothing is written for a period not begun;
the weeks are listed under every month they touch; the figures add up to the table."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from models.catalogue import translate
from models.checklist_roles import may_file
from models.clock import SettableClock
from models.food_safety import (
    ReportKind,
    ReportRefused,
    build_report,
    can_sign,
    mondays_in,
    remind_unsigned,
    reports_of_month,
    save_notes,
    sign_report,
)
from models.imports import run_import
from models.people import ROLE_LABELS, Person, Role, authenticate
from models.photos import PhotoStore
from tests.factories import (
    HEALTHY_CLOTHES,
    MORNING,
    TABLEWARE,
    CanteenMonth,
    cst,
    make_district_admin,
    make_person,
    template_for,
)

WEEK = date(2026, 3, 2)
MARCH = date(2026, 3, 1)


@pytest.fixture
def month(session: Session, clock: SettableClock, store: PhotoStore) -> CanteenMonth:
    return CanteenMonth(session, clock, store)


@pytest.fixture
def officer(month: CanteenMonth) -> Person:
    return make_person(
        month.session, month.clock, month.school, Role.FOOD_SAFETY_OFFICER, "officer"
    )


def _refusal(refused: pytest.ExceptionInfo[ReportRefused]) -> str:
    message = refused.value.message
    params = {k: v["zh_CN"] if isinstance(v, dict) else v for k, v in message.params.items()}
    return translate("zh_CN", message.msgid, **params)


def test_the_officer_is_named_in_both_languages_and_files_the_canteens_checks(
    month: CanteenMonth, officer: Person
) -> None:
    teacher = make_person(month.session, month.clock, month.school, Role.TEACHER, "teacher")

    assert translate("zh_CN", ROLE_LABELS[Role.FOOD_SAFETY_OFFICER]) == "食品安全员"
    for key in (MORNING, TABLEWARE, "canteen_receiving_check", "canteen_food_sample_retention"):
        template = template_for(month.session, key)
        assert may_file(month.session, officer, month.canteen, template), key
        assert not may_file(month.session, teacher, month.canteen, template), key


def test_a_staff_sheet_grants_the_officer_role_by_its_chinese_name(month: CanteenMonth) -> None:
    rows = ["username,name,phone,role,password", "zhao,赵老师,13900000009,食品安全员,initial-pass"]

    imported = run_import(
        month.session,
        "people",
        school=month.school,
        actor=month.admin,
        data="\r\n".join(rows).encode("utf-8-sig"),
        now=month.clock.now(),
    )

    zhao = authenticate(month.session, "13900000009", "initial-pass", now=month.clock.now())
    assert imported == 1 and zhao is not None
    assert [(g.role, g.school_id) for g in zhao.grants] == [
        (Role.FOOD_SAFETY_OFFICER, month.school.id)
    ]


def test_the_officer_signs_the_week_and_the_head_then_may_not(
    month: CanteenMonth, officer: Person
) -> None:
    month.live_through(8)
    session, school = month.session, month.school

    assert can_sign(session, officer, school, ReportKind.WEEKLY)
    assert not can_sign(session, month.admin, school, ReportKind.WEEKLY)
    with pytest.raises(ReportRefused) as refused:
        save_notes(session, month.admin, school, ReportKind.WEEKLY, WEEK, "x", now=cst(9, 9))
    assert _refusal(refused) == "每周排查治理报告由本校食品安全员填写并签字：Officer。"

    row = sign_report(session, officer, school, ReportKind.WEEKLY, WEEK, "已整改", now=cst(9, 10))
    assert row.signed_by_id == officer.id and row.content is not None


def test_a_school_with_no_officer_has_its_administrator_sign_the_week(
    month: CanteenMonth,
) -> None:
    month.live_through(8)
    session, school = month.session, month.school

    with pytest.raises(ReportRefused) as refused:
        sign_report(session, month.cook, school, ReportKind.WEEKLY, WEEK, "", now=cst(9, 9))
    row = sign_report(session, month.admin, school, ReportKind.WEEKLY, WEEK, "", now=cst(9, 10))

    assert _refusal(refused) == (
        "每周排查治理报告由本校食品安全员填写并签字；本校尚无食品安全员时，"
        "由学校管理员填写并签字：Admin。"
    )
    assert row.signed_by_id == month.admin.id


def test_the_head_signs_the_month_and_neither_the_officer_nor_the_district_may(
    month: CanteenMonth, officer: Person
) -> None:
    session, school = month.session, month.school
    district = make_district_admin(session, month.clock, school)
    april = cst(1, 10, month=4)

    for person in (officer, district):
        assert not can_sign(session, person, school, ReportKind.MONTHLY)
        with pytest.raises(ReportRefused) as refused:
            sign_report(session, person, school, ReportKind.MONTHLY, MARCH, "", now=april)
        assert _refusal(refused) == "月度调度会议纪要由校长填写并签字：Admin。"
    with pytest.raises(ReportRefused):
        sign_report(session, district, school, ReportKind.WEEKLY, WEEK, "", now=april)

    row = sign_report(session, month.admin, school, ReportKind.MONTHLY, MARCH, "", now=april)
    assert row.signed_by_id == month.admin.id


def test_the_officer_hears_of_the_week_the_head_of_the_month_the_district_of_the_overdue(
    month: CanteenMonth, officer: Person
) -> None:
    session = month.session
    make_district_admin(session, month.clock, month.school)

    # Wednesday 1 April: the week of 23 March is past its deadline, March's minutes to sign.
    queued = remind_unsigned(session, now=cst(1, 10, month=4))

    heard = sorted((n.recipient.username, n.severity, n.link.split("/")[-2]) for n in queued)
    assert heard == [
        ("admin", "info", "monthly"),
        ("district", "major", "weekly"),
        ("officer", "major", "weekly"),
    ]
    weekly = next(n for n in queued if n.recipient.username == "officer")
    assert "2026-03-23 至 2026-03-29" in weekly.text


def test_nothing_is_written_in_a_week_or_month_not_begun(
    month: CanteenMonth, officer: Person
) -> None:
    session, school = month.session, month.school

    for person, kind, first in (
        (officer, ReportKind.WEEKLY, date(2026, 3, 9)),
        (month.admin, ReportKind.MONTHLY, date(2026, 4, 1)),
    ):
        with pytest.raises(ReportRefused) as refused:
            save_notes(session, person, school, kind, first, "提前写好", now=cst(5, 9))
        assert _refusal(refused) == "本期尚未开始，开始后再填写。"
    # The week under way may be written in (not yet signed).
    save_notes(session, officer, school, ReportKind.WEEKLY, WEEK, "本周进行中", now=cst(5, 9))


def test_a_week_across_two_months_is_listed_under_both(month: CanteenMonth) -> None:
    now = cst(10, 9)

    def weeks(first: date) -> list[str]:
        listed = reports_of_month(month.session, month.school, first, now=now)
        return [r.starts_on.isoformat() for r in listed if r.kind == ReportKind.WEEKLY]

    # 23 February to 1 March touches March too, but ended before the canteen opened (2 March).
    assert weeks(date(2026, 3, 1))[0] == "2026-03-02"
    assert weeks(date(2026, 3, 1))[-1] == "2026-03-30"  # 30 March to 5 April
    assert weeks(date(2026, 4, 1))[0] == "2026-03-30"
    assert weeks(date(2026, 5, 1))[0] == "2026-04-27"  # 27 April to 3 May
    assert mondays_in(date(2026, 6, 15)) == [date(2026, 6, d) for d in (1, 8, 15, 22, 29)]


def test_the_minutes_figures_add_up_to_the_table_with_checks_filed_off_schedule(
    month: CanteenMonth,
) -> None:
    month.live_through(3)
    # Saturday: nothing is scheduled, the cook files the morning check anyway (as the demo's
    # made-up month did every day, which read "0 / 0" above a table of its checks).
    month.file(MORNING, HEALTHY_CLOTHES, cst(7, 7, 10))
    month.file(MORNING, HEALTHY_CLOTHES, cst(8, 7, 10))

    minutes = build_report(month.session, month.school, ReportKind.MONTHLY, MARCH, now=cst(9, 9))

    figures, table = minutes.figures, minutes.checked
    assert figures.checks_filed == 2
    assert figures.checks_done == sum(c.done for c in table) == 4
    assert figures.checks_due == sum(c.due for c in table)
    assert figures.checks_filed == sum(c.filed for c in table)
    assert figures.checks_missed == sum(c.missed for c in table)
