"""Input limits a person or a prober meets at the door: ids no row can have, and what people
typed written to Excel as text, never as a formula a spreadsheet runs."""

from __future__ import annotations

import io
import re

from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.routing import IntegerConverter

from models.clock import SettableClock
from models.people import Role
from models.suppliers import Supplier
from tests.conftest import Auth, csrf_token
from tests.factories import (
    file_check,
    make_asset,
    make_certificate,
    make_district_admin,
    make_person,
    make_school,
)

HUGE_IDS = [str(2**31), str(2**63), str(10**30), "9" * 5000]
ARGUMENT_RE = re.compile(r"<(?:[a-z_]+(?:\([^)]*\))?:)?([a-z_]+)>")


def _id_urls(app: Flask, school_code: str, huge: str) -> list[tuple[str, str]]:
    """Every rule taking a number, as (method, URL) with that number `huge`."""
    urls = []
    for rule in app.url_map.iter_rules():
        numbers = {
            name
            for name, converter in rule._converters.items()
            if isinstance(converter, IntegerConverter)
        }
        if not numbers:
            continue

        def fill(match: re.Match[str], numbers: set[str] = numbers) -> str:
            name = match.group(1)
            if name in numbers:
                return huge
            return school_code if name == "school_code" else "x"

        method = "GET" if rule.methods and "GET" in rule.methods else "POST"
        urls.append((method, ARGUMENT_RE.sub(fill, rule.rule)))
    return urls


def test_an_id_no_row_can_have_is_not_found_on_every_route(
    app: Flask, client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    school = make_school(session)
    make_district_admin(session, clock, school)
    session.commit()
    auth.login("district")

    tried = 0
    for huge in HUGE_IDS:
        for method, url in _id_urls(app, school.code, huge):
            response = client.open(url, method=method)
            assert response.status_code == 404, (method, url[:120], response.status_code)
            tried += 1
    assert tried >= 4 * 20


def test_a_chosen_id_beyond_any_row_is_refused_not_a_server_error(
    app: Flask, client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_district_admin(session, clock, school)
    session.commit()
    auth.login("district")

    for huge in HUGE_IDS:
        response = client.get(f"/ledger/{school.code}?person={huge}")
        assert response.status_code < 500, huge[:40]


RUNS_A_LINK = '=HYPERLINK("http://evil.test","打开")'


def _cells(data: bytes) -> list[tuple[object, str]]:
    book = load_workbook(io.BytesIO(data))
    return [(c.value, c.data_type) for s in book.worksheets for r in s.iter_rows() for c in r]


def test_what_people_typed_is_exported_to_excel_as_text_not_a_formula(
    app: Flask, client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    store = app.extensions["houqin.photos"]
    school = make_school(session, "S1", name="=1+2")
    inspector = make_person(session, clock, school)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    make_district_admin(session, clock, school)
    asset = make_asset(session, clock, school, code="MHQ-001", name=RUNS_A_LINK)
    file_check(session, clock, store, inspector, asset, "w-formula-01")
    make_certificate(session, clock, store, admin, school, admin, number="@SUM(A1)")
    session.commit()
    auth.login("district")
    march = "period=month&on=2026-03-02"

    exports = {
        "ledger": client.get(f"/ledger/S1/excel?{march}"),
        "register": client.get(f"/ledger/S1/registers/certificates/excel?{march}"),
        "score": client.get("/score/2026.xlsx"),
    }

    cells = {name: _cells(response.data) for name, response in exports.items()}
    for name, read in cells.items():
        assert [v for v, kind in read if kind == "f"] == [], name
    assert (f"MHQ-001 {RUNS_A_LINK}", "s") in cells["ledger"]
    assert ("@SUM(A1)", "s") in cells["register"]
    assert ("=1+2", "s") in cells["score"]


def test_a_nul_sent_in_a_field_is_saved_without_it_not_a_server_error(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_district_admin(session, clock, school)
    session.commit()
    auth.login("district")
    page = client.get("/registers/S1/suppliers/new").get_data(as_text=True)

    added = client.post(
        "/registers/S1/suppliers/new?x=%00",
        data={
            "csrf_token": csrf_token(page),
            "name": "肉联\x00厂",
            "contact": "王\x00师傅",
            "categories": "meat",
        },
    )

    assert added.status_code == 302
    session.expire_all()
    supplier = session.scalars(select(Supplier)).one()
    assert (supplier.name, supplier.contact) == ("肉联厂", "王师傅")
