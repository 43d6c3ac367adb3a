"""Who signs the food-safety reports on the web, and the phone walk's fixes: the officer signs
the week, the head the month, each page shows the form only to its signer and only once its
period has begun; a week across two months is listed under both; one form of date range."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.people import Person, Role
from models.photos import PhotoStore
from tests.conftest import Auth, csrf_token
from tests.factories import CanteenMonth, cst, make_person

WEEK = "/reports/S1/food-safety/weekly/2026-03-02"
MONTH = "/reports/S1/food-safety/monthly/2026-03-01"


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


def _post(client: FlaskClient, url: str, **data: str) -> tuple[int, str]:
    page = client.get(url).get_data(as_text=True)
    response = client.post(url, data={"csrf_token": csrf_token(page), **data})
    return response.status_code, response.get_data(as_text=True)


def _log_out(client: FlaskClient) -> None:
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})


def test_the_officer_signs_the_week_and_the_head_is_told_who_does(
    client: FlaskClient, auth: Auth, month: CanteenMonth, officer: Person
) -> None:
    auth.login("admin")
    page = client.get(WEEK).get_data(as_text=True)
    assert "<textarea" not in page
    assert "每周排查治理报告由本校食品安全员填写并签字：Officer。" in page
    status, refused = _post(client, WEEK, notes="x", do="sign", confirm="yes")
    assert status == 422
    assert "每周排查治理报告由本校食品安全员填写并签字：Officer。" in refused
    _log_out(client)

    auth.login("officer")
    assert "<textarea" in client.get(WEEK).get_data(as_text=True)
    status, _ = _post(client, WEEK, notes="晨检漏检已提醒", do="sign", confirm="yes")
    assert status == 302
    assert "签字人 Officer · 2026-03-09 10:00" in client.get(WEEK).get_data(as_text=True)


def test_the_head_signs_the_minutes_and_the_officer_gets_no_form_there(
    client: FlaskClient,
    auth: Auth,
    session: Session,
    clock: SettableClock,
    month: CanteenMonth,
    officer: Person,
) -> None:
    clock.set(cst(1, 10, month=4))
    auth.login("officer")
    assert "<textarea" not in client.get(MONTH).get_data(as_text=True)
    status, refused = _post(client, MONTH, notes="", do="sign", confirm="yes")
    assert status == 422 and "月度调度会议纪要由校长填写并签字：Admin。" in refused
    _log_out(client)

    auth.login("admin")
    status, _ = _post(client, MONTH, notes="下月起晨检由专人复核", do="sign", confirm="yes")
    assert status == 302
    assert "签字人 Admin · 2026-04-01 10:00" in client.get(MONTH).get_data(as_text=True)


def test_a_week_not_begun_shows_no_form_and_keeps_no_notes(
    client: FlaskClient, auth: Auth, month: CanteenMonth
) -> None:
    auth.login("admin")  # the school has no officer: its administrator writes the week
    later = "/reports/S1/food-safety/weekly/2026-03-16"

    page = client.get(later).get_data(as_text=True)
    status, refused = _post(client, later, notes="提前写好", do="save")

    assert "<textarea" not in page and "本期尚未开始，开始后再填写。" in page
    assert status == 422 and "本期尚未开始，开始后再填写。" in refused
    assert "提前写好" not in client.get(later).get_data(as_text=True)
    # The week under way is written in, not signed.
    current = "/reports/S1/food-safety/weekly/2026-03-09"
    assert "<textarea" in client.get(current).get_data(as_text=True)


def test_a_week_across_two_months_is_listed_under_both_with_one_form_of_range(
    client: FlaskClient, auth: Auth, month: CanteenMonth
) -> None:
    auth.login("admin")
    across = "每周食品安全排查治理报告 2026-03-30 至 2026-04-05"

    march = client.get("/reports/S1/food-safety?month=2026-03").get_data(as_text=True)
    april = client.get("/reports/S1/food-safety?month=2026-04").get_data(as_text=True)
    minutes = client.get(MONTH).get_data(as_text=True)

    assert across in march and across in april
    assert "2026-02-23" not in march  # before the canteen opened: nothing is owed
    assert ">2026-03-30 至 2026-04-05</a>" in minutes
    for page in (march, minutes):
        assert " – " not in page and " — " not in page


def test_date_ranges_read_with_a_dash_in_english(
    client: FlaskClient, auth: Auth, session: Session, month: CanteenMonth
) -> None:
    month.admin.locale = "en"
    session.commit()
    auth.login("admin")

    listed = client.get("/reports/S1/food-safety?month=2026-03").get_data(as_text=True)
    week = client.get(WEEK).get_data(as_text=True)

    assert "2026-03-02 – 2026-03-08" in listed and "至" not in listed
    assert "2026-03-02 – 2026-03-08" in week


def test_a_school_administrator_names_a_food_safety_officer_on_the_person_page(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, month: CanteenMonth
) -> None:
    teacher = make_person(session, clock, month.school, Role.TEACHER, "teacher")
    session.commit()
    auth.login("admin")
    url = f"/admin/S1/people/{teacher.id}"

    page = client.get(url).get_data(as_text=True)
    status, _ = _post(client, url, do="grant", role="food_safety_officer")

    assert 'value="food_safety_officer"' in page and "食品安全员" in page
    assert status == 302
    session.expire_all()
    assert {g.role for g in teacher.grants} == {Role.TEACHER, Role.FOOD_SAFETY_OFFICER}


def test_the_officer_reads_the_schools_reports_and_ledger_like_an_inspector(
    client: FlaskClient, auth: Auth, month: CanteenMonth, officer: Person
) -> None:
    auth.login("officer")

    home = client.get("/").get_data(as_text=True)

    assert 'href="/reports/S1/food-safety"' in home and 'href="/ledger/S1"' in home
    assert 'href="/admin/S1"' not in home  # reads, does not manage the school
    for url in ("/reports/S1/food-safety", "/ledger/S1", MONTH, f"{MONTH}/print"):
        assert client.get(url).status_code == 200, url


def test_signing_without_ticking_the_confirmation_signs_nothing_and_keeps_the_notes(
    client: FlaskClient, auth: Auth, month: CanteenMonth, officer: Person
) -> None:
    auth.login("officer")
    page = client.get(WEEK).get_data(as_text=True)
    assert 'type="checkbox" name="confirm" value="yes"' in page

    status, refused = _post(client, WEEK, notes="晨检漏检已提醒", do="sign")

    assert status == 422
    assert "请勾选确认后再签字。" in refused and "晨检漏检已提醒</textarea>" in refused
    assert "签字人 Officer" not in client.get(WEEK).get_data(as_text=True)
    status, _ = _post(client, WEEK, notes="晨检漏检已提醒", do="save")
    assert status == 302  # saving needs no confirmation


def test_a_report_signed_after_its_deadline_reads_signed_late_with_the_day(
    client: FlaskClient, auth: Auth, clock: SettableClock, month: CanteenMonth, officer: Person
) -> None:
    clock.set(cst(20, 10))
    auth.login("officer")
    status, _ = _post(client, WEEK, notes="晨检漏检已提醒", do="sign", confirm="yes")
    _log_out(client)
    auth.login("admin")

    report = client.get(WEEK).get_data(as_text=True)
    table = client.get("/reports/status?month=2026-03").get_data(as_text=True)

    assert status == 302
    assert "逾期签字（2026-03-20）" in report
    assert "逾期签字（2026-03-20）" in table
