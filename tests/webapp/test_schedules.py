"""Tasks, schedules and the school calendar in the web app."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from models.clock import SettableClock
from models.duties import CalendarEntry, Duty, Task
from models.org import School
from models.people import Role
from models.sweep import sweep
from tests.conftest import Auth, csrf_token
from tests.factories import EXTINGUISHER_OK, jpeg_bytes, make_asset, make_person, make_school
from tests.webapp.helpers import submit_form


@pytest.fixture
def school(session: Session, clock: SettableClock) -> School:
    school = make_school(session, "SY01", "实验小学")
    staff = make_person(session, clock, school, Role.INSPECTOR, "staff")
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    make_person(session, clock, school, Role.DISTRICT_ADMIN, "district")
    make_asset(session, clock, school, responsible=staff)
    other = make_school(session, "ZX02", "第二中学", district=school.district)
    make_asset(session, clock, other, code="MHQ-900")
    sweep(session, now=clock.now())
    session.commit()
    return school


def _post(client: FlaskClient, url: str, data: dict[str, Any]) -> TestResponse:
    page = client.get(url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token(page), **data})


def _duty_id(session: Session, template_key: str = "extinguisher_monthly") -> int:
    duty_id = session.scalar(
        select(Duty.id).where(Duty.template_key == template_key, Duty.school_id.is_(None))
    )
    session.commit()
    return duty_id


def _count(session: Session, entity: type, *where: Any) -> int:
    session.expire_all()
    count = session.scalar(select(func.count()).select_from(entity).where(*where))
    session.commit()
    return count


WEEKLY_FRIDAY = {
    "frequency": "weekly",
    "weekdays": "4",
    "at": "16:00",
    "remind_before_minutes": "30",
    "escalate_school_hours": "24",
    "escalate_district_hours": "72",
    "active": "1",
}


def test_staff_see_their_task_with_its_due_time_and_filing_it_marks_it_done(
    client: FlaskClient, auth: Auth, school: School
) -> None:
    auth.login("staff")

    page = client.get("/tasks").get_data(as_text=True)

    assert "灭火器月度检查" in page
    assert "应于 03-25 17:00 前完成" in page
    assert '<span class="badge ">应完成</span>' in page and "整改期限" not in page
    link = page.split('href="/s/')[1].split('"')[0]
    token = link.split("/")[0]
    response = submit_form(
        client, token, "extinguisher_monthly", EXTINGUISHER_OK, {"photo": jpeg_bytes()}
    )
    assert response.status_code == 302
    assert "已完成" in client.get("/tasks").get_data(as_text=True)


def test_a_school_admin_gives_the_school_its_own_schedule_and_not_the_other_schools(
    client: FlaskClient, auth: Auth, session: Session, school: School
) -> None:
    auth.login("admin")
    duty_id = _duty_id(session)
    listing = client.get("/schedules/SY01").get_data(as_text=True)
    assert f"/schedules/SY01/{duty_id}?override=1" in listing
    assert f'href="/schedules/SY01/{duty_id}"' not in listing  # the district's is not theirs
    assert client.get(f"/schedules/SY01/{duty_id}").status_code == 404

    response = _post(client, f"/schedules/SY01/{duty_id}?override=1", WEEKLY_FRIDAY)

    assert response.status_code == 302
    own = session.scalar(select(Duty).where(Duty.school_id == school.id))
    assert own.recurrence.weekdays == (4,) and own.remind_before == 30
    session.commit()
    after = client.get("/schedules/SY01").get_data(as_text=True)
    assert "本校自定计划" in after
    assert "每周固定几天（周五）" in after  # the days in Chinese brackets
    assert client.get("/schedules/ZX02").status_code == 404


def test_a_bad_schedule_comes_back_next_to_its_fields_and_saves_nothing(
    client: FlaskClient, auth: Auth, session: Session, school: School
) -> None:
    auth.login("district")
    duty_id = _duty_id(session)

    response = _post(
        client,
        f"/schedules/SY01/{duty_id}",
        {**WEEKLY_FRIDAY, "weekdays": "", "at": "25:00", "escalate_district_hours": "1"},
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "请输入时间，例如 08:30。" in html.split('id="at"')[1].split("</fieldset>")[0]
    assert "请至少选择一个星期几。" in html
    assert "不能早于通知学校管理员的时间" in html
    duty = session.get(Duty, duty_id)
    assert duty.recurrence.frequency == "monthly"
    session.commit()


def test_the_district_admin_moves_the_districts_schedule_and_tasks_follow(
    client: FlaskClient, auth: Auth, session: Session, school: School, clock: SettableClock
) -> None:
    auth.login("district")
    duty_id = _duty_id(session)

    response = _post(
        client,
        f"/schedules/SY01/{duty_id}",
        {**WEEKLY_FRIDAY, "frequency": "monthly", "day": "20", "at": "10:00"},
    )

    assert response.status_code == 302
    assert _count(session, Task, Task.duty_id == duty_id, Task.current) == 0
    sweep(session, now=clock.now())
    session.commit()
    assert "应于 03-20 10:00 前完成" in client.get("/tasks?all=1").get_data(as_text=True)


def test_only_the_district_admin_changes_the_calendar_and_bad_dates_are_named(
    client: FlaskClient, auth: Auth, session: Session, school: School
) -> None:
    auth.login("admin")
    page = client.get("/schedules/SY01/calendar").get_data(as_text=True)
    assert 'name="starts_on"' not in page
    refused = client.post(
        "/schedules/SY01/calendar",
        data={"csrf_token": csrf_token(page), "kind": "holiday", "starts_on": "2026-04-04"},
    )
    assert refused.status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(page)})

    auth.login("district")
    bad = _post(
        client,
        "/schedules/SY01/calendar",
        {"kind": "holiday", "starts_on": "2026-04-06", "ends_on": "2026-04-04", "name": "清明"},
    )
    assert bad.status_code == 422
    assert "结束日期不能早于开始日期。" in bad.get_data(as_text=True)
    good = _post(
        client,
        "/schedules/SY01/calendar",
        {"kind": "holiday", "starts_on": "2026-04-04", "ends_on": "2026-04-06", "name": "清明"},
    )
    assert good.status_code == 302
    assert _count(session, CalendarEntry) == 1
    assert "清明" in client.get("/schedules/SY01/calendar").get_data(as_text=True)


# --- the statutory minimum and a schedule for any checklist ---------------------------------

FIRE_RULE = {"zh_CN": "《消防器材规定》第五条", "en": "Fire equipment rule, art. 5"}
QUARTERLY = {**WEEKLY_FRIDAY, "frequency": "quarterly", "month": "1", "day": "15"}


def _monthly_by_rule(session: Session, clock: SettableClock) -> None:
    """The extinguisher check names a rule that asks for it at least every month."""
    from dataclasses import replace

    from models.checklists import base_template, save_template_version

    template = base_template(session, "extinguisher_monthly")
    assert template is not None
    spec = replace(template.spec, basis=FIRE_RULE, minimum_frequency="monthly")
    save_template_version(session, spec, now=clock.now())
    session.commit()


def test_a_schedule_below_the_rules_minimum_is_saved_only_once_the_warning_is_ticked(
    client: FlaskClient, auth: Auth, session: Session, school: School, clock: SettableClock
) -> None:
    _monthly_by_rule(session, clock)
    auth.login("district")
    duty_id = _duty_id(session)

    warned = _post(client, f"/schedules/SY01/{duty_id}", QUARTERLY)

    html = warned.get_data(as_text=True)
    assert warned.status_code == 422
    warning = html.split('id="below-minimum"')[1].split("</div></div>")[0]
    assert "《消防器材规定》第五条要求至少每月一次" in warning
    assert "我知道低于法定最低频次" in warning
    assert session.get(Duty, duty_id).recurrence.frequency == "monthly"
    session.commit()

    saved = client.post(
        f"/schedules/SY01/{duty_id}",
        data={"csrf_token": csrf_token(html), **QUARTERLY, "confirm_below_minimum": "1"},
    )

    assert saved.status_code == 302
    session.expire_all()
    duty = session.get(Duty, duty_id)
    assert duty.recurrence.frequency == "quarterly"
    assert duty.below_minimum_confirmed_by.username == "district"
    session.commit()
    listing = client.get("/schedules/SY01").get_data(as_text=True)
    assert "低于法定最低频次" in listing
    again = client.get(f"/schedules/SY01/{duty_id}").get_data(as_text=True)
    assert "确认人：District" in again.split('id="confirmed-below-minimum"')[1].split("</p>")[0]
    dashboard = client.get("/dashboard").get_data(as_text=True)
    card = dashboard.split('id="below-minimum"')[1].split("</div>")[0]
    assert "灭火器月度检查" in card and "每季度" in card and "至少每月一次" in card
    assert "District" in card and f"/schedules/SY01/{duty_id}" in card


def test_a_district_admin_schedules_a_checklist_that_had_none_for_every_school(
    client: FlaskClient, auth: Auth, session: Session, school: School, clock: SettableClock
) -> None:
    make_asset(session, clock, school, kind="school_office", code="BGS-01", name="后勤办公室")
    session.commit()
    auth.login("district")
    page = client.get("/schedules/SY01/new").get_data(as_text=True)
    assert 'value="fire_drill"' in page and 'value="district"' in page

    response = _post(
        client,
        "/schedules/SY01/new",
        {**QUARTERLY, "template_key": "fire_drill", "scope": "district"},
    )

    assert response.status_code == 302
    duty = session.scalar(select(Duty).where(Duty.template_key == "fire_drill"))
    assert (duty.school_id, duty.asset_id, duty.recurrence.frequency) == (None, None, "quarterly")
    session.commit()
    sweep(session, now=clock.now())
    session.commit()
    assert _count(session, Task, Task.template_key == "fire_drill", Task.current) == 1


def test_a_school_admin_schedules_one_asset_but_not_the_whole_district(
    client: FlaskClient, auth: Auth, session: Session, school: School
) -> None:
    auth.login("admin")
    page = client.get("/schedules/SY01/new").get_data(as_text=True)
    assert 'value="district"' not in page
    asset_id = page.split('name="asset"')[1].split('<option value="')[2].split('"')[0]

    refused = _post(
        client,
        "/schedules/SY01/new",
        {**QUARTERLY, "template_key": "fire_drill", "scope": "district"},
    )
    assert refused.status_code == 422
    response = _post(
        client,
        "/schedules/SY01/new",
        {
            **WEEKLY_FRIDAY,
            "template_key": "extinguisher_monthly",
            "scope": "asset",
            "asset": asset_id,
        },
    )

    assert response.status_code == 302
    duty = session.scalar(select(Duty).where(Duty.asset_id == int(asset_id)))
    assert duty.school_id == school.id and duty.recurrence.weekdays == (4,)
    session.commit()
    assert client.get("/schedules/ZX02/new").status_code == 404


def test_the_district_sets_dispenser_cleaning_monthly_in_summer_and_every_two_months_in_winter(
    client: FlaskClient, auth: Auth, session: Session, school: School
) -> None:
    auth.login("district")
    duty_id = _duty_id(session, "water_dispenser_disinfection")
    every_n = {**WEEKLY_FRIDAY, "frequency": "every_n_days", "at": "17:00"}

    response = _post(
        client,
        f"/schedules/SY01/{duty_id}",
        {**every_n, "every_days": "30", "winter_every_days": "60"},
    )

    assert response.status_code == 302
    duty = session.get(Duty, duty_id)
    assert duty is not None
    assert (duty.recurrence.every_days, duty.recurrence.winter_every_days) == (30, 60)
    session.commit()
    page = client.get("/schedules/SY01").get_data(as_text=True)
    assert "每 30 天" in page and "冬季每 60 天" in page
