"""Administrators print one label again or replace it; staff cannot."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import webapp.labels as web_labels
from models.assets import AssetKind, issue_label
from models.clock import SettableClock
from models.org import Location, School
from models.people import Person, Role
from tests.conftest import Auth, csrf_token
from tests.factories import make_asset, make_person, make_school
from tests.qr_reading import read_qr_codes


def test_an_admin_replaces_a_label_and_the_old_one_stops_working(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    asset = make_asset(session, clock, school)
    old = asset.current_label.token
    session.commit()
    auth.login("admin")
    page = client.get(f"/s/{old}").get_data(as_text=True)
    assert "更换标签" in page

    confirm = client.get(f"/s/{old}/label/replace").get_data(as_text=True)
    assert "确定更换标签" in confirm
    assert client.get(f"/s/{old}").status_code == 200  # asking changed nothing

    response = client.post(f"/s/{old}/label/replace", data={"csrf_token": csrf_token(confirm)})

    new = response.headers["Location"].removeprefix("/s/")
    assert new != old
    assert "旧标签已失效" in client.get(f"/s/{new}").get_data(as_text=True)
    assert client.get(f"/s/{old}").status_code == 404


def test_an_admin_downloads_one_label_that_scans(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    asset = make_asset(session, clock, school)
    token = asset.current_label.token
    session.commit()
    auth.login("admin")

    response = client.get(f"/s/{token}/label.png", buffered=True)

    assert response.mimetype == "image/png"
    [code] = read_qr_codes(response.data)
    assert code == f"http://houqin.test/s/{token}"


def test_staff_cannot_replace_or_print_labels(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.CANTEEN_STAFF, "staff")
    asset = make_asset(session, clock, school)
    token = asset.current_label.token
    session.commit()
    auth.login("staff")
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert "更换标签" not in page

    replaced = client.post(f"/s/{token}/label/replace", data={"csrf_token": csrf_token(page)})

    assert replaced.status_code == 404
    assert client.get(f"/s/{token}/label/replace").status_code == 404
    assert client.get(f"/s/{token}/label.png").status_code == 404
    assert client.get(f"/s/{token}").status_code == 200


def test_a_bus_has_a_rear_label_that_prints_and_is_replaced_on_its_own(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    from models.assets import AssetKind

    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车")
    front, rear = bus.current_label.token, bus.rear_label.token
    session.commit()
    auth.login("admin")
    assert "车尾标签" in client.get(f"/s/{front}").get_data(as_text=True)

    png = client.get(f"/s/{rear}/label.png", buffered=True)
    [code] = read_qr_codes(png.data)
    confirm = client.get(f"/s/{rear}/label/replace").get_data(as_text=True)
    response = client.post(f"/s/{rear}/label/replace", data={"csrf_token": csrf_token(confirm)})

    assert code == f"http://houqin.test/s/{rear}"
    new = response.headers["Location"].removeprefix("/s/")
    assert "车尾标签" in client.get(f"/s/{new}").get_data(as_text=True)
    assert client.get(f"/s/{rear}").status_code == 404
    assert client.get(f"/s/{front}").status_code == 200  # the front label still works


def _printed(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The URLs of every sheet the web app draws, sheet by sheet."""
    sheets: list[list[str]] = []
    draw = web_labels.labels_pdf

    def spy(infos: Any, *args: Any, **kwargs: Any) -> bytes:
        sheets.append([info.url for info in infos])
        return draw(infos, *args, **kwargs)

    monkeypatch.setattr(web_labels, "labels_pdf", spy)
    return sheets


def _url(token: str) -> str:
    return f"http://houqin.test/s/{token}"


def test_an_admin_prints_a_sheet_by_kind_and_gets_the_buses_rear_labels_too(
    client: FlaskClient,
    auth: Auth,
    session: Session,
    clock: SettableClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车")
    make_asset(session, clock, school)
    session.commit()
    sheets = _printed(monkeypatch)
    auth.login("admin")
    assert "打印标签" in client.get("/admin/S1").get_data(as_text=True)
    assert "热敏" in client.get("/labels?school=S1").get_data(as_text=True)

    response = client.get("/labels?print=1&school=S1&kind=bus&layout=50x30mm")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert sheets == [[_url(bus.current_label.token), _url(bus.rear_label.token)]]
    assert len(re.findall(rb"/MediaBox", response.data)) == 2  # one thermal page per label


def test_a_list_of_codes_a_building_and_only_reissued_labels_each_narrow_the_sheet(
    client: FlaskClient,
    auth: Auth,
    session: Session,
    clock: SettableClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    first = make_asset(session, clock, school, code="MHQ-001")
    second = make_asset(session, clock, school, code="MHQ-002")
    canteen = make_asset(session, clock, school, AssetKind.CANTEEN, "ST-01", "食堂")
    canteen.location = Location(school=school, building="食堂楼")
    issue_label(session, second, now=clock.now())
    session.commit()
    sheets = _printed(monkeypatch)
    auth.login("admin")

    client.get("/labels?print=1&assets=mhq-001，ST-01&layout=2x5")
    client.get("/labels?print=1&building=食堂楼")
    client.get("/labels?print=1&reissued=1")

    assert sheets == [
        [_url(canteen.current_label.token), _url(first.current_label.token)],
        [_url(canteen.current_label.token)],
        [_url(second.current_label.token)],
    ]


def test_bad_choices_are_named_next_to_their_field_in_chinese(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    make_asset(session, clock, school)
    session.commit()
    auth.login("admin")

    unknown = client.get("/labels?print=1&assets=MHQ-404")
    nothing = client.get("/labels?print=1&kind=bus")
    layout = client.get("/labels?print=1&layout=A5")

    assert unknown.status_code == 422
    assert "MHQ-404" in unknown.get_data(as_text=True)
    assert "没有" in unknown.get_data(as_text=True)
    assert nothing.status_code == 422
    assert "没有符合" in nothing.get_data(as_text=True)
    assert layout.status_code == 422
    assert "A5" in layout.get_data(as_text=True)


def test_an_admin_sees_and_prints_only_their_own_schools(
    app: Flask,
    client: FlaskClient,
    auth: Auth,
    session: Session,
    clock: SettableClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    own = make_school(session, "S1", "实验小学")
    other = make_school(session, "S2", "第二中学", district=own.district)
    make_person(session, clock, own, Role.SCHOOL_ADMIN, "admin")
    make_person(session, clock, own, Role.INSPECTOR, "inspector")
    mine = make_asset(session, clock, own, code="MHQ-001")
    make_asset(session, clock, other, code="MHQ-009")
    session.commit()
    sheets = _printed(monkeypatch)
    auth.login("admin")

    assert "第二中学" not in client.get("/labels").get_data(as_text=True)
    assert client.get("/labels?print=1&school=S2").status_code == 422
    client.get("/labels?print=1")
    assert sheets == [[_url(mine.current_label.token)]]
    other_client = app.test_client()
    Auth(other_client).login("inspector")
    assert other_client.get("/labels").status_code == 404
    assert other_client.get("/labels?print=1&school=S1").status_code == 404


def test_a_sheet_being_drawn_does_not_hold_up_a_staff_members_write(
    client: FlaskClient,
    auth: Auth,
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    make_asset(session, clock, school)
    session.commit()
    draw = web_labels.labels_pdf

    def drawn_while_someone_files(*args: Any, **kwargs: Any) -> bytes:
        with session_factory() as elsewhere:
            make_person(elsewhere, clock, elsewhere.get_one(School, school.id), username="zhang")
            elsewhere.commit()
        return draw(*args, **kwargs)

    monkeypatch.setattr(web_labels, "labels_pdf", drawn_while_someone_files)
    auth.login("admin")

    response = client.get("/labels?print=1")

    assert response.status_code == 200
    assert session.scalar(select(Person).where(Person.username == "zhang")) is not None
