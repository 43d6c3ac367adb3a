"""The registers' ledgers hold what the registers say as of the period's end: each staff
member and their certificates, the district's suppliers and their licences, each policy a
school and its buses must hold, the other documents; for those who may see the school."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from models.assets import AssetKind
from models.clock import SettableClock
from models.documents import DocumentKind, InsuranceType, add_document, renew_document
from models.people import Role
from models.periods import PeriodKind, period_of
from models.photos import PhotoStore
from models.register_ledgers import Register, RegisterFilters, register_ledger
from tests.factories import (
    make_asset,
    make_certificate,
    make_district_admin,
    make_person,
    make_school,
    make_supplier,
)

MARCH = period_of(PeriodKind.MONTH, date(2026, 3, 2))


@pytest.fixture
def world(session: Session, clock: SettableClock, store: PhotoStore):  # type: ignore[no-untyped-def]
    """S1: a cook whose health certificate expires on 20 March, a dorm keeper without the
    training certificate she needs, an administrator who needs none; a policy in force, one
    expired in January, none for medical insurance or the bus; a canteen licence renewed in
    April. S2: a cook with a valid certificate. Two suppliers, one withdrawn."""
    school = make_school(session, "S1")
    other = make_school(session, "S2", "第二中学", district=school.district)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    boss = make_district_admin(session, clock, school)
    cook = make_person(session, clock, school, Role.CANTEEN_STAFF, "cook")
    make_person(session, clock, school, Role.DORM_STAFF, "keeper")
    their_admin = make_person(session, clock, other, Role.SCHOOL_ADMIN, "outsider")
    their_cook = make_person(session, clock, other, Role.CANTEEN_STAFF, "chef")
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车")
    make_certificate(
        session,
        clock,
        store,
        admin,
        school,
        cook,
        number="JK-001",
        issued_on=date(2025, 3, 21),
        expires_on=date(2026, 3, 20),
    )
    make_certificate(session, clock, store, their_admin, other, their_cook, number="JK-901")

    def policy(kind: InsuranceType, expires_on: date, holder=None) -> None:  # type: ignore[no-untyped-def]
        add_document(
            session,
            admin,
            school=school,
            holder=holder,
            kind=DocumentKind.INSURANCE_POLICY,
            insurance_type=kind,
            title="保单",
            number=f"BD-{kind}",
            expires_on=expires_on,
            store=store,
            now=clock.now(),
        )

    policy(InsuranceType.STUDENT_ACCIDENT, date(2026, 12, 31))
    policy(InsuranceType.SCHOOL_LIABILITY, date(2026, 1, 31))
    green = make_supplier(session, clock, school, categories=("vegetables", "meat"), licensed=False)
    make_supplier(session, clock, school, "旧米行", ("rice",), active=False, licensed=False)
    add_document(
        session,
        boss,
        school=school,
        holder=green,
        kind=DocumentKind.BUSINESS_LICENCE,
        title="营业执照",
        number="YY-01",
        expires_on=date(2026, 4, 15),
        store=store,
        now=clock.now(),
    )
    licence = add_document(
        session,
        admin,
        school=school,
        holder=None,
        kind=DocumentKind.BUSINESS_LICENCE,
        title="食品经营许可证",
        number="JY-2025",
        issued_on=date(2025, 1, 1),
        expires_on=date(2026, 5, 31),
        store=store,
        now=clock.now(),
    )
    make_certificate(  # an old paper of the bus, not a person's: the documents register
        session,
        clock,
        store,
        admin,
        school,
        bus,
        kind=DocumentKind.TEST_REPORT,
        title="年检报告",
        expires_on=None,
    )
    clock.advance(timedelta(days=40))
    renew_document(
        session,
        admin,
        licence,
        title="食品经营许可证",
        number="JY-2026",
        issued_on=date(2026, 4, 10),
        expires_on=date(2031, 4, 9),
        store=store,
        now=clock.now(),
    )
    session.flush()
    return school, admin, boss, their_admin


def _cells(ledger, *keys: str) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    return [tuple(row.value(k) for k in keys) for row in ledger.rows]


def test_the_certificates_ledger_lists_each_staff_member_and_their_certificates(
    session: Session, world
) -> None:  # type: ignore[no-untyped-def]
    school, admin, _boss, _their = world

    ledger = register_ledger(
        session,
        admin,
        Register.CERTIFICATES,
        district=school.district,
        school=school,
        period=MARCH,
        locale="zh_CN",
    )

    assert ledger.title == "人员持证台账"
    assert ledger.headers[:3] == ("人员", "岗位", "证件")  # no school column for one school
    assert _cells(ledger, "holder", "detail", "kind", "number", "status", "note") == [
        ("Admin", "学校管理员", "", "", "无需持证", ""),
        ("Cook", "食堂从业人员", "健康证", "JK-001", "已过期", "期间内于 2026-03-20 过期"),
        ("Keeper", "宿舍管理员", "培训合格证", "", "缺失", "未持有"),
    ]
    february = register_ledger(
        session,
        admin,
        Register.CERTIFICATES,
        district=school.district,
        school=school,
        period=period_of(PeriodKind.MONTH, date(2026, 2, 1)),
        locale="zh_CN",
    )
    assert _cells(february, "holder", "status", "note")[1] == ("Cook", "即将到期", "整个期间有效")


def test_the_suppliers_ledger_names_each_licence_and_the_approval(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    school, admin, _boss, _their = world

    ledger = register_ledger(
        session,
        admin,
        Register.SUPPLIERS,
        district=school.district,
        school=school,
        period=MARCH,
        locale="zh_CN",
    )

    assert _cells(ledger, "holder", "detail", "approval", "kind", "expires_on", "status") == [
        ("旧米行", "大米", "已停用", "食品经营许可证或食品生产许可证（SC）", None, "缺失"),
        ("绿源蔬菜配送", "肉类、蔬菜", "已准入", "营业执照", date(2026, 4, 15), "即将到期"),
    ]


def test_the_insurance_ledger_lists_what_the_school_and_each_bus_must_hold(
    session: Session, world
) -> None:  # type: ignore[no-untyped-def]
    school, admin, _boss, _their = world

    ledger = register_ledger(
        session,
        admin,
        Register.INSURANCE,
        district=school.district,
        school=school,
        period=MARCH,
        locale="zh_CN",
    )
    expired = register_ledger(
        session,
        admin,
        Register.INSURANCE,
        district=school.district,
        school=school,
        period=MARCH,
        locale="zh_CN",
        filters=RegisterFilters(status="expired"),
    )

    assert _cells(ledger, "kind", "holder", "number", "status", "note") == [
        ("学生意外伤害险", "实验小学", "BD-student_accident", "有效", "整个期间有效"),
        ("校方责任险", "实验小学", "BD-school_liability", "已过期", "已于 2026-01-31 过期"),
        ("医疗保险", "实验小学", "", "缺失", "未持有"),
        ("校车承运人责任险", "XC-01 1号校车", "", "缺失", "未持有"),
    ]
    assert _cells(expired, "kind") == [("校方责任险",)]


def test_the_documents_ledger_shows_the_paper_held_at_the_periods_end(
    session: Session, world
) -> None:  # type: ignore[no-untyped-def]
    school, admin, _boss, _their = world

    def numbers(period) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
        ledger = register_ledger(
            session,
            admin,
            Register.DOCUMENTS,
            district=school.district,
            school=school,
            period=period,
            locale="zh_CN",
        )
        return _cells(ledger, "kind", "title", "number", "holder", "status")

    assert numbers(MARCH) == [
        ("营业执照", "食品经营许可证", "JY-2025", "实验小学", "有效"),
        ("检测报告", "年检报告", "", "XC-01 1号校车", "长期有效"),
    ]
    assert numbers(period_of(PeriodKind.MONTH, date(2026, 4, 1)))[0][2] == "JY-2026"


def test_the_district_ledger_names_each_school_and_a_school_sees_only_its_own(
    session: Session, world
) -> None:  # type: ignore[no-untyped-def]
    school, _admin, boss, their_admin = world

    def holders(viewer, **more) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
        ledger = register_ledger(
            session,
            viewer,
            Register.CERTIFICATES,
            district=school.district,
            period=MARCH,
            locale="zh_CN",
            **more,
        )
        return _cells(ledger, "school", "holder")

    assert holders(boss) == [
        ("实验小学", "Admin"),
        ("实验小学", "Cook"),
        ("实验小学", "Keeper"),
        ("第二中学", "Chef"),
        ("第二中学", "Outsider"),
    ]
    assert holders(boss, filters=RegisterFilters(holder="coo")) == [("实验小学", "Cook")]
    assert holders(their_admin) == [("第二中学", "Chef"), ("第二中学", "Outsider")]
    assert holders(their_admin, school=school) == []


def test_a_ledger_of_a_period_still_running_reads_its_statuses_today_not_on_a_day_to_come(
    session: Session, world
) -> None:  # type: ignore[no-untyped-def]
    school, admin, _boss, _their = world

    ledger = register_ledger(
        session,
        admin,
        Register.CERTIFICATES,
        district=school.district,
        school=school,
        period=MARCH,
        locale="zh_CN",
        today=date(2026, 3, 10),
    )

    # The cook's certificate expires on 20 March: on the 10th it is expiring, not expired.
    assert ledger.status_on == date(2026, 3, 10) and ledger.period == MARCH
    assert _cells(ledger, "holder", "status")[1] == ("Cook", "即将到期")
    done = register_ledger(
        session,
        admin,
        Register.CERTIFICATES,
        district=school.district,
        school=school,
        period=MARCH,
        locale="zh_CN",
        today=date(2026, 4, 2),
    )
    assert done.status_on == date(2026, 3, 31)
