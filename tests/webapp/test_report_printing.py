"""The food-safety reports on paper: each daily record, weekly report and monthly minutes has an
A4 print page with no menus and a PDF from the same HTML, read back here line by line; a signed
report prints what was signed, with its signer, an unsigned one the live draft marked 草稿."""

from __future__ import annotations

import io
import re

import pytest
from flask.testing import FlaskClient
from pdfminer.high_level import extract_text
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.people import Person, Role
from models.photos import PhotoStore
from tests.conftest import Auth, csrf_token
from tests.factories import CanteenMonth, cst, make_person

WEEK = "/reports/S1/food-safety/weekly/2026-03-02"
MONTH = "/reports/S1/food-safety/monthly/2026-03-01"
DAY = "/reports/S1/food-safety/day/2026-03-04"


@pytest.fixture
def month(session: Session, clock: SettableClock, store: PhotoStore) -> CanteenMonth:
    world = CanteenMonth(session, clock, store)
    world.live_through(9)
    clock.set(cst(9, 10))
    session.commit()
    return world


@pytest.fixture
def officer(session: Session, clock: SettableClock, month: CanteenMonth) -> Person:
    person = make_person(session, clock, month.school, Role.FOOD_SAFETY_OFFICER, "officer")
    session.commit()
    return person


def _pdf_text(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    return extract_text(io.BytesIO(response.data))


def _sign(client: FlaskClient, url: str, notes: str) -> None:
    page = client.get(url).get_data(as_text=True)
    signed = client.post(
        url, data={"csrf_token": csrf_token(page), "notes": notes, "do": "sign", "confirm": "yes"}
    )
    assert signed.status_code == 302


def test_each_report_page_links_its_print_page_and_its_pdf(
    client: FlaskClient, auth: Auth, month: CanteenMonth
) -> None:
    auth.login("admin")

    for url in (WEEK, MONTH, DAY):
        page = client.get(url).get_data(as_text=True)
        assert f'href="{url}/print">打印</a>' in page, url
        assert f'href="{url}/pdf">PDF</a>' in page, url


def test_the_unsigned_week_prints_as_a_draft_on_a4_with_its_signature_lines(
    client: FlaskClient, auth: Auth, month: CanteenMonth, officer: Person
) -> None:
    auth.login("officer")

    page = client.get(f"{WEEK}/print").get_data(as_text=True)
    text = _pdf_text(client, f"{WEEK}/pdf")

    assert "size:A4" in page and "counter(page)" in page
    assert "<nav" not in page and "<form" not in page and "退出" not in page
    assert "<h1>实验小学 · 每周食品安全排查治理报告 · 2026-03-02 至 2026-03-08</h1>" in page
    for seen in (
        "实验小学 · 每周食品安全排查治理报告 · 2026-03-02 至 2026-03-08",
        "草稿",
        "食堂从业人员晨检",
        "餐具消毒记录",
        "2026-03-04",
        "填表人：",
        "食品安全员：",
    ):
        assert seen in text, seen
    assert "校长" not in text  # the officer signs the week, not the head
    assert re.search(r"\b1 / \d+\b", text), "no page numbers"


def test_the_signed_week_prints_what_was_signed_with_the_officer_and_the_time(
    client: FlaskClient, auth: Auth, month: CanteenMonth, officer: Person
) -> None:
    auth.login("officer")
    _sign(client, WEEK, "晨检漏检已提醒，专人负责")

    page = client.get(f"{WEEK}/print").get_data(as_text=True)
    text = _pdf_text(client, f"{WEEK}/pdf")

    assert "草稿" not in page and "草稿" not in text
    assert "食品安全员：Officer · 2026-03-09 10:00" in text
    assert "晨检漏检已提醒，专人负责" in text
    assert "已签字" in text


def test_the_signed_minutes_print_the_weeks_as_they_stood_when_signed(
    client: FlaskClient,
    auth: Auth,
    session: Session,
    clock: SettableClock,
    month: CanteenMonth,
    officer: Person,
) -> None:
    month.live_through(31, first_day=10)
    clock.set(cst(1, 10, month=4))
    session.commit()
    auth.login("admin")
    _sign(client, MONTH, "下月起晨检由专人复核")
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})
    auth.login("officer")
    _sign(client, "/reports/S1/food-safety/weekly/2026-03-23", "")

    text = _pdf_text(client, f"{MONTH}/pdf")
    live = client.get(MONTH).get_data(as_text=True)

    for seen in (
        "实验小学 · 每月食品安全调度会议纪要 · 2026-03-01 至 2026-03-31",
        "填表人：",
        "食品安全员：",
        "校长：Admin · 2026-04-01 10:00",
        "下月起晨检由专人复核",
        "2026-03-23 至 2026-03-29 · 逾期未签字",  # as it was when the head signed
    ):
        assert seen in text, seen
    assert "草稿" not in text
    assert "逾期未签字" in live  # the screen shows what was signed too


def test_the_days_record_prints_its_checks_and_its_signature_lines(
    client: FlaskClient, auth: Auth, month: CanteenMonth
) -> None:
    auth.login("admin")

    page = client.get(f"{DAY}/print").get_data(as_text=True)
    text = _pdf_text(client, f"{DAY}/pdf")

    assert "<nav" not in page and "size:A4" in page
    for seen in (
        "实验小学 · 每日食品安全检查记录 · 2026-03-04",
        "未完成：食堂从业人员晨检",
        "餐具消毒记录",
        "Cook",
        "13:40",
        "填表人：",
        "食品安全员：",
    ):
        assert seen in text, seen
    assert "草稿" not in text  # the day is over


def test_another_schools_reader_gets_no_print_page_and_no_pdf(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, month: CanteenMonth
) -> None:
    from tests.factories import make_school

    other = make_school(session, "S2", "第二小学", district=month.school.district)
    make_person(session, clock, other, Role.SCHOOL_ADMIN, "stranger")
    session.commit()
    auth.login("stranger")

    for url in (WEEK, MONTH, DAY):
        assert client.get(f"{url}/print").status_code == 404
        assert client.get(f"{url}/pdf").status_code == 404
    assert client.get("/reports/S1/food-safety/weekly/2026-03-03/print").status_code == 404
