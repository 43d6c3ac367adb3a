"""Input limits a person or a prober meets at the door: ids no row can have."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.routing import IntegerConverter

from models.clock import SettableClock
from tests.conftest import Auth
from tests.factories import make_district_admin, make_school

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
