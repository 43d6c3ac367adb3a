"""The score pages: the district's ranking, a school's breakdown, the versioned weights and
the yearly Excel, each shown only to those who may see it."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import openpyxl
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.duties import CalendarKind, Task, add_calendar_entry
from models.org import School
from models.people import Person, Role
from models.published_scores import PublishedScore
from models.score import INDICATORS, ScoreScheme
from tests.conftest import Auth, csrf_token
from tests.factories import (
    make_asset,
    make_district_admin,
    make_person,
    make_record_row,
    make_school,
    make_task,
)


def _district(session: Session, clock: SettableClock) -> None:
    first = make_school(session, "S1", "实验小学")
    second = make_school(session, "S2", "第二小学", district=first.district)
    # One check done at each school, so both have data to be ranked on.
    for school in (first, second):
        asset = make_asset(session, clock, school, code=f"MHQ-{school.code}", name="灭火器")
        due = datetime(2026, 1, 5, 9, tzinfo=UTC)
        make_task(session, asset, due, "done", done_at=due)
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


def test_a_mistyped_scheme_is_refused_next_to_each_field_and_keeps_what_was_typed(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _district(session, clock)
    auth.login("district")
    page = client.get("/score/scheme").get_data(as_text=True)
    form = {
        "csrf_token": csrf_token(page),
        **{f"weight_{k}": "10" for k in INDICATORS},
        "band_A": "85",
        "band_B": "70",
        "band_C": "60",
        "drill_every_days": "180",
    }

    mistyped = client.post("/score/scheme", data={**form, "weight_trips": "5.5"})
    too_long = client.post("/score/scheme", data={**form, "drill_every_days": "9" * 40})

    assert mistyped.status_code == 422
    trips = mistyped.get_data(as_text=True).split('for="weight_trips"')[1].split("</fieldset>")[0]
    assert 'value="5.5"' in trips and "请输入整数。" in trips
    assert too_long.status_code == 422
    drill = too_long.get_data(as_text=True).split('for="drill_every_days"')[1]
    assert 'aria-invalid="true"' in drill.split("</fieldset>")[0]
    session.expire_all()
    assert session.scalars(select(ScoreScheme)).all() == []


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


FEBRUARY = "period=month&on=2026-02-01"


def _february(session: Session, clock: SettableClock) -> dict[str, int]:
    """S1 with an extinguisher: two checks done, one missed, one record flagged (the same photo
    as another); S2 with nothing at all."""
    first = make_school(session, "S1", "实验小学")
    make_school(session, "S2", "第二小学", district=first.district)
    district = make_district_admin(session, clock, first)
    make_person(session, clock, first, Role.SCHOOL_ADMIN, "admin1")
    extinguisher = make_asset(session, clock, first, code="MHQ-001", name="一楼灭火器")
    for day in (2, 3):
        due = datetime(2026, 2, day, 9, tzinfo=UTC)
        make_task(session, extinguisher, due, "done", done_at=due)
    missed = make_task(session, extinguisher, datetime(2026, 2, 4, 9, tzinfo=UTC), "missed")
    original = make_record_row(session, extinguisher, district, datetime(2026, 2, 2, 8, tzinfo=UTC))
    copy = make_record_row(
        session, extinguisher, district, datetime(2026, 2, 3, 8, tzinfo=UTC), same_photo_as=original
    )
    session.commit()
    return {"missed": missed.id, "copy": copy.id, "asset": extinguisher.id}


def test_a_school_with_nothing_to_measure_is_listed_after_the_ranked_as_no_data(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _february(session, clock)
    session.add(
        ScoreScheme(
            district_id=session.scalars(select(School.district_id)).first(),
            version=1,
            weights={"on_time": 50, "flags": 50},
            bands={"A": 90, "B": 75, "C": 60},
            drill_every_days=180,
            created_at=clock.now(),
        )
    )
    session.commit()
    auth.login("district")

    ranking = client.get(f"/score?{FEBRUARY}").get_data(as_text=True)
    idle = client.get(f"/score/S2?{FEBRUARY}").get_data(as_text=True)

    # S1: 2 of 3 on time (50 × 2/3 = 33.33) and 1 of 2 records unflagged (25): 58.3
    listed = ranking[ranking.index('id="ranking"') :]
    assert listed.index("实验小学") < listed.index("无数据") < listed.index("第二小学")
    assert "58.3" in listed and "第1名" in listed and "第2名" not in listed
    assert "—（无数据）" in idle and "不参加排名" in idle
    assert "没有可计量内容的指标" in ranking


def test_what_lost_points_names_the_asset_the_checklist_and_the_time(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    ids = _february(session, clock)
    auth.login("district")

    page = client.get(f"/score/S1?{FEBRUARY}").get_data(as_text=True)

    # The missed check (due 17:00 Shanghai) links to the asset; the flagged record to itself.
    assert "漏检（应于2026-02-04 17:00完成）：MHQ-001 一楼灭火器 · 灭火器月度检查" in page
    assert f'href="/admin/S1/assets/{ids["asset"]}"' in page
    assert "2026-02-03 16:00的记录：MHQ-001 一楼灭火器 · 灭火器月度检查" in page
    assert f'href="/records/{ids["copy"]}"' in page


def test_a_published_score_stays_when_records_change_and_the_page_says_so(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    ids = _february(session, clock)
    auth.login("district")
    live = client.get(f"/score?{FEBRUARY}").get_data(as_text=True)
    assert "实时，未发布" in live

    published = client.post(
        f"/score/publish?{FEBRUARY}",
        data={"csrf_token": csrf_token(live), "confirm": "yes"},
        follow_redirects=True,
    ).get_data(as_text=True)
    before = client.get(f"/score/S1?{FEBRUARY}").get_data(as_text=True)
    task = session.get(Task, ids["missed"])
    assert task is not None
    task.state, task.done_at = "done", task.due_at
    session.commit()
    after = client.get(f"/score/S1?{FEBRUARY}").get_data(as_text=True)
    now_live = client.get(f"/score/S1?{FEBRUARY}&live=1").get_data(as_text=True)

    assert "已发布：这些评分从此固定" in published
    assert "已发布于 2026-03-02 08:30（" in published and "发布记录" in published
    assert _total(before) == _total(after) != _total(now_live)
    assert "已发布于" in after and "实时，未发布" in now_live
    again = client.post(
        f"/score/publish?{FEBRUARY}&live=1",
        data={"csrf_token": csrf_token(now_live), "confirm": "yes"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert again.count("已发布于 2026-03-02 08:30") == 3  # the status and two in the history
    assert _total(client.get(f"/score/S1?{FEBRUARY}").get_data(as_text=True)) == _total(now_live)


def test_only_the_district_publishes(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _february(session, clock)
    auth.login("admin1")
    page = client.get(f"/score/S1?{FEBRUARY}").get_data(as_text=True)

    response = client.post(
        f"/score/publish?{FEBRUARY}", data={"csrf_token": csrf_token(page), "confirm": "yes"}
    )

    assert response.status_code == 404
    assert session.scalars(select(PublishedScore)).all() == []


def test_the_yearly_export_uses_the_published_year_and_says_so(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    ids = _february(session, clock)
    auth.login("district")
    page = client.get("/score?period=year&on=2026-01-01").get_data(as_text=True)
    client.post(
        "/score/publish?period=year&on=2026-01-01",
        data={"csrf_token": csrf_token(page), "confirm": "yes"},
    )
    task = session.get(Task, ids["missed"])
    assert task is not None
    task.state, task.done_at = "done", task.due_at
    session.commit()

    rows = _sheet(client.get("/score/2026.xlsx").data)
    live = _sheet(client.get("/score/2026.xlsx?live=1").data)

    school = next(row for row in rows if row[1] == "S1")
    assert school[0] == 1 and school[3] != next(row for row in live if row[1] == "S1")[3]
    assert rows[-1][0] == "评分" and str(rows[-1][1]).startswith("已发布于 2026-03-02 08:30")
    assert live[-1][1] == "实时，未发布"
    # S2 has nothing of its own (it owes insurance and a drill, as every school does): no data.
    other = next(row for row in rows if row[1] == "S2")
    assert other[:5] == ("无数据", "S2", "第二小学", "无数据", None) and rows.index(other) == 2


def test_the_dashboard_shows_each_schools_score_linking_to_its_breakdown(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _february(session, clock)
    auth.login("district")
    days = "period=range&from=2026-02-01&to=2026-03-02"  # the dashboard's last 30 days

    district = client.get("/dashboard").get_data(as_text=True)
    school = client.get("/dashboard/schools/S1").get_data(as_text=True)
    breakdown = client.get(f"/score/S1?{days}").get_data(as_text=True)

    # Live over the dashboard's days, the same figure as the breakdown it links to.
    assert "评分（实时）" in district and "评分：本页时段的实时结果。" in district
    link = f'href="/score/S1?{days.replace("&", "&amp;")}">{_total(breakdown)}</a>'
    assert link in district and link in school
    assert 'href="/score/S2?period=range&amp;from=2026-02-01&amp;to=2026-03-02">—</a>' in district

    page = client.get("/score").get_data(as_text=True)  # the year 2026: no term in the calendar
    client.post("/score/publish", data={"csrf_token": csrf_token(page), "confirm": "yes"})
    published = client.get("/dashboard").get_data(as_text=True)

    assert "评分（已发布）" in published and "评分：2026年已发布的结果。" in published
    assert 'href="/score/S1?period=year&amp;on=2026-01-01"' in published


def _total(page: str) -> str:
    """The score's figure on a school's page."""
    start = page.index('<p class="ok">', page.index('id="total"')) + len('<p class="ok">')
    return page[start : page.index(" ", start)]


def _sheet(data: bytes) -> list[tuple[object, ...]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    return list(sheet.iter_rows(values_only=True))


def test_in_an_autumn_term_the_yearly_export_offered_is_the_year_it_began(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _district(session, clock)
    district = session.scalars(select(Person).where(Person.username == "district")).one()
    add_calendar_entry(
        session,
        district,
        district.grants[0].district_id,
        kind=CalendarKind.TERM,
        starts_on=date(2026, 9, 1),
        ends_on=date(2027, 1, 22),
        name="2026—2027学年第一学期",
        now=clock.now(),
    )
    session.commit()
    clock.set(datetime(2026, 12, 2, 2, tzinfo=UTC))
    auth.login("district")

    ranking = client.get("/score").get_data(as_text=True)

    assert 'href="/score/2026.xlsx"' in ranking and "2027.xlsx" not in ranking


def test_publishing_asks_for_a_ticked_confirmation_and_without_it_publishes_nothing(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _february(session, clock)
    auth.login("district")
    live = client.get(f"/score?{FEBRUARY}").get_data(as_text=True)

    refused = client.post(
        f"/score/publish?{FEBRUARY}", data={"csrf_token": csrf_token(live)}, follow_redirects=True
    ).get_data(as_text=True)

    assert 'type="checkbox" name="confirm" value="yes" required' in live
    assert "请勾选确认后再发布评分。" in refused and "实时，未发布" in refused
    assert session.scalars(select(PublishedScore)).all() == []


def test_a_bad_date_on_the_score_page_is_named_next_to_its_field(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _february(session, clock)
    auth.login("district")

    page = client.get("/score?period=month&on=2026-02-30").get_data(as_text=True)
    school = client.get("/score/S1?period=month&on=nonsense").get_data(as_text=True)
    good = client.get(f"/score?{FEBRUARY}").get_data(as_text=True)

    for shown in (page, school):
        field = shown[shown.index('id="on"') :]
        assert field.index("不是日期") < field.index("</form>")
    assert 'id="on-error"' not in good
