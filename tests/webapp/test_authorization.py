"""Every route of the web app, for every role, on its own school's objects and on another
school's, answers as the table of who may do what says (tests/webapp/authorization_table.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.routing import Rule

from models.clock import SettableClock
from models.people import Role
from models.photos import PhotoStore
from models.stored_files import DocumentFile
from settings import Settings
from tests.conftest import Auth, csrf_token
from tests.factories import (
    PASSWORD,
    jpeg_bytes,
    make_asset,
    make_certificate,
    make_person,
    make_school,
)
from tests.webapp.authorization_table import LOGIN, NOT_FOUND, OK, TABLE, Access
from tests.webapp.authorization_world import (
    ANONYMOUS,
    DISTRICT_ADMIN,
    OTHER_DISTRICT_ADMIN,
    SUBJECTS,
    Side,
    World,
    build_world,
)
from webapp import create_app, downloads

ARGUMENT_RE = re.compile(r"<(?:[a-z_]+(?:\([^)]*\))?:)?([a-z_]+)>")
# What the arguments naming no row are filled with: a page that exists for some reader.
FIXED = {
    "key": "extinguisher_monthly",
    "template_key": "extinguisher_monthly",
    "name": "certificates",
    "day": "2026-03-02",
    "kind": "week",
    "starts_on": "2026-03-01",
    "family": "fire-safety",
    "period": "monthly",
    "year": "2026",
    "filename": "none.css",
}
BY_ENDPOINT = {
    "admin.new_asset": {"kind": "extinguisher"},
    "admin.import_template": {"kind": "people"},
    "admin.import_template_xlsx": {"kind": "people"},
    "reports.pdf_report": {"starts_on": "2026-03-02", "kind": "weekly"},
    "reports.print_report": {"starts_on": "2026-03-02", "kind": "weekly"},
    "reports.show_report": {"starts_on": "2026-03-02", "kind": "weekly"},
    "serve_script": {"name": "photos.js"},
    "scan.confirm_rear": {"token": "rear_token"},
}
# These change what later cases find (a group switched off, a login ended): asked last.
LAST = ("channel_groups.disable", "auth.logout")


def url_for_rule(rule: Rule, side: Side, person_id: int | None) -> str:
    """The rule's path with each argument naming the side's row of its kind."""
    values = {**FIXED, **side.values}
    for name, value in BY_ENDPOINT.get(rule.endpoint, {}).items():
        values[name] = side.values.get(value, value)
    notices, logins = side.notices, side.logins
    reader = person_id if person_id is not None else min(notices)
    values["notification_id"], values["login_id"] = str(notices[reader]), str(logins[reader])
    return ARGUMENT_RE.sub(lambda match: values[match.group(1)], rule.rule)


def names_a_school(rule: Rule) -> bool:
    """Whether the rule's path names a school or one of its rows, so another school's differs."""
    return any(name in rule.arguments for name in _ROW_NAMES)


_ROW_NAMES = (
    "school_code",
    "district_code",
    "token",
    "action_id",
    "asset_id",
    "person_id",
    "record_id",
    "photo_id",
    "document_id",
    "supplier_id",
    "order_id",
    "entry_id",
    "duty_id",
    "group_id",
    "notification_id",
    "login_id",
)


def answer(status: int, location: str, method: str) -> str:
    """The class of an answer: let in, sent to log in, or not there."""
    if status == 404:
        return NOT_FOUND
    if status in (301, 302, 303) and "/login" in location:
        return LOGIN
    if status < 400 or (method == "POST" and status in (400, 409, 422)):
        return OK
    return str(status)


def expected(access: Access, subject: str, side: str) -> str:
    """What the table says this subject gets on this side's row: a role let in on its own
    school's finds another school's rows not there; one not let in is refused."""
    if subject == ANONYMOUS:
        return OK if ANONYMOUS in access.who else access.anonymous
    if access.mine:
        foreign = side == "other"
    else:
        foreign = subject == OTHER_DISTRICT_ADMIN or (side == "other" and subject != DISTRICT_ADMIN)
    foreign = foreign and access.scoped
    who = DISTRICT_ADMIN if subject == OTHER_DISTRICT_ADMIN else subject
    if who in access.who:
        return NOT_FOUND if foreign else OK
    return (access.refused_elsewhere or access.refused) if foreign else access.refused


@dataclass(frozen=True)
class Case:
    endpoint: str
    subject: str
    side: str
    method: str
    url: str


def cases(app: Flask, world: World) -> Iterator[Case]:
    rules = sorted(
        app.url_map.iter_rules(),
        key=lambda r: (LAST.index(r.endpoint) if r.endpoint in LAST else -1, r.endpoint),
    )
    for rule in rules:
        method = "GET" if rule.methods and "GET" in rule.methods else "POST"
        for subject in SUBJECTS:
            person = world.people.get(subject)
            for side_name, side in (("own", world.own), ("other", world.other)):
                if side_name == "other" and not names_a_school(rule):
                    continue
                url = url_for_rule(rule, side, person.id if person else None)
                yield Case(rule.endpoint, subject, side_name, method, url)


def test_every_route_answers_every_role_as_the_table_says(
    settings: Settings,
    session_factory: sessionmaker[Session],
    session: Session,
    clock: SettableClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # E-mail configured, so its settings route is there; PDFs not drawn (who gets one is
    # decided before, and drawing a hundred would take minutes).
    settings.email.host, settings.email.sender = "127.0.0.1", "houqin@school.test"
    monkeypatch.setattr(downloads, "pdf_of", lambda html: b"%PDF-1.7")
    app = create_app(settings, session_factory=session_factory, clock=clock)
    app.config["TESTING"] = True
    store: PhotoStore = app.extensions["houqin.photos"]
    world = build_world(session, clock, store)
    session.commit()
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert not endpoints - set(TABLE), (
        f"routes with no entry in the table: {endpoints - set(TABLE)}"
    )
    assert not set(TABLE) - endpoints, f"table entries for no route: {set(TABLE) - endpoints}"

    clients: dict[str, FlaskClient] = {}
    tokens: dict[str, str] = {}
    for subject in SUBJECTS:
        client = clients[subject] = app.test_client()
        if subject != ANONYMOUS:
            Auth(client).login(world.people[subject].username, PASSWORD)
        page = "/password" if subject != ANONYMOUS else "/login"
        tokens[subject] = csrf_token(client.get(page).get_data(as_text=True))

    wrong = []
    tried = 0
    for case in cases(app, world):
        client = clients[case.subject]
        data = {"csrf_token": tokens[case.subject]} if case.method == "POST" else None
        # A second each: what may be asked once a second (a group's test post) is asked anew.
        clock.set(clock.now() + timedelta(seconds=1))
        response = client.open(case.url, method=case.method, data=data)
        got = answer(response.status_code, response.headers.get("Location", ""), case.method)
        response.close()
        want = expected(TABLE[case.endpoint], case.subject, case.side)
        tried += 1
        if got != want:
            wrong.append(f"{case.endpoint} {case.subject} {case.side} {case.url}: {got} ≠ {want}")
    print(f"authorization cases: {tried}")
    assert not wrong, "\n".join(wrong)
    assert tried > 2000


def test_a_colleagues_health_certificate_is_refused_to_canteen_staff_and_teachers(
    app: Flask, client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    store: PhotoStore = app.extensions["houqin.photos"]
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    cook = make_person(session, clock, school, Role.CANTEEN_STAFF, "cook")
    make_person(session, clock, school, Role.CANTEEN_STAFF, "colleague")
    make_person(session, clock, school, Role.TEACHER, "teacher")
    make_person(session, clock, school, Role.FOOD_SAFETY_OFFICER, "officer")
    scan = DocumentFile(data=jpeg_bytes((400, 300)), filename="s.jpg", content_type="image/jpeg")
    certificate = make_certificate(
        session, clock, store, admin, school, cook, upload=scan, number="JKZ-2026-0317"
    )
    session.commit()
    page = f"/registers/S1/documents/{certificate.id}"
    scan_url = f"/registers/documents/{certificate.id}/file"

    seen = {}
    for login in ("colleague", "teacher", "cook", "officer", "admin"):
        auth.login(login)
        register = client.get("/registers/S1?tab=people").get_data(as_text=True)
        opened = client.get(page).status_code
        with client.get(scan_url) as response:
            scanned = response.status_code
        seen[login] = (
            opened,
            scanned,
            f'href="{page}"' in register,
            "健康证" in register,  # its kind and status, at least
            "JKZ-2026-0317"
            in client.get("/ledger/S1/registers/certificates").get_data(as_text=True),
        )
        client.post("/logout", data={"csrf_token": csrf_token(register)})

    assert seen["colleague"] == (404, 404, False, True, False)
    assert seen["teacher"] == (404, 404, False, True, False)
    for allowed in ("cook", "officer", "admin"):
        assert seen[allowed] == (200, 200, True, True, True), allowed


def test_a_colleagues_phone_number_shows_to_administrators_only(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    keeper = make_person(session, clock, school, Role.INSPECTOR, "keeper", phone="13800000007")
    make_person(session, clock, school, Role.TEACHER, "teacher")
    asset = make_asset(session, clock, school, responsible=keeper)
    session.commit()
    label = f"/s/{asset.current_label.token}"

    shown = {}
    for login in ("teacher", "keeper", "admin"):
        auth.login(login)
        page = client.get(label).get_data(as_text=True)
        shown[login] = "13800000007" in page and "Keeper" in page
        client.post("/logout", data={"csrf_token": csrf_token(page)})

    assert shown == {"teacher": False, "keeper": True, "admin": True}
