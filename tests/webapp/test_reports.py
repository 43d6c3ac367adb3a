"""The food-safety reports in the browser's terms: the month's list, a day's record, the
week's report with every line linking to its record, signing it, and other schools kept out."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.people import Role
from models.photos import PhotoStore
from tests.conftest import Auth, csrf_token
from tests.factories import CanteenMonth, cst, make_district_admin, make_person, make_school

WEEK = "/reports/S1/food-safety/weekly/2026-03-02"


@pytest.fixture
def month(session: Session, clock: SettableClock, store: PhotoStore) -> CanteenMonth:
    world = CanteenMonth(session, clock, store)
    world.live_through(9)
    clock.set(cst(9, 10))
    session.commit()
    return world


def test_the_head_reads_the_month_a_day_and_the_week_each_line_linked_to_its_record(
    client: FlaskClient, auth: Auth, month: CanteenMonth
) -> None:
    auth.login("admin")

    listed = client.get("/reports/S1/food-safety?month=2026-03").get_data(as_text=True)
    assert "每月食品安全调度会议纪要 2026-03-01 至 2026-03-31" in listed
    assert "每周食品安全排查治理报告 2026-03-02 至 2026-03-08" in listed
    assert "待签字" in listed
    assert "市场监管总局令第60号" in listed

    monday = client.get("/reports/S1/food-safety/day/2026-03-02").get_data(as_text=True)
    assert "每日食品安全检查记录" in monday and "未发现食品安全风险（零风险）" in monday
    wednesday = client.get("/reports/S1/food-safety/day/2026-03-04").get_data(as_text=True)
    assert "未完成：食堂从业人员晨检" in wednesday

    week = client.get(WEEK).get_data(as_text=True)
    assert "每周食品安全排查治理报告" in week
    assert "@media print" in week
    links = re.findall(r'href="/records/(\d+)"', week)
    assert len(links) == 9  # five tableware checks and four morning checks, each its record
    for record_id in set(links):
        assert client.get(f"/records/{record_id}").status_code == 200
    missed = '<a href="/reports/S1/food-safety/day/2026-03-04">2026-03-04</a>：食堂从业人员晨检'
    assert missed in week


def test_the_head_signs_the_week_and_it_then_reads_as_signed_with_no_form(
    client: FlaskClient, auth: Auth, month: CanteenMonth
) -> None:
    auth.login("admin")
    page = client.get(WEEK).get_data(as_text=True)

    response = client.post(
        WEEK,
        data={
            "csrf_token": csrf_token(page),
            "notes": "晨检漏检已提醒",
            "do": "sign",
            "confirm": "yes",
        },
    )

    assert response.status_code == 302
    signed = client.get(WEEK).get_data(as_text=True)
    assert "已签字" in signed and "签字人 Admin · 2026-03-09 10:00" in signed
    assert "晨检漏检已提醒" in signed
    assert "<textarea" not in signed


def test_a_post_without_its_csrf_token_is_refused(
    client: FlaskClient, auth: Auth, month: CanteenMonth
) -> None:
    auth.login("admin")

    assert client.post(WEEK, data={"notes": "x", "do": "sign"}).status_code == 400


def test_another_schools_head_gets_404_and_the_district_reads_but_cannot_sign(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, month: CanteenMonth
) -> None:
    other = make_school(session, "S2", "第二小学", district=month.school.district)
    make_person(session, clock, other, Role.SCHOOL_ADMIN, "stranger")
    make_district_admin(session, clock, month.school)
    session.commit()

    auth.login("stranger")
    for url in ("/reports/S1/food-safety", "/reports/S1/food-safety/day/2026-03-02", WEEK):
        assert client.get(url).status_code == 404

    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})
    auth.login("district")
    page = client.get(WEEK)
    assert page.status_code == 200 and "<textarea" not in page.get_data(as_text=True)
    refused = client.post(
        WEEK,
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "do": "sign",
            "confirm": "yes",
        },
    )
    assert refused.status_code == 422
