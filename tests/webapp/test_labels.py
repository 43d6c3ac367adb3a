"""Administrators print one label again or replace it; staff cannot."""

from __future__ import annotations

import io

import zxingcpp
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.people import Role
from tests.conftest import Auth, csrf_token
from tests.factories import make_asset, make_person, make_school


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
    [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.data)))
    assert code.text == f"http://houqin.test/s/{token}"


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
    [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)))
    confirm = client.get(f"/s/{rear}/label/replace").get_data(as_text=True)
    response = client.post(f"/s/{rear}/label/replace", data={"csrf_token": csrf_token(confirm)})

    assert code.text == f"http://houqin.test/s/{rear}"
    new = response.headers["Location"].removeprefix("/s/")
    assert "车尾标签" in client.get(f"/s/{new}").get_data(as_text=True)
    assert client.get(f"/s/{rear}").status_code == 404
    assert client.get(f"/s/{front}").status_code == 200  # the front label still works
