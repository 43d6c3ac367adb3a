"""The dashboard as administrators read it: the district's schools side by side, one school,
the unreported list, and nobody else's school."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.actions import CorrectiveAction
from models.assets import Asset
from models.clock import SettableClock
from models.org import School
from models.people import Person, Role
from tests.conftest import Auth
from tests.factories import make_asset, make_person, make_school, make_task

NOW = datetime(2026, 3, 20, 2, 0, tzinfo=UTC)  # 10:00 on Friday 20 March in Shanghai


@pytest.fixture
def district(session: Session, clock: SettableClock) -> None:
    """Two schools: the first did its check on time, the second missed one on 16 March."""
    one = make_school(session, "S1", "实验小学")
    two = make_school(session, "S2", "第二小学", district=one.district)
    make_person(session, clock, one, Role.SCHOOL_ADMIN, "admin")
    make_person(session, clock, one, Role.DISTRICT_ADMIN, "district")
    make_person(session, clock, one, Role.INSPECTOR, "inspector")
    first = make_asset(session, clock, one, code="MHQ-001", name="一楼灭火器")
    second = make_asset(session, clock, two, code="MHQ-101", name="食堂灭火器")
    make_task(session, first, datetime(2026, 3, 16, 9, tzinfo=UTC), "done", done_at=NOW)
    make_task(session, second, datetime(2026, 3, 16, 9, tzinfo=UTC), "missed")
    session.commit()
    clock.set(NOW)


def test_the_district_sees_every_school_with_links_and_charts(
    client: FlaskClient, auth: Auth, district: None
) -> None:
    auth.login("district")

    page = client.get("/dashboard").get_data(as_text=True)

    assert "实验小学" in page and "第二小学" in page
    assert 'href="/dashboard/unreported?school=S2&amp;days=30">1</a>' in page
    assert page.count("<svg") == 2 and "按学校比较" in page
    assert "0%（1）" in page  # the second school's on-time rate, as text beside its bar
    assert 'href="/dashboard"' in page  # the header's link


def test_the_unreported_list_names_school_duty_and_day(
    client: FlaskClient, auth: Auth, district: None
) -> None:
    auth.login("district")

    page = client.get("/dashboard/unreported?days=7").get_data(as_text=True)

    assert "2026-03-16" in page
    assert "第二小学" in page and "灭火器月度检查" in page and "食堂灭火器" in page
    assert "实验小学" not in page


def test_a_school_administrator_reads_only_their_school(
    client: FlaskClient, auth: Auth, district: None
) -> None:
    auth.login("admin")

    assert client.get("/dashboard").headers["Location"].endswith("/dashboard/schools/S1?days=30")
    school = client.get("/dashboard/schools/S1").get_data(as_text=True)
    assert "实验小学" in school and "按时完成" in school
    assert client.get("/dashboard/schools/S2").status_code == 404
    assert client.get("/dashboard/unreported?school=S2").status_code == 404
    assert client.get("/actions?all=1&school=S2").status_code == 404


def test_a_schools_open_actions_link_lists_that_school_only(
    client: FlaskClient, auth: Auth, session: Session, district: None
) -> None:
    for asset in session.scalars(select(Asset)):
        session.add(
            CorrectiveAction(
                school_id=asset.school_id,
                asset_id=asset.id,
                item_key="hose_clear",
                what={"zh_CN": f"{asset.name}喷管堵塞", "en": "Hose blocked"},
                severity="major",
                opened_at=NOW,
                due_at=NOW + timedelta(days=3),
            )
        )
    session.commit()
    auth.login("district")

    district_page = client.get("/dashboard").get_data(as_text=True)
    listed = client.get("/actions?all=1&school=S2").get_data(as_text=True)

    assert 'href="/actions?all=1&amp;school=S2">1</a>' in district_page
    assert "食堂灭火器喷管堵塞" in listed and "一楼灭火器喷管堵塞" not in listed


def test_staff_have_no_dashboard(client: FlaskClient, auth: Auth, district: None) -> None:
    auth.login("inspector")

    assert client.get("/dashboard").status_code == 404
    assert client.get("/dashboard/unreported").status_code == 404
    assert client.get("/dashboard/schools/S1").status_code == 404
    assert 'href="/dashboard"' not in client.get("/").get_data(as_text=True)


def test_a_school_where_nothing_fell_due_shows_a_dash_not_a_perfect_rate(
    client: FlaskClient, auth: Auth, district: None, session: Session
) -> None:
    first = session.scalars(select(School).where(School.code == "S1")).one()
    make_school(session, "S3", "新建学校", district=first.district)
    session.commit()
    auth.login("district")

    page = client.get("/dashboard").get_data(as_text=True)

    assert "新建学校" in page
    assert "—（0）" in page  # its bar in the comparison: no rate, nothing fell due
    assert "100%（0）" not in page


def test_overdue_and_missed_are_named_apart_and_the_period_reads_as_one_range(
    client: FlaskClient, auth: Auth, district: None, session: Session
) -> None:
    auth.login("district")

    zh = client.get("/dashboard").get_data(as_text=True)
    school = client.get("/dashboard/schools/S1").get_data(as_text=True)
    session.scalars(select(Person).where(Person.username == "district")).one().locale = "en"
    session.commit()
    en = client.get("/dashboard").get_data(as_text=True)

    for page in (zh, school):
        assert "当前逾期（仍可补报）" in page and "现在补报，计为逾期完成" in page
        assert "未上报（已错过）" in page and "现在补报也不再计入" in page
    assert "2026-02-19 至 2026-03-20" in zh
    assert "Overdue (can still be filed)" in en and "Missed (window closed)" in en
    assert "2026-02-19 – 2026-03-20" in en


def test_a_school_page_counts_the_papers_missing_and_links_to_the_people_register(
    client: FlaskClient, auth: Auth, district: None
) -> None:
    auth.login("admin")

    school = client.get("/dashboard/schools/S1").get_data(as_text=True)

    # No school insurance on file (three), no one yet needing a certificate.
    assert "缺少证照" in school
    assert '<a class="bad" href="/registers/S1?tab=people">3</a>' in school
