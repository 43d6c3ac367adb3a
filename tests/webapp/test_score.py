"""The score pages: the district's ranking, a school's breakdown, the versioned weights and
the yearly Excel, each shown only to those who may see it."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.duties import CalendarKind, add_calendar_entry
from models.people import Person, Role
from models.score import ScoreScheme
from tests.conftest import Auth, csrf_token
from tests.factories import make_district_admin, make_person, make_school


def _district(session: Session, clock: SettableClock) -> None:
    first = make_school(session, "S1", "实验小学")
    second = make_school(session, "S2", "第二小学", district=first.district)
    make_district_admin(session, clock, first)
    make_person(session, clock, first, Role.SCHOOL_ADMIN, "admin1")
    make_person(session, clock, first, Role.TEACHER, "teacher")
    make_person(session, clock, second, Role.SCHOOL_ADMIN, "admin2")
    session.commit()


def test_the_district_sees_every_school_ranked_and_each_breakdown(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _district(session, clock)
    auth.login("district")

    ranking = client.get("/score").get_data(as_text=True)
    breakdown = client.get("/score/S2").get_data(as_text=True)

    assert "实验小学" in ranking and "第二小学" in ranking
    assert "第1名" in ranking
    assert "按时完成任务" in breakdown and "权重" in breakdown


def test_a_school_administrator_sees_only_their_own_school(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _district(session, clock)
    auth.login("admin1")

    assert client.get("/score").headers["Location"].endswith("/score/S1")
    assert client.get("/score/S1").status_code == 200
    assert client.get("/score/S2").status_code == 404
    assert client.get("/score/scheme").status_code == 404
    assert client.get("/score/2026.xlsx").status_code == 404


def test_a_teacher_sees_no_score(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _district(session, clock)
    auth.login("teacher")

    assert client.get("/score").status_code == 404
    assert client.get("/score/S1").status_code == 404


def test_saving_the_weights_makes_a_new_version(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _district(session, clock)
    auth.login("district")
    page = client.get("/score/scheme").get_data(as_text=True)
    form = {
        "csrf_token": csrf_token(page),
        "weight_on_time": "50",
        "weight_actions_fixed": "10",
        "weight_certificates": "10",
        "weight_insurance": "10",
        "weight_drills": "10",
        "weight_trips": "5",
        "weight_flags": "5",
        "weight_reports_signed": "0",
        "band_A": "85",
        "band_B": "70",
        "band_C": "60",
        "drill_every_days": "180",
    }

    saved = client.post("/score/scheme", data=form, follow_redirects=True)
    refused = client.post(
        "/score/scheme", data={**form, "band_A": "50"}, follow_redirects=True
    ).get_data(as_text=True)

    assert "已保存为第1版" in saved.get_data(as_text=True)
    assert "等级线须从A到C递减" in refused
    session.expire_all()
    schemes = session.scalars(select(ScoreScheme)).all()
    assert [(s.version, s.weights["on_time"], s.bands["A"]) for s in schemes] == [(1, 50, 85)]


def test_the_yearly_export_lists_every_school_with_its_rank(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _district(session, clock)
    auth.login("district")

    response = client.get("/score/2026.xlsx")

    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("名次", "学校代码", "学校", "评分", "等级")
    assert sorted(row[1] for row in rows[1:3]) == ["S1", "S2"]


def test_the_score_is_for_the_term_of_the_district_calendar_and_else_the_year(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _district(session, clock)
    auth.login("district")
    without_term = client.get("/score").get_data(as_text=True)
    district = session.scalars(select(Person).where(Person.username == "district")).one()
    add_calendar_entry(
        session,
        district,
        district.grants[0].district_id,
        kind=CalendarKind.TERM,
        starts_on=date(2026, 2, 23),
        ends_on=date(2026, 7, 10),
        name="2025—2026学年第二学期",
        now=clock.now(),
    )
    session.commit()

    with_term = client.get("/score").get_data(as_text=True)
    chosen = client.get("/score?period=range&from=2026-03-01&to=2026-03-31").get_data(as_text=True)

    year = clock.now().year
    assert f"{year}-01-01" in without_term and f"{year}-12-31" in without_term
    assert "2026-02-23" in with_term and "2026-07-10" in with_term
    # The year's export names the year it holds, the one the shown period ends in.
    assert f"下载{year}年全年评分（Excel）" in without_term
    assert "下载2026年全年评分（Excel）" in with_term
    assert "2026-03-01" in chosen and "2026-03-31" in chosen
