"""Mobiles on the web: the person form keeps one spelling, refuses a taken one next to the
field, and the login form takes any spelling."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.people import Role
from tests.conftest import Auth, csrf_token
from tests.factories import make_person, make_school


def test_a_mobile_is_kept_once_refused_when_taken_and_logs_in_however_typed(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin", phone="13800000001")
    session.commit()
    auth.login("+86 138-0000-0001")

    def add(username: str, phone: str):
        page = client.get("/admin/S1/people/new").get_data(as_text=True)
        return client.post(
            "/admin/S1/people/new",
            data={
                "csrf_token": csrf_token(page),
                "username": username,
                "display_name": username,
                "phone": phone,
                "password": "initial-pass",
                "role": "canteen_staff",
            },
        )

    added = add("wang", "+86 139 0000 0001")
    taken = add("li", "139-0000-0001")
    landline = add("zhao", "024-23456789")

    assert added.status_code == 302
    assert "13900000001" in client.get("/admin/S1/people").get_data(as_text=True)
    assert "手机号 13900000001 已被使用。" in taken.get_data(as_text=True)
    assert "以 1 开头的 11 位数字" in landline.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})
    auth.login("139 0000 0001", "initial-pass")
