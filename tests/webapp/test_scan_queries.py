"""The asset page a scan opens asks the database a fixed, small number of questions: a phone
in a queue of staff scanning labels gets its page as fast with a long history as a short one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from models.assets import AssetKind
from models.clock import SettableClock
from models.people import Role
from tests.conftest import Auth
from tests.factories import EXTINGUISHER_OK, jpeg_bytes, make_asset, make_person, make_school
from tests.webapp.helpers import submit_form

# What the staff view reads: the login with its person and roles, the label with its asset,
# school and district, the kind's checklists, the district's choice of roles for them, the
# latest records with their filers and photos, the open tasks, the last service, the open
# actions and the unread notices. The public view reads the label with its asset and school.
STAFF_QUERIES = 9
# A meter's has no service dates to read, but its latest readings as records, the reading
# before them and theirs between, for the consumption beside each.
METER_QUERIES = STAFF_QUERIES - 1 + 3
PUBLIC_QUERIES = 1


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    """The statements that read or write a table while the block runs."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().split(None, 1)[0].upper() in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _asset_with_history(
    app: Flask, session: Session, clock: SettableClock, records: int
) -> tuple[str, str]:
    """An extinguisher with `records` checks filed with a photo, by two inspectors, each on
    their own phone; the label's token and the login of one of them."""
    school = make_school(session)
    make_person(session, clock, school, username="first", phone="13800000008")
    make_person(session, clock, school, username="second")
    # Its agent and production date give it service and scrap dates: one query more.
    made = {"agent": "ABC干粉", "production_date": "2024-03-01"}
    token = make_asset(session, clock, school, **made).current_label.token
    session.commit()
    phones = {}
    for login in ("first", "second"):
        phones[login] = app.test_client()
        Auth(phones[login]).login(login)
    for n in range(records):
        answers = {**EXTINGUISHER_OK, "confirm_repeat": "y"}
        phone = phones["first" if n % 2 else "second"]
        filed = submit_form(phone, token, "extinguisher_monthly", answers, {"photo": jpeg_bytes()})
        assert filed.status_code == 302, filed.get_data(as_text=True)
        clock.advance(timedelta(minutes=1))
    return token, "first"


def test_a_staff_scan_reads_the_same_few_queries_however_long_the_history(
    app: Flask,
    client: FlaskClient,
    auth: Auth,
    session: Session,
    clock: SettableClock,
    engine: Engine,
) -> None:
    token, login = _asset_with_history(app, session, clock, records=5)
    auth.login(login)
    client.get(f"/s/{token}")

    with counted(engine) as statements:
        page = client.get(f"/s/{token}")

    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert text.count('class="thumbs"') == 3  # the latest three, each with its photo
    assert "Second" in text  # who filed them, though not the one logged in
    assert len(statements) <= STAFF_QUERIES, "\n".join(statements)


def test_a_public_scan_reads_the_label_its_asset_and_school_at_once(
    client: FlaskClient, session: Session, clock: SettableClock, engine: Engine
) -> None:
    school = make_school(session)
    asset = make_asset(session, clock, school)
    token = asset.current_label.token
    session.commit()

    with counted(engine) as statements:
        page = client.get(f"/s/{token}")

    assert page.status_code == 200 and asset.name in page.get_data(as_text=True)
    assert len(statements) <= PUBLIC_QUERIES, "\n".join(statements)


def test_a_meters_scan_reads_its_consumption_in_a_few_queries_more(
    app: Flask,
    client: FlaskClient,
    auth: Auth,
    session: Session,
    clock: SettableClock,
    engine: Engine,
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    meter = make_asset(
        session, clock, school, AssetKind.METER, "SB-01", "食堂水表", meter_type="water"
    )
    token = meter.current_label.token
    session.commit()
    auth.login("admin")
    for n, reading in enumerate(("500", "532.5", "560", "601")):
        day = f"2026-0{n + 3}-02"
        answers = {"reading": reading, "read_on": day, "abnormal": "no"}
        filed = submit_form(
            client, token, "meter_reading", answers, {"meter_photo": jpeg_bytes((400, 300))}
        )
        assert filed.status_code == 302, filed.get_data(as_text=True)
        clock.advance(timedelta(days=30))
    client.get(f"/s/{token}")

    with counted(engine) as statements:
        page = client.get(f"/s/{token}")

    assert "自 2026-05-02 以来用量：41 立方米" in page.get_data(as_text=True)
    assert len(statements) <= METER_QUERIES, "\n".join(statements)
