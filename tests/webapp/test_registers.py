"""Registers in the browser's terms: read them, add and renew documents, keep suppliers."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

import models.documents  # noqa: F401  (its tables must be in the metadata before they are made)
from models.assets import AssetKind
from models.clock import SettableClock
from models.documents import Document, DocumentKind, add_document
from models.org import School
from models.people import Person, Role
from models.photos import PhotoStore
from models.stored_files import DocumentFile
from models.suppliers import add_supplier
from tests.conftest import Auth, csrf_token
from tests.factories import jpeg_bytes, make_asset, make_person, make_school
from webapp import registers

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def reg_client(app: Flask) -> FlaskClient:
    """The app with the registers blueprint, until create_app registers it itself."""
    if "registers" not in app.blueprints:
        app.register_blueprint(registers.bp)
    return app.test_client()


@pytest.fixture
def reg_auth(reg_client: FlaskClient) -> Auth:
    return Auth(reg_client)


@dataclass
class World:
    school: School
    admin: Person
    cook: Person
    district: Person
    outsider: Person


@pytest.fixture
def world(session: Session, clock: SettableClock) -> World:
    """A school with an administrator and a cook, the district's administrator, and an
    administrator of a school in another district."""
    school = make_school(session)
    world = World(
        school=school,
        admin=make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin"),
        cook=make_person(session, clock, school, Role.CANTEEN_STAFF, "cook"),
        district=make_person(session, clock, school, Role.DISTRICT_ADMIN, "district"),
        outsider=make_person(session, clock, make_school(session, "S2"), Role.SCHOOL_ADMIN, "far"),
    )
    session.commit()
    return world


def _login_in_english(client: FlaskClient, auth: Auth, username: str) -> None:
    """Until the catalogue has the register's strings, read them in English on purpose."""
    page = client.get("/login").get_data(as_text=True)
    client.post("/language", data={"csrf_token": csrf_token(page), "lang": "en", "next": "/login"})
    auth.login(username)


def _post(client: FlaskClient, url: str, data: dict[str, Any]) -> TestResponse:
    """A form as a phone sends it; files encoded in memory (werkzeug would spool big ones)."""
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    boundary, body = encode_multipart(
        {"csrf_token": csrf_token(page.get_data(as_text=True)), **data}
    )
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _document(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    actor: Person,
    school: School | None,
    holder: Any,
    **fields: Any,
) -> Document:
    values: dict[str, Any] = {
        "kind": DocumentKind.HEALTH_CERTIFICATE,
        "title": "健康证",
        "expires_on": date(2027, 1, 31),
    }
    values.update(fields)
    document = add_document(
        session, actor, school=school, holder=holder, store=store, now=clock.now(), **values
    )
    session.commit()
    return document


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Document)) or 0


def test_an_admin_adds_a_health_certificate_with_a_photo_and_sees_it_in_the_register(
    reg_client: FlaskClient, reg_auth: Auth, world: World
) -> None:
    _login_in_english(reg_client, reg_auth, "admin")
    register = reg_client.get("/registers/S1").get_data(as_text=True)
    assert "Canteen staff · Health certificate: 0 of 1 valid" in register
    add_url = re.search(
        rf'href="(/registers/S1/documents/new\?holder=person-{world.cook.id}&[^"]*)"', register
    )
    form_url = add_url.group(1).replace("&amp;", "&")
    form = reg_client.get(form_url).get_data(as_text=True)
    assert 'accept="image/*,application/pdf"' in form
    assert '<option value="health_certificate" selected>' in form

    saved = _post(
        reg_client,
        form_url,
        {
            "holder": f"person-{world.cook.id}",
            "kind": "health_certificate",
            "title": "食品从业人员健康证",
            "number": "HC-2026-001",
            "issued_on": "2026-01-31",
            "expires_on": "2027-01-31",
            "file": FileStorage(io.BytesIO(jpeg_bytes()), "IMG_0001.jpg", "file", "image/jpeg"),
        },
    )

    assert saved.status_code == 302
    detail = reg_client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "食品从业人员健康证" in detail and "HC-2026-001" in detail
    thumb = re.search(r'src="(/registers/documents/\d+/thumb\.jpg)"', detail).group(1)
    image = reg_client.get(thumb)
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    image.close()
    register = reg_client.get("/registers/S1").get_data(as_text=True)
    assert "Canteen staff · Health certificate: 1 of 1 valid" in register
    assert "Until 2027-01-31" in register and ">Valid</span>" in register


def test_bad_input_comes_back_with_a_message_per_field_and_nothing_is_stored(
    reg_client: FlaskClient, reg_auth: Auth, session: Session, world: World
) -> None:
    _login_in_english(reg_client, reg_auth, "admin")

    response = _post(
        reg_client,
        "/registers/S1/documents/new",
        {
            "holder": "school",
            "kind": "insurance_policy",
            "title": "",
            "issued_on": "2026-03-01",
            "expires_on": "2026-02-01",
            "file": FileStorage(
                io.BytesIO(b"<html></html>"), "policy.pdf", "file", "application/pdf"
            ),
        },
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in (
        "Enter a title.",
        "The expiry date must be after the issue date.",
        "Choose the type of insurance.",
        "This file is not a PDF.",
    ):
        assert f'<p class="err" role="alert">{message}</p>' in html
    assert 'value="2026-03-01"' in html  # what was typed stays in the form
    assert _count(session) == 0


def test_messages_come_back_in_the_readers_language(
    reg_client: FlaskClient, reg_auth: Auth, world: World
) -> None:
    """The default is Chinese: strings the catalogue already has appear in Chinese."""
    reg_auth.login("admin")

    response = _post(reg_client, "/registers/S1/documents/new", {"holder": "school", "kind": ""})

    assert response.status_code == 422
    assert '<html lang="zh-CN">' in response.get_data(as_text=True)
    assert "保存" in response.get_data(as_text=True)  # "Save", already in the catalogue


def test_staff_read_the_register_but_cannot_add_or_renew(
    reg_client: FlaskClient,
    reg_auth: Auth,
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    world: World,
) -> None:
    document = _document(session, clock, store, world.admin, world.school, world.cook)
    _login_in_english(reg_client, reg_auth, "cook")

    register = reg_client.get("/registers/S1")
    detail = reg_client.get(f"/registers/S1/documents/{document.id}").get_data(as_text=True)

    assert register.status_code == 200 and "Cook" in register.get_data(as_text=True)
    assert "/documents/new" not in register.get_data(as_text=True)
    assert "/renew" not in detail
    token = csrf_token(detail)
    for url in ("/registers/S1/documents/new", f"/registers/S1/documents/{document.id}/renew"):
        assert reg_client.get(url).status_code == 404
        posted = reg_client.post(url, data={"csrf_token": token, "title": "x", "holder": "school"})
        assert posted.status_code == 404
    assert reg_client.get("/registers/S1/suppliers/new").status_code == 404
    assert _count(session) == 1


def test_another_schools_admin_gets_404_everywhere(
    reg_client: FlaskClient,
    reg_auth: Auth,
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    world: World,
) -> None:
    document = _document(
        session,
        clock,
        store,
        world.admin,
        world.school,
        world.cook,
        upload=DocumentFile(jpeg_bytes(), "a.jpg"),
    )
    _login_in_english(reg_client, reg_auth, "far")

    for url in (
        "/registers/S1",
        "/registers/S1?tab=expiring",
        "/registers/S1/documents/new",
        f"/registers/S1/documents/{document.id}",
        f"/registers/S1/documents/{document.id}/renew",
        f"/registers/S2/documents/{document.id}",
        f"/registers/documents/{document.id}/file",
        f"/registers/documents/{document.id}/thumb.jpg",
        "/registers/S1/documents/99999999999999999999",
    ):
        assert reg_client.get(url).status_code == 404, url
    assert reg_client.get("/registers/S2").status_code == 200


def test_the_expiring_tab_lists_the_longest_expired_first(
    reg_client: FlaskClient,
    reg_auth: Auth,
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    world: World,
) -> None:
    school, admin, cook = world.school, world.admin, world.cook
    bus = make_asset(session, clock, school, AssetKind.BUS, "BUS-1", "一号校车")
    for title, holder, expires_on, extra in [
        ("健康证-下月", cook, date(2026, 3, 25), {}),
        ("健康证-已过期", cook, date(2026, 2, 10), {}),
        ("健康证-明年", cook, date(2027, 3, 1), {}),
        (
            "承运人责任险",
            bus,
            date(2026, 3, 3),
            {"kind": DocumentKind.INSURANCE_POLICY, "insurance_type": "bus_carrier_liability"},
        ),
    ]:
        _document(
            session,
            clock,
            store,
            admin,
            school,
            holder,
            title=title,
            expires_on=expires_on,
            **extra,
        )
    supplier = add_supplier(
        session,
        world.district,
        school.district_id,
        name="水厂",
        categories=["water"],
        now=clock.now(),
    )
    _document(
        session,
        clock,
        store,
        world.district,
        None,
        supplier,
        kind=DocumentKind.TEST_REPORT,
        title="水质检测报告",
        expires_on=date(2026, 3, 10),
    )
    # The administrator, who sees the bus's insurance too (the cook does not).
    _login_in_english(reg_client, reg_auth, "admin")

    html = reg_client.get("/registers/S1?tab=expiring").get_data(as_text=True)

    holders = re.findall(r"<li><strong>([^<]+)</strong>", html)
    assert holders == ["Cook", "BUS-1 一号校车", "水厂", "Cook"]
    assert "expired 20 days ago" in html and "1 day left" in html and "23 days left" in html
    assert "2027-03-01" not in html


def test_a_file_is_served_only_to_people_who_may_see_it(
    reg_client: FlaskClient,
    reg_auth: Auth,
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    world: World,
) -> None:
    school_doc = _document(
        session,
        clock,
        store,
        world.admin,
        world.school,
        world.cook,
        upload=DocumentFile(PDF, "cert.pdf"),
    )
    supplier = add_supplier(
        session,
        world.district,
        world.school.district_id,
        name="粮油公司",
        categories=["rice"],
        now=clock.now(),
    )
    qs = _document(
        session,
        clock,
        store,
        world.district,
        None,
        supplier,
        kind=DocumentKind.FOOD_PRODUCTION_LICENCE,
        title="QS",
        upload=DocumentFile(PDF + b"% another\n", "qs.pdf"),
    )

    _login_in_english(reg_client, reg_auth, "cook")
    own = reg_client.get(f"/registers/documents/{school_doc.id}/file")
    district_wide = reg_client.get(f"/registers/documents/{qs.id}/file")
    assert own.status_code == 200 and own.mimetype == "application/pdf" and own.data == PDF
    assert "private" in own.headers["Cache-Control"]
    for pdf in (own, district_wide):
        assert pdf.headers["Content-Disposition"].startswith("attachment;")
        assert pdf.headers["X-Content-Type-Options"] == "nosniff"
    assert district_wide.status_code == 200
    assert reg_client.get(f"/registers/documents/{qs.id}/thumb.jpg").status_code == 404
    own.close()
    district_wide.close()

    reg_client.post(
        "/logout",
        data={"csrf_token": csrf_token(reg_client.get("/registers/S1").get_data(as_text=True))},
    )
    reg_auth.login("far")
    assert reg_client.get(f"/registers/documents/{school_doc.id}/file").status_code == 404
    assert reg_client.get(f"/registers/documents/{qs.id}/file").status_code == 404


def test_an_admin_renews_a_certificate_and_the_old_one_stays_in_the_history(
    reg_client: FlaskClient,
    reg_auth: Auth,
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    world: World,
) -> None:
    old = _document(
        session,
        clock,
        store,
        world.admin,
        world.school,
        world.cook,
        title="2025年健康证",
        expires_on=date(2026, 3, 20),
    )
    _login_in_english(reg_client, reg_auth, "admin")
    url = f"/registers/S1/documents/{old.id}/renew"
    assert 'value="2025年健康证"' in reg_client.get(url).get_data(as_text=True)

    renewed = _post(
        reg_client,
        url,
        {
            "title": "2026年健康证",
            "expires_on": "2027-03-20",
            "file": FileStorage(io.BytesIO(PDF), "scan.pdf", "file", "application/pdf"),
        },
    )

    assert renewed.status_code == 302
    detail = reg_client.get(renewed.headers["Location"]).get_data(as_text=True)
    assert "2026年健康证" in detail and "2025年健康证" in detail  # the history
    assert "Download the PDF" in detail
    old_page = reg_client.get(f"/registers/S1/documents/{old.id}").get_data(as_text=True)
    assert "This document was renewed." in old_page
    assert reg_client.get(url).status_code == 404  # renewed once is enough
    register = reg_client.get("/registers/S1").get_data(as_text=True)
    assert "Until 2027-03-20" in register and "Until 2026-03-20" not in register


def test_a_district_admin_adds_and_edits_a_supplier(
    reg_client: FlaskClient, reg_auth: Auth, session: Session, world: World
) -> None:
    _login_in_english(reg_client, reg_auth, "district")

    refused = _post(
        reg_client,
        "/registers/S1/suppliers/new",
        {"name": "", "categories": "gold"},
    )
    added = _post(
        reg_client,
        "/registers/S1/suppliers/new",
        {"name": "肉联厂", "phone": "0411-1234567", "categories": "meat", "brands": "双汇，雨润\n"},
    )

    assert refused.status_code == 422
    assert "Enter the supplier&#39;s name." in refused.get_data(as_text=True)
    assert added.status_code == 302
    page = reg_client.get("/registers/S1?tab=suppliers&category=meat").get_data(as_text=True)
    assert "肉联厂" in page and "双汇, 雨润" in page and "No documents on file." in page
    edit_url = re.search(r'href="(/registers/S1/suppliers/\d+/edit)"', page).group(1)

    edited = _post(reg_client, edit_url, {"name": "肉联厂", "categories": "meat", "brands": ""})

    assert edited.status_code == 302  # "active" left unticked: no longer approved
    assert "肉联厂" not in reg_client.get("/registers/S1?tab=suppliers&category=rice").get_data(
        as_text=True
    )
    assert "Not approved" in reg_client.get("/registers/S1?tab=suppliers").get_data(as_text=True)


def test_school_admins_see_suppliers_but_cannot_keep_them(
    reg_client: FlaskClient, reg_auth: Auth, session: Session, clock: SettableClock, world: World
) -> None:
    supplier = add_supplier(
        session,
        world.district,
        world.school.district_id,
        name="水厂",
        categories=["water"],
        now=clock.now(),
    )
    session.commit()
    _login_in_english(reg_client, reg_auth, "admin")

    page = reg_client.get("/registers/S1?tab=suppliers").get_data(as_text=True)

    assert "水厂" in page and "/suppliers/new" not in page and "/edit" not in page
    assert reg_client.get(f"/registers/S1/suppliers/{supplier.id}/edit").status_code == 404
    form = reg_client.get("/registers/S1/documents/new").get_data(as_text=True)
    assert f"supplier-{supplier.id}" not in form


def test_a_supplier_card_says_when_its_goods_would_be_refused_and_who_adds_the_licence(
    reg_client: FlaskClient, reg_auth: Auth, session: Session, clock: SettableClock, world: World
) -> None:
    add_supplier(
        session,
        world.district,
        world.school.district_id,
        name="水厂",
        categories=["water"],
        now=clock.now(),
    )
    session.commit()
    _login_in_english(reg_client, reg_auth, "admin")

    page = reg_client.get("/registers/S1?tab=suppliers").get_data(as_text=True)

    assert "水厂 has no Food business licence or Food production licence (SC) in the register" in (
        page
    )
    assert "district administrator" in page


def test_the_insurance_tab_names_what_is_missing(
    reg_client: FlaskClient,
    reg_auth: Auth,
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    world: World,
) -> None:
    make_asset(session, clock, world.school, AssetKind.BUS, "BUS-1", "一号校车")
    _document(
        session,
        clock,
        store,
        world.admin,
        world.school,
        None,
        kind=DocumentKind.INSURANCE_POLICY,
        insurance_type="student_accident",
        title="学平险",
    )
    _login_in_english(reg_client, reg_auth, "admin")

    html = reg_client.get("/registers/S1?tab=insurance").get_data(as_text=True)

    assert "Student accident insurance" in html
    assert "No valid School liability insurance" in html
    assert "BUS-1 一号校车: No valid Bus carrier liability insurance" in html


def test_an_unknown_tab_or_category_is_404(
    reg_client: FlaskClient, reg_auth: Auth, world: World
) -> None:
    reg_auth.login("cook")

    assert reg_client.get("/registers/S1?tab=secrets").status_code == 404
    assert reg_client.get("/registers/S1?tab=suppliers&category=gold").status_code == 404
    assert reg_client.get("/registers/S1?page=999").status_code == 200


def test_the_live_register_is_called_a_register_and_the_period_ledgers_a_ledger(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session, "S9", "第九小学")
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin9")
    session.commit()
    auth.login("admin9")

    register = client.get("/registers/S9").get_data(as_text=True)
    ledger = client.get("/ledger/S9").get_data(as_text=True)

    assert "<h1>第九小学 · 证照登记</h1>" in register
    assert "证照台账：" in ledger and "人员持证台账" in ledger


def test_a_register_ledger_of_this_month_reads_its_status_today_not_at_the_months_end(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session, "S9", "第九小学")
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin9")
    session.commit()
    clock.set(datetime(2026, 3, 10, 2, tzinfo=UTC))
    auth.login("admin9")

    march = client.get("/ledger/S9/registers/certificates?period=month&on=2026-03-01")
    february = client.get("/ledger/S9/registers/certificates?period=month&on=2026-02-01")

    assert "状态截至：2026-03-10" in march.get_data(as_text=True)
    assert "状态截至：2026-02-28" in february.get_data(as_text=True)
