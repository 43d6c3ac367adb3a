"""Fire safety in the browser: a school marked boarding on its admin page, an extinguisher's
service and scrap dates on its page and in the register."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.assets import Asset
from models.clock import SettableClock
from models.org import School
from models.people import Person, Role
from models.photos import PhotoStore
from tests.conftest import Auth, csrf_token
from tests.factories import file_check, make_asset, make_person, make_school


@pytest.fixture
def app(app: Flask) -> Flask:
    """The app with the admin and register pages, until create_app registers them itself."""
    from webapp import admin, registers

    for blueprint in (admin.bp, registers.bp):
        if blueprint.name not in app.blueprints:
            app.register_blueprint(blueprint)
    return app


@pytest.fixture
def school(session: Session, clock: SettableClock) -> School:
    clock.set(datetime(2026, 3, 20, 2, tzinfo=UTC))
    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    make_person(session, clock, school, Role.INSPECTOR, "inspector")
    session.commit()
    return school


def _extinguisher(session: Session, clock: SettableClock, school: School, **attrs: str) -> Asset:
    asset = make_asset(session, clock, school, **attrs)
    session.commit()
    return asset


def test_an_administrator_marks_the_school_boarding_and_back(
    client: FlaskClient, auth: Auth, school: School, session: Session
) -> None:
    auth.login("admin")
    page = client.get("/admin/S1").get_data(as_text=True)
    assert "设为寄宿制学校" in page

    response = client.post(
        "/admin/S1/boarding",
        data={"csrf_token": csrf_token(page), "boarding": "yes"},
        follow_redirects=True,
    )

    shown = response.get_data(as_text=True)
    assert "已设为寄宿制学校" in shown and "上学日天黑后还要进行夜间防火巡查" in shown
    assert "早、中、晚三餐的陪餐和留样" in shown
    schedules = client.get("/schedules/S1").get_data(as_text=True)
    assert "陪餐记录" in schedules and "08:00、12:30、18:30" in schedules
    session.expire_all()
    assert school.boarding
    session.commit()  # the read ends, so the app can write again
    client.post("/admin/S1/boarding", data={"csrf_token": csrf_token(shown), "boarding": "no"})
    session.expire_all()
    assert not school.boarding


def test_only_administrators_reach_the_boarding_switch(
    client: FlaskClient, auth: Auth, school: School, session: Session
) -> None:
    auth.login("inspector")
    page = client.get("/registers/S1").get_data(as_text=True)

    response = client.post(
        "/admin/S1/boarding", data={"csrf_token": csrf_token(page), "boarding": "yes"}
    )

    assert response.status_code == 404
    session.expire_all()
    assert not school.boarding


def test_the_extinguisher_page_shows_its_service_and_scrap_dates(
    client: FlaskClient, auth: Auth, school: School, session: Session, clock: SettableClock
) -> None:
    asset = _extinguisher(session, clock, school, agent="ABC干粉", production_date="2021-04-01")
    assert asset.current_label is not None
    auth.login("inspector")

    page = client.get(f"/s/{asset.current_label.token}").get_data(as_text=True)

    assert "生产日期" in page and "2021-04-01" in page
    assert "干粉" in page and "下次维修 2026-04-01，报废 2031-04-01" in page


def test_the_register_lists_extinguishers_due_first_and_those_without_dates_named(
    client: FlaskClient, auth: Auth, school: School, session: Session, clock: SettableClock
) -> None:
    _extinguisher(
        session, clock, school, code="MHQ-1", agent="ABC干粉", production_date="2025-01-01"
    )
    _extinguisher(
        session, clock, school, code="MHQ-2", agent="水基型", production_date="2020-01-01"
    )
    _extinguisher(session, clock, school, code="MHQ-3", agent="灭火毯")
    auth.login("inspector")

    page = client.get("/registers/S1?tab=extinguishers").get_data(as_text=True)

    assert page.index("MHQ-2") < page.index("MHQ-1") < page.index("MHQ-3")
    assert "已到报废期" in page and "已于 2026-01-01 到报废期：请更换" in page
    assert "缺少生产日期或灭火剂类型" in page


def test_the_ledger_shows_beside_each_extinguisher_check_its_next_service_and_scrap(
    client: FlaskClient,
    auth: Auth,
    school: School,
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
) -> None:
    asset = _extinguisher(session, clock, school, agent="二氧化碳", production_date="2022-05-01")
    inspector = session.scalars(select(Person).where(Person.username == "inspector")).one()
    file_check(session, clock, store, inspector, asset, "monthly-0001")
    session.commit()
    auth.login("inspector")

    page = client.get("/ledger/S1?period=month&on=2026-03-02").get_data(as_text=True)

    assert "下次维修 2027-05-01，报废 2034-05-01" in page


def test_the_extinguisher_page_shows_its_service_line_once_even_with_records_below(
    client: FlaskClient,
    auth: Auth,
    school: School,
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
) -> None:
    asset = _extinguisher(session, clock, school, agent="ABC干粉", production_date="2021-04-01")
    inspector = session.scalars(select(Person).where(Person.username == "inspector")).one()
    file_check(session, clock, store, inspector, asset, "monthly-0001")
    token = asset.current_label.token if asset.current_label else ""
    session.commit()
    auth.login("inspector")

    page = client.get(f"/s/{token}").get_data(as_text=True)

    assert page.count("下次维修 2026-04-01，报废 2031-04-01") == 1


def test_the_production_date_is_a_date_field_and_a_bad_date_comes_back_next_to_it(
    client: FlaskClient, auth: Auth, school: School, session: Session
) -> None:
    auth.login("admin")
    form = client.get("/admin/S1/assets/new/extinguisher").get_data(as_text=True)

    response = client.post(
        "/admin/S1/assets/new/extinguisher",
        data={
            "csrf_token": csrf_token(form),
            "code": "MHQ-9",
            "name": "二楼灭火器",
            "agent": "ABC干粉",
            "production_date": "2021-02-30",
        },
    )

    assert 'type="date" id="production_date" name="production_date"' in form
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    field = page[page.index('id="production_date"') :]
    assert field.index("请填写日期") < field.index("</fieldset>")
    assert session.scalar(select(Asset).where(Asset.code == "MHQ-9")) is None
