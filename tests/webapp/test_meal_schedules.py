"""A daily schedule due once per meal: the accompanied meal at breakfast, lunch and dinner,
or only at lunch for a school that serves lunch only."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from models.assets import AssetKind
from models.clock import SettableClock
from models.duties import Duty
from models.people import Role
from models.sweep import sweep
from tests.conftest import Auth, csrf_token
from tests.factories import make_asset, make_person, make_school

MEAL = "canteen_accompanied_meal"


def _post(client: FlaskClient, url: str, data: dict[str, Any]) -> TestResponse:
    page = client.get(url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token(page), **data})


LUNCH_ONLY = {
    "frequency": "daily",
    "at": "12:30",
    "meal_times": "12:30",
    "school_days_only": "1",
    "remind_before_minutes": "30",
    "escalate_school_hours": "24",
    "escalate_district_hours": "72",
    "active": "1",
}


def test_a_school_serving_lunch_only_keeps_one_accompanied_meal_a_day(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session, "SY01", "实验小学")
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    make_asset(session, clock, school, AssetKind.CANTEEN, "ST-01", "食堂")
    sweep(session, now=clock.now())
    duty_id = session.scalar(select(Duty.id).where(Duty.template_key == MEAL))
    session.commit()
    auth.login("admin")

    listing = client.get("/schedules/SY01").get_data(as_text=True)
    assert "每餐（12:30）" in listing

    wrong = _post(
        client, f"/schedules/SY01/{duty_id}?override=1", {**LUNCH_ONLY, "meal_times": "午饭"}
    )
    assert wrong.status_code == 422
    assert "请输入时间，例如 08:00，12:30，18:30。" in wrong.get_data(as_text=True)

    saved = _post(client, f"/schedules/SY01/{duty_id}?override=1", LUNCH_ONLY)

    assert saved.status_code == 302
    own = session.scalar(select(Duty).where(Duty.template_key == MEAL, Duty.school_id == school.id))
    assert own is not None
    assert [t.strftime("%H:%M") for t in own.recurrence.meal_times] == ["12:30"]
    session.commit()
    assert "每餐（12:30）" in client.get("/schedules/SY01").get_data(as_text=True)


def test_a_school_sets_when_its_night_patrol_may_start_and_an_impossible_time_is_refused(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session, "SY01", "寄宿制学校")
    school.boarding = True
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    make_asset(session, clock, school, AssetKind.SCHOOL_OFFICE, "HQ-01", "后勤办公室")
    sweep(session, now=clock.now())
    duty_id = session.scalar(select(Duty.id).where(Duty.template_key == "fire_night_patrol"))
    session.commit()
    auth.login("admin")
    assert "19:00 后开始" in client.get("/schedules/SY01").get_data(as_text=True)
    night = {**LUNCH_ONLY, "at": "22:30", "meal_times": ""}

    late = _post(client, f"/schedules/SY01/{duty_id}?override=1", {**night, "opens": "23:00"})
    assert late.status_code == 422
    assert "开始时间须早于截止时间" in late.get_data(as_text=True)

    saved = _post(client, f"/schedules/SY01/{duty_id}?override=1", {**night, "opens": "21:00"})

    assert saved.status_code == 302
    session.commit()
    listing = client.get("/schedules/SY01").get_data(as_text=True)
    assert "21:00 后开始" in listing
