"""A bus leaves only with its papers and its driver's in date (校车安全管理条例 §§20–26): the
escort is told which paper expired and when, and the school office hears of it at once."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.assets import AssetKind
from models.checklists import base_template
from models.clock import SettableClock
from models.documents import DocumentKind, InsuranceType, renew_document
from models.messages import SubmissionInvalid
from models.notifications import inbox
from models.org import School
from models.people import Role
from models.photos import PhotoStore
from models.records import Channel, submit_record
from models.trips import Trip, TripRefused
from tests.factories import (
    file_pre_trip_check,
    give_bus_papers,
    make_asset,
    make_certificate,
    make_person,
    make_school,
)

# The clock starts on 2026-03-02: a paper that ran to 2026-03-01 expired yesterday.
YESTERDAY = date(2026, 3, 1)
NEXT_YEAR = date(2027, 3, 1)


@pytest.fixture
def bus_day(session: Session, clock: SettableClock, store: PhotoStore):
    """A bus with every paper in date, its driver (bus staff) who checked it this morning,
    the escort teacher and the administrator who keeps the register."""
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    driver = make_person(session, clock, school, Role.BUS_STAFF, "driver")
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车")
    papers = {
        "inspection": _paper(session, clock, store, admin, bus, DocumentKind.BUS_INSPECTION),
        "insurance": _paper(
            session,
            clock,
            store,
            admin,
            bus,
            DocumentKind.INSURANCE_POLICY,
            insurance_type=InsuranceType.BUS_CARRIER_LIABILITY,
        ),
        "qualification": _paper(
            session, clock, store, admin, driver, DocumentKind.DRIVER_QUALIFICATION
        ),
        "review": _paper(session, clock, store, admin, driver, DocumentKind.DRIVER_REVIEW),
    }
    file_pre_trip_check(session, clock, store, bus, driver)
    return teacher, admin, driver, bus, papers


def _paper(session, clock, store, admin, holder, kind, expires_on=NEXT_YEAR, **fields):
    school = session.scalar(select(School))
    return make_certificate(
        session,
        clock,
        store,
        admin,
        school,
        holder,
        kind=kind,
        title=str(kind),
        expires_on=expires_on,
        **fields,
    )


def _depart(session, clock, store, teacher, bus, key="dep-0001"):
    return submit_record(
        session,
        actor=teacher,
        asset=bus,
        template=base_template(session, "bus_departure"),
        answers={"teacher_on_board": "yes", "children_boarded": "12", "seatbelts_on": "yes"},
        uploads=[],
        key=key,
        channel=Channel.WEB,
        clock=clock,
        store=store,
    ).record


def _refusal(refused: pytest.ExceptionInfo[TripRefused], locale: str = "zh_CN") -> str:
    from models.bus_papers import message_in

    return message_in(locale, refused.value.message)


def test_a_bus_with_every_paper_in_date_leaves_with_its_driver_named(
    session: Session, clock: SettableClock, store: PhotoStore, bus_day
) -> None:
    teacher, admin, driver, bus, _ = bus_day

    _depart(session, clock, store, teacher, bus)

    trip = session.scalar(select(Trip))
    assert trip.driver == driver.display_name
    assert inbox(session, admin) == []


@pytest.mark.parametrize(
    ("paper", "named_zh", "named_en"),
    [
        ("qualification", "校车驾驶资格", "School-bus driving qualification of Driver"),
        ("review", "驾驶证审验", "Driving licence annual review of Driver"),
        ("inspection", "校车安全技术检验", "Bus safety inspection of 1号校车"),
        ("insurance", "承运人责任险", "Bus carrier liability insurance of 1号校车"),
    ],
)
def test_an_expired_paper_refuses_the_departure_by_name_and_alerts_the_school(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    bus_day,
    paper: str,
    named_zh: str,
    named_en: str,
) -> None:
    teacher, admin, _, bus, papers = bus_day
    papers[paper].expires_on = YESTERDAY
    session.flush()

    with pytest.raises(TripRefused) as refused:
        _depart(session, clock, store, teacher, bus)

    assert named_zh in _refusal(refused) and "2026-03-01" in _refusal(refused)
    assert f"{named_en} expired on 2026-03-01" in _refusal(refused, "en")
    assert session.scalar(select(func.count()).select_from(Trip)) == 0
    [alert] = inbox(session, admin)
    assert alert.severity == "critical"
    assert alert.dedup_key == f"departure_refused:{bus.id}:dep-0001"
    assert named_zh in alert.text and "2026-03-01" in alert.text
    assert any(n.dedup_key == alert.dedup_key for n in inbox(session, teacher))


def test_a_paper_valid_through_today_lets_the_bus_leave(
    session: Session, clock: SettableClock, store: PhotoStore, bus_day
) -> None:
    teacher, _, _, bus, papers = bus_day
    papers["review"].expires_on = date(2026, 3, 2)
    session.flush()

    _depart(session, clock, store, teacher, bus)

    assert session.scalar(select(func.count()).select_from(Trip)) == 1


def test_two_expired_papers_are_both_named(
    session: Session, clock: SettableClock, store: PhotoStore, bus_day
) -> None:
    teacher, _, _, bus, papers = bus_day
    papers["inspection"].expires_on = date(2026, 2, 27)
    papers["qualification"].expires_on = YESTERDAY
    session.flush()

    with pytest.raises(TripRefused) as refused:
        _depart(session, clock, store, teacher, bus)

    text = _refusal(refused)
    assert "校车安全技术检验" in text and "2026-02-27" in text
    assert "校车驾驶资格" in text and "2026-03-01" in text


def test_a_renewed_paper_lets_the_bus_leave_again(
    session: Session, clock: SettableClock, store: PhotoStore, bus_day
) -> None:
    teacher, admin, _, bus, papers = bus_day
    papers["review"].expires_on = YESTERDAY
    session.flush()
    with pytest.raises(TripRefused):
        _depart(session, clock, store, teacher, bus, key="dep-0001")

    renew_document(
        session,
        admin,
        papers["review"],
        title="审验",
        expires_on=NEXT_YEAR,
        store=store,
        now=clock.now(),
    )
    _depart(session, clock, store, teacher, bus, key="dep-0002")

    assert session.scalar(select(func.count()).select_from(Trip)) == 1


def test_the_driver_named_on_the_bus_is_checked_when_a_teacher_did_the_pre_trip_check(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    driver = make_person(session, clock, school, Role.BUS_STAFF, "driver")
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车", driver="Driver")
    make_certificate(
        session,
        clock,
        store,
        admin,
        school,
        driver,
        kind=DocumentKind.DRIVER_REVIEW,
        title="审验",
        expires_on=YESTERDAY,
    )
    file_pre_trip_check(session, clock, store, bus, teacher)

    with pytest.raises(TripRefused) as refused:
        _depart(session, clock, store, teacher, bus)

    assert "驾驶证审验" in _refusal(refused) and "Driver" in _refusal(refused)


def test_a_departure_without_the_days_pre_trip_check_alerts_the_school(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车")

    with pytest.raises(TripRefused):
        _depart(session, clock, store, teacher, bus)

    [alert] = inbox(session, admin)
    assert alert.severity == "critical"
    assert "校车出车前检查" in alert.text


def test_bus_papers_are_held_by_a_bus_and_driver_papers_by_bus_staff(
    session: Session, clock: SettableClock, store: PhotoStore, bus_day
) -> None:
    teacher, admin, _, bus, _ = bus_day
    canteen = make_asset(session, clock, bus.school, AssetKind.CANTEEN, "ST-01", "食堂")

    with pytest.raises(SubmissionInvalid) as not_a_bus:
        _paper(session, clock, store, admin, canteen, DocumentKind.BUS_INSPECTION)
    with pytest.raises(SubmissionInvalid) as not_a_driver:
        _paper(session, clock, store, admin, teacher, DocumentKind.DRIVER_QUALIFICATION)
    with pytest.raises(SubmissionInvalid):
        _paper(session, clock, store, admin, bus, DocumentKind.DRIVER_REVIEW)

    assert "held by a bus" in not_a_bus.value.errors["holder"].msgid
    assert "bus staff" in not_a_driver.value.errors["holder"].msgid
    maintenance = _paper(session, clock, store, admin, bus, DocumentKind.BUS_MAINTENANCE)
    assert maintenance.asset is bus


def test_a_bus_and_driver_with_no_papers_on_file_are_refused_naming_each_missing_paper(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    driver = make_person(session, clock, school, Role.BUS_STAFF, "driver")
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车")
    file_pre_trip_check(session, clock, store, bus, driver, papers=False)

    with pytest.raises(TripRefused) as refused:
        _depart(session, clock, store, teacher, bus)

    zh = _refusal(refused)
    assert zh.startswith(
        "校车不得发车。缺少：1号校车的校车安全技术检验、校车承运人责任险；"
        "Driver的校车驾驶资格、驾驶证审验。"
    )
    assert "学校管理员" in zh and "证照登记" in zh
    en = _refusal(refused, "en")
    assert "Missing: Bus safety inspection, Bus carrier liability insurance of 1号校车" in en
    assert "school's administrator adds it in the register" in en
    assert session.scalar(select(func.count()).select_from(Trip)) == 0
    [alert] = inbox(session, admin)
    assert alert.severity == "critical"
    assert alert.dedup_key == f"departure_refused:{bus.id}:dep-0001"
    assert "缺少：1号校车的校车安全技术检验" in alert.text


def test_a_driver_with_no_papers_keeps_a_bus_in_order_in_the_yard(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    driver = make_person(session, clock, school, Role.BUS_STAFF, "driver")
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车")
    file_pre_trip_check(session, clock, store, bus, driver, papers=False)
    give_bus_papers(session, clock, bus, None)

    with pytest.raises(TripRefused) as refused:
        _depart(session, clock, store, teacher, bus)

    zh = _refusal(refused)
    assert "缺少：Driver的校车驾驶资格、驾驶证审验。" in zh
    assert "1号校车" not in zh
    give_bus_papers(session, clock, bus, driver)
    _depart(session, clock, store, teacher, bus, key="dep-0002")
    assert session.scalar(select(Trip)).driver == driver.display_name


def test_an_expired_paper_and_a_missing_one_are_both_named(
    session: Session, clock: SettableClock, store: PhotoStore, bus_day
) -> None:
    teacher, _, _, bus, papers = bus_day
    papers["inspection"].expires_on = YESTERDAY
    session.delete(papers["review"])
    session.flush()

    with pytest.raises(TripRefused) as refused:
        _depart(session, clock, store, teacher, bus)

    zh = _refusal(refused)
    assert "1号校车的校车安全技术检验已于 2026-03-01 过期" in zh
    assert "缺少：Driver的驾驶证审验" in zh
    en = _refusal(refused, "en")
    assert "Bus safety inspection of 1号校车 expired on 2026-03-01" in en
    assert "Missing: Driving licence annual review of Driver" in en


def test_a_bus_whose_driver_is_unknown_today_is_refused_and_the_school_alerted(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    """A teacher did the pre-trip check and the bus names no registered driver: nobody's
    qualification can be checked, so the bus stays in the yard."""
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车", driver="张三")
    give_bus_papers(session, clock, bus, None)
    file_pre_trip_check(session, clock, store, bus, teacher, papers=False)

    with pytest.raises(TripRefused) as refused:
        _depart(session, clock, store, teacher, bus)

    assert "不知道今天由谁驾驶" in _refusal(refused)
    assert "no driver of it is known today" in _refusal(refused, "en")
    assert session.scalar(select(func.count()).select_from(Trip)) == 0
    [alert] = inbox(session, admin)
    assert alert.severity == "critical" and "不知道今天由谁驾驶" in alert.text
