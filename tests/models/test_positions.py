"""Proof of presence by location: a school's position and radius, set by the district's
administrators; a record filed by a phone farther away than the radius plus its accuracy is
flagged on the ledger, the dashboard and the score; a record with no location never is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.dashboard import Span, school_dashboard
from models.ledgers import LedgerFilters, build_ledger, location_text, record_flags
from models.messages import SubmissionInvalid
from models.people import Role
from models.periods import PeriodKind, period_of
from models.photos import PhotoStore
from models.positions import PhonePosition, distance_m, phone_position, set_school_position
from models.score import Scheme, losses, school_figures
from models.suppliers import RegisterRefused
from tests.factories import (
    field_errors,
    file_check,
    make_asset,
    make_district_admin,
    make_person,
    make_school,
)

AT = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai
# A school in Shanghai, and points about 120 m and 2.3 km north of it.
SCHOOL = (31.2304, 121.4737)
NEAR = PhonePosition(31.2304 + 120 / 111_195, 121.4737, 15)
FAR = PhonePosition(31.2304 + 2300 / 111_195, 121.4737, 20)


def test_the_distance_between_two_points_is_measured_on_the_earths_surface() -> None:
    assert distance_m(*SCHOOL, *SCHOOL) == 0
    assert distance_m(*SCHOOL, NEAR.latitude, NEAR.longitude) == pytest.approx(120, abs=1)
    # Shanghai to Beijing, about 1068 km.
    assert distance_m(31.2304, 121.4737, 39.9042, 116.4074) == pytest.approx(1_067_000, rel=0.01)


def test_the_district_sets_a_schools_position_and_bad_values_are_named_by_field(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session, "S1")
    district = make_district_admin(session, clock, school)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    assert school.radius_m == 300

    set_school_position(session, district, school, "31.2304", "121.4737", "500", now=clock.now())
    assert (school.latitude, school.longitude, school.radius_m) == (31.2304, 121.4737, 500)

    with pytest.raises(SubmissionInvalid) as refused:
        set_school_position(session, district, school, "91", "west", "20", now=clock.now())
    assert field_errors(refused) == {
        "latitude": "Enter a latitude between -90 and 90.",
        "longitude": "Enter a longitude between -180 and 180.",
        "radius_m": "Enter a radius in whole metres between 50 and 5000.",
    }
    with pytest.raises(SubmissionInvalid) as refused:
        set_school_position(session, district, school, "31.2", "", "300", now=clock.now())
    assert field_errors(refused) == {"longitude": "Enter both the latitude and the longitude."}
    assert (school.latitude, school.radius_m) == (31.2304, 500)
    with pytest.raises(RegisterRefused):
        set_school_position(session, admin, school, "0", "0", "300", now=clock.now())

    set_school_position(
        session, district, school, "", "", "300", now=clock.now()
    )  # cleared: nothing flagged
    assert school.latitude is None and school.longitude is None


def test_the_phones_position_is_kept_only_when_believable() -> None:
    assert phone_position("31.23", "121.47", "14.2") == PhonePosition(31.23, 121.47, 15)
    assert phone_position("", "", "") is None
    assert phone_position(None, None, None) is None
    assert phone_position("95", "121.47", "10") is None
    assert phone_position("31.23", "nan", "10") is None
    assert phone_position("31.23", "121.47", "-1") is None


def test_a_record_filed_far_from_the_school_is_flagged_and_one_without_location_is_not(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session, "S1")
    school.latitude, school.longitude = SCHOOL
    desk = make_person(session, clock, school, username="desk")
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    assets = [
        make_asset(session, clock, school, code=f"MHQ-00{n}", name=f"灭火器{n}") for n in (1, 2, 3)
    ]
    for n, (asset, located) in enumerate(zip(assets, (NEAR, FAR, None), strict=True)):
        clock.set(AT + timedelta(minutes=5 * n))
        file_check(session, clock, store, desk, asset, f"where-000{n}", located=located)
    session.flush()

    ledger = build_ledger(
        session,
        admin,
        district=school.district,
        school=school,
        period=period_of(PeriodKind.MONTH, AT.date()),
        locale="zh_CN",
    )
    assert [(r.asset_code, r.flags) for r in ledger.rows] == [
        ("MHQ-001", ()),
        ("MHQ-002", ("提交位置距学校约 2.3 公里",)),
        ("MHQ-003", ()),
    ]
    flagged = build_ledger(
        session,
        admin,
        district=school.district,
        school=school,
        period=period_of(PeriodKind.MONTH, AT.date()),
        locale="en",
        filters=LedgerFilters(flagged=True),
    )
    assert [(r.asset_code, r.flags) for r in flagged.rows] == [
        ("MHQ-002", ("Submitted about 2.3 km from the school",))
    ]
    near, far, unknown = sorted(ledger_records(session, school), key=lambda r: r.asset.code)
    assert location_text(near, "zh_CN") == "距学校约 120 米（精度 15 米）"
    assert location_text(unknown, "zh_CN") == ""
    assert record_flags(session, near, locale="zh_CN") == []

    span = Span(AT.date().replace(day=1), AT.date().replace(day=31))
    [figures] = school_dashboard(session, [school], span, now=AT + timedelta(days=40)).schools
    assert figures.flagged == 1
    month = period_of(PeriodKind.MONTH, AT.date())
    scored = school_figures(
        session,
        [school],
        month,
        school.district,
        Scheme({"flags": 100}, {"A": 90}),
        AT + timedelta(days=40),
    )
    assert scored[school.id].counts["flags"] == (2, 3)
    lost = losses(session, school, month, AT + timedelta(days=40))["flags"]
    assert [loss.asset_code for loss in lost] == ["MHQ-002"]

    # A wider radius of the day applies to the records already kept.
    school.radius_m = 5000
    session.flush()
    assert record_flags(session, far, locale="zh_CN") == []


def ledger_records(session: Session, school):  # type: ignore[no-untyped-def]
    """The school's records."""
    from sqlalchemy import select

    from models.records import Record

    return list(session.scalars(select(Record).where(Record.school_id == school.id)))
