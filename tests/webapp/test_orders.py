"""A school's administrator adds the term's uniform order, sees it fall overdue, and settles it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from models.clock import SettableClock
from models.org import School
from models.people import Role
from tests.conftest import Auth, csrf_token
from tests.factories import make_district_admin, make_person, make_school, make_supplier

NEW_ORDER = {
    "goods": "uniforms",
    "year": "2026",
    "term": "autumn",
    "grades": ["g1", "g7"],
    "quantity": "412",
    "collected": "61800.50",
    "settle_by": "2026-03-10",
}


@pytest.fixture
def school(session: Session, clock: SettableClock) -> None:
    school = make_school(session, "S1", "实验小学")
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    make_person(session, clock, school, Role.TEACHER, "teacher")
    session.commit()
    clock.set(datetime(2026, 3, 20, 2, tzinfo=UTC))


def _post(client: FlaskClient, url: str, data: dict[str, Any]) -> TestResponse:
    page = client.get("/orders/S1").get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token(page), **data})


def test_an_order_is_added_shown_overdue_and_settled(
    client: FlaskClient, auth: Auth, school: None
) -> None:
    auth.login("admin")

    added = _post(client, "/orders/S1", NEW_ORDER)
    page = client.get("/orders/S1").get_data(as_text=True)

    assert added.status_code == 302
    assert "2026 年秋季学期 · 校服" in page
    assert "一年级、初一" in page and "61800.50 元" in page
    assert "已逾期未结算（截止 2026-03-10）" in page
    order_id = page.split('id="order-')[1].split('"')[0]
    settled = _post(client, f"/orders/S1/{order_id}/settled", {"settled_on": "2026-03-18"})
    assert settled.status_code == 302
    assert "已于 2026-03-18 结算" in client.get("/orders/S1").get_data(as_text=True)


def test_a_bad_order_comes_back_named_field_by_field_and_teachers_have_no_page(
    client: FlaskClient, auth: Auth, school: None
) -> None:
    auth.login("admin")
    refused = _post(client, "/orders/S1", {**NEW_ORDER, "grades": [], "collected": "很多"})
    text = refused.get_data(as_text=True)

    assert refused.status_code == 422
    assert "请至少选择一个年级。" in text and "请填写收取金额（元），如 12800.50。" in text
    assert "还没有征订记录。" in text
    client.post("/logout", data={"csrf_token": csrf_token(text)})
    auth.login("teacher")
    assert client.get("/orders/S1").status_code == 404


def test_the_district_sets_a_school_primary_and_its_order_form_offers_grades_1_to_6(
    client: FlaskClient, auth: Auth, school: None, session: Session, clock: SettableClock
) -> None:
    school_row = session.scalars(select(School).where(School.code == "S1")).one()
    make_district_admin(session, clock, school_row)
    make_supplier(session, clock, school_row, "绿源蔬菜配送", categories=("vegetables",))
    make_supplier(session, clock, school_row, "校服厂", categories=("uniforms",))
    session.commit()
    auth.login("admin")
    own = client.get("/admin/S1").get_data(as_text=True)
    assert 'name="stage"' not in own
    client.post("/logout", data={"csrf_token": csrf_token(own)})
    auth.login("district")

    home = client.get("/admin/S1").get_data(as_text=True)
    bad = client.post("/admin/S1/stage", data={"csrf_token": csrf_token(home), "stage": "x"})
    saved = client.post(
        "/admin/S1/stage", data={"csrf_token": csrf_token(home), "stage": "primary"}
    )
    form = client.get("/orders/S1").get_data(as_text=True)

    assert "学段" in home and "九年一贯制学校" in home
    assert bad.status_code == 422 and "请从列表中选择学校的学段。" in bad.get_data(as_text=True)
    assert saved.status_code == 302
    assert "六年级" in form and "初一" not in form and 'value="g7"' not in form
    assert "校服厂" in form and "绿源蔬菜配送" not in form
