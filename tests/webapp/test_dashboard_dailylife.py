"""A school's dashboard shows its milk subscription rate by month and its energy use by month,
beside the same month a year before; the district's adds the schools up."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models.assets import AssetKind
from models.clock import SettableClock
from models.people import Role
from models.photos import PhotoStore
from models.records import Channel, Upload, submit_record
from tests.conftest import Auth
from tests.factories import jpeg_bytes, make_asset, make_person, make_school, template_for

NOW = datetime(2026, 3, 20, 2, 0, tzinfo=UTC)


def _file(session, clock, store, person, asset, key, answers, uploads, day: date, n: int) -> None:
    clock.set(datetime(day.year, day.month, day.day, 2, tzinfo=UTC))
    submit_record(
        session,
        actor=person,
        asset=asset,
        template=template_for(session, key),
        answers=answers,
        uploads=uploads,
        key=f"dailylife-{n:04d}",
        channel=Channel.WEB,
        clock=clock,
        store=store,
    )


@pytest.fixture
def school_with_milk_and_meters(session: Session, clock: SettableClock, store: PhotoStore) -> None:
    school = make_school(session, "S1", "实验小学")
    other = make_school(session, "S2", "第二小学", district=school.district)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    make_person(session, clock, school, Role.DISTRICT_ADMIN, "district")
    office = make_asset(session, clock, school, AssetKind.SCHOOL_OFFICE, "HQ-01", "后勤办公室")
    meter = make_asset(
        session, clock, school, AssetKind.METER, "DB-01", "教学楼总电表", meter_type="electricity"
    )
    other_admin = make_person(session, clock, other, Role.SCHOOL_ADMIN, "admin2")
    other_office = make_asset(session, clock, other, AssetKind.SCHOOL_OFFICE, "HQ-02", "办公室")
    photo = [Upload("meter_photo", jpeg_bytes((400, 300)))]
    n = 0
    for day, reading in (
        (date(2025, 2, 1), 0),
        (date(2025, 3, 1), 280),  # February 2025: 280 kWh
        (date(2026, 2, 1), 1000),
        (date(2026, 3, 1), 1336),  # February 2026: 336 kWh, 20 % up
    ):
        n += 1
        answers = {"reading": str(reading), "read_on": day.isoformat(), "abnormal": "no"}
        _file(session, clock, store, admin, meter, "meter_reading", answers, photo, day, n)
    for who, where, name, students, subscribed in (
        (admin, office, "三年级二班", 40, 30),
        (other_admin, other_office, "一年级一班", 50, 20),
    ):
        n += 1
        day = date(2026, 3, 2)
        answers = {
            "class_name": name,
            "students": str(students),
            "subscribed": str(subscribed),
            "counted_on": day.isoformat(),
        }
        _file(session, clock, store, who, where, "milk_subscription", answers, [], day, n)
    session.commit()
    clock.set(NOW)


def test_the_school_page_shows_the_milk_rate_per_class_and_energy_beside_last_year(
    client: FlaskClient, auth: Auth, school_with_milk_and_meters: None
) -> None:
    auth.login("admin")

    page = client.get("/dashboard/schools/S1").get_data(as_text=True)

    assert "每月订奶率" in page and "三年级二班" in page and "全校" in page
    assert '75% <span class="muted">30/40</span>' in page
    assert "每月能耗" in page and "DB-01 教学楼总电表" in page
    assert ">336<" in page  # February's use, in the table and above its bar
    assert "+20%" in page  # (336 − 280) / 280
    assert "每月用量（度），与去年同月对比" in page


def test_the_districts_milk_and_energy_page_adds_up_the_schools(
    client: FlaskClient, auth: Auth, school_with_milk_and_meters: None
) -> None:
    auth.login("district")

    board = client.get("/dashboard").get_data(as_text=True)
    page = client.get("/dashboard/milk-and-energy").get_data(as_text=True)

    assert 'href="/dashboard/milk-and-energy"' in board

    # (30 + 20) of (40 + 50) = 55.6 %: 56 %.
    assert '56% <span class="muted">50/90</span>' in page
    assert '40% <span class="muted">20/50</span>' in page
    assert "+20%" in page
