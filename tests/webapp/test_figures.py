"""Plausible numbers on the phone: meter readings and milk counts, and what they add up to."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models.assets import AssetKind
from models.clock import SettableClock
from models.people import Role
from tests.conftest import Auth
from tests.factories import jpeg_bytes, make_asset, make_person, make_school
from tests.webapp.helpers import submit_form

PHOTO = {"meter_photo": jpeg_bytes((400, 300))}


def _reading(reading: str, day: str, **more: str) -> dict[str, str]:
    return {"reading": reading, "read_on": day, "abnormal": "no", **more}


def test_a_meter_reading_that_runs_backwards_is_refused_and_consumption_shows_per_period(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    meter = make_asset(
        session, clock, school, AssetKind.METER, "SB-01", "食堂水表", meter_type="water"
    )
    token = meter.current_label.token
    session.commit()
    auth.login("admin")

    submit_form(client, token, "meter_reading", _reading("500", "2026-03-02"), PHOTO)
    clock.advance(timedelta(days=30))
    lower = submit_form(client, token, "meter_reading", _reading("480", "2026-04-01"), PHOTO)
    accepted = submit_form(client, token, "meter_reading", _reading("532.5", "2026-04-01"), PHOTO)

    html = lower.get_data(as_text=True)
    assert lower.status_code == 422
    field = html[html.index('id="f-reading"') :]
    assert field.index("比上次读数小（2026-03-02 读数 500）") < field.index('id="f-meter_replaced"')
    assert accepted.status_code == 302
    used = "自 2026-03-02 以来用量：32.5 立方米"
    assert used in client.get(accepted.headers["Location"]).get_data(as_text=True)
    assert used in client.get(f"/s/{token}").get_data(as_text=True)
    assert used in client.get("/ledger/S1?kind=meter").get_data(as_text=True)

    clock.advance(timedelta(days=30))
    swapped = submit_form(
        client,
        token,
        "meter_reading",
        _reading("12", "2026-05-01", meter_replaced="yes", new_meter_start="2"),
        PHOTO,
    )
    assert swapped.status_code == 302
    assert "新表安装以来用量：10 立方米" in client.get("/ledger/S1").get_data(as_text=True)


def test_milk_counts_cannot_exceed_the_class_and_show_their_rate_everywhere(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    office = make_asset(session, clock, school, AssetKind.SCHOOL_OFFICE, "HQ-01", "后勤办公室")
    token = office.current_label.token
    session.commit()
    auth.login("admin")
    count = {"class_name": "三年级二班", "students": "40", "counted_on": "2026-03-02"}

    too_many = submit_form(client, token, "milk_subscription", {**count, "subscribed": "41"})
    filed = submit_form(client, token, "milk_subscription", {**count, "subscribed": "34"})

    html = too_many.get_data(as_text=True)
    assert too_many.status_code == 422
    field = html[html.index('id="f-subscribed"') :]
    assert field.index("不能多于“班级人数”（40）。") < field.index('id="f-counted_on"')
    assert filed.status_code == 302
    rate = "订奶率 85%（40 人中 34 人）"
    assert rate in client.get(filed.headers["Location"]).get_data(as_text=True)
    assert rate in client.get("/ledger/S1").get_data(as_text=True)
    assert rate in client.get(f"/s/{token}").get_data(as_text=True)
    home = client.get("/").get_data(as_text=True)
    assert "课间奶订奶率 85%：40 名学生中 34 名订奶（已统计 1 个班）" in home
