"""A ledger holds what was recorded in its period, as the records say it, for those who may
see the school."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from models.actions import CorrectiveAction, close_action
from models.assets import AssetKind
from models.clock import SettableClock
from models.ledgers import LedgerFilters, build_ledger
from models.people import Role
from models.periods import PeriodKind, period_of
from models.photos import PhotoStore, process_photo
from tests.factories import (
    EXTINGUISHER_OK,
    distinct_jpeg,
    file_check,
    make_asset,
    make_district_admin,
    make_person,
    make_school,
)


def _world(session: Session, clock: SettableClock, store: PhotoStore):  # type: ignore[no-untyped-def]
    """Two schools: at S1 a passed check, a failed one (fixed next day), one with a photo
    used twice; at S2 one check. Returns the schools and people."""
    school = make_school(session, "S1")
    other = make_school(session, "S2", "第二中学", district=school.district)
    inspector = make_person(session, clock, school)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    outsider = make_person(session, clock, other, username="outsider")
    first = make_asset(session, clock, school)
    second = make_asset(session, clock, school, code="MHQ-002", name="二楼西侧灭火器")
    theirs = make_asset(session, clock, other, code="MHQ-901", name="食堂灭火器")
    photo = distinct_jpeg("twice")
    file_check(session, clock, store, inspector, first, "k-pass-0001", photo=photo)
    clock.advance(timedelta(hours=1))
    failed = file_check(
        session,
        clock,
        store,
        inspector,
        second,
        "k-fail-0001",
        {**EXTINGUISHER_OK, "gauge_green": "fail"},
    )
    clock.advance(timedelta(hours=1))
    file_check(session, clock, store, inspector, first, "k-twice-001", photo=photo)
    file_check(session, clock, store, outsider, theirs, "k-other-001")
    action = session.query(CorrectiveAction).filter_by(record_id=failed.id).one()
    clock.advance(timedelta(days=1))
    close_action(
        session,
        action,
        actor=admin,
        note="更换灭火器",
        photo=process_photo(distinct_jpeg("fix")),
        store=store,
        now=clock.now(),
    )
    session.flush()
    return school, other, inspector, admin, outsider


def test_a_school_ledger_shows_results_failures_their_fix_and_flags(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school, _other, _inspector, admin, _outsider = _world(session, clock, store)
    month = period_of(PeriodKind.MONTH, clock.now().date())

    ledger = build_ledger(
        session, admin, district=school.district, school=school, period=month, locale="zh_CN"
    )

    assert "学校" not in ledger.headers
    assert ledger.headers[:3] == ("日期时间", "设备", "检查表")
    [section] = ledger.sections
    assert section.title == "灭火器月度检查"
    passed, failed, twice = section.rows
    assert (passed.asset_code, passed.result, passed.who) == ("MHQ-001", "合格", "Inspector")
    assert passed.at.strftime("%H:%M") == "08:30"  # the district's time
    assert len(passed.photos) == 1 and not passed.flags
    assert failed.result == "不合格" and not failed.passed
    assert failed.failures == ("压力表指针不在绿区",)
    [fix] = failed.actions
    assert (fix.status, fix.closed_by, fix.note) == ("已关闭", "Admin", "更换灭火器")
    assert twice.flags == ("与一楼东侧灭火器 MHQ-001 2026-03-02 08:30 的记录照片相同",)


def test_filters_narrow_the_ledger(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school, _other, inspector, admin, _outsider = _world(session, clock, store)
    month = period_of(PeriodKind.MONTH, clock.now().date())

    def codes(**filters: object) -> list[str]:
        ledger = build_ledger(
            session,
            admin,
            district=school.district,
            school=school,
            period=month,
            locale="zh_CN",
            filters=LedgerFilters(**filters),  # type: ignore[arg-type]
        )
        return [r.asset_code for r in ledger.rows]

    assert codes(result="fail") == ["MHQ-002"]
    assert codes(asset="MHQ-001") == ["MHQ-001", "MHQ-001"]
    assert codes(flagged=True) == ["MHQ-001"]
    assert codes(person_id=admin.id) == []
    assert codes(person_id=inspector.id) == ["MHQ-001", "MHQ-002", "MHQ-001"]
    assert codes(kind=AssetKind.BUS) == []
    assert codes(checklist="extinguisher_monthly") == ["MHQ-001", "MHQ-002", "MHQ-001"]


def test_the_period_bounds_the_ledger_in_the_districts_days(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school, _other, _inspector, admin, _outsider = _world(session, clock, store)
    filed = date(2026, 3, 2)  # the day of the records, in Shanghai

    def count(kind: PeriodKind, day) -> int:  # type: ignore[no-untyped-def]
        return build_ledger(
            session,
            admin,
            district=school.district,
            school=school,
            period=period_of(kind, day),
            locale="zh_CN",
        ).total

    assert count(PeriodKind.DAY, filed - timedelta(days=1)) == 0
    assert count(PeriodKind.DAY, filed) == 3
    assert count(PeriodKind.WEEK, filed) == 3
    assert count(PeriodKind.YEAR, filed.replace(year=filed.year - 1)) == 0


def test_the_district_ledger_names_each_school_and_others_see_only_their_own(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school, _other, _inspector, _admin, outsider = _world(session, clock, store)
    boss = make_district_admin(session, clock, school)
    month = period_of(PeriodKind.MONTH, clock.now().date())

    district = build_ledger(session, boss, district=school.district, period=month, locale="zh_CN")
    theirs = build_ledger(session, outsider, district=school.district, period=month, locale="zh_CN")
    peeking = build_ledger(
        session, outsider, district=school.district, school=school, period=month, locale="zh_CN"
    )

    assert district.headers[1] == "学校"
    assert district.scope == "示范区"
    assert sorted({r.school for r in district.rows}) == sorted(["实验小学", "第二中学"])
    assert [r.asset_code for r in theirs.rows] == ["MHQ-901"]
    assert peeking.rows == []
