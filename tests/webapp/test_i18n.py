"""The web shows each person the language they read and times in their district's zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.notifications import Severity, notify
from models.org import District
from models.people import Person, Role
from settings import Settings
from tests.conftest import Auth
from tests.factories import make_person, make_school

SAME_PHOTO = (
    "%(asset)s: record %(record)d (%(checklist)s) has the same photo as "
    "record %(earlier)d at %(at)s."
)


def _staff_of_an_english_district(session: Session, clock: SettableClock) -> Person:
    district = District(code="D-EN", name="District", locale="en", timezone="Europe/London")
    school = make_school(session, district=district)
    staff = make_person(session, clock, school, Role.TEACHER, "staff")
    notify(
        session,
        [staff],
        message=SAME_PHOTO,
        params={
            "asset": "Extinguisher",
            "record": 2,
            "checklist": {"zh_CN": "灭火器月度检查", "en": "Extinguisher check"},
            "earlier": 1,
            "at": datetime(2026, 3, 2, 8, 0, tzinfo=UTC).isoformat(),
        },
        severity=Severity.MAJOR,
        dedup_key="same",
        now=clock.now(),
    )
    return staff


def test_a_person_of_an_english_district_reads_english_pages_and_its_times(
    session: Session, clock: SettableClock, client: FlaskClient, auth: Auth
) -> None:
    _staff_of_an_english_district(session, clock)
    session.commit()

    auth.login("staff")
    tasks = client.get("/tasks").get_data(as_text=True)
    inbox = client.get("/inbox").get_data(as_text=True)

    assert "<h1>Tasks</h1>" in tasks
    assert "has the same photo as record 1 at 03-02 08:00" in inbox  # London, not Shanghai


def test_a_persons_own_language_wins_over_their_districts(
    session: Session, clock: SettableClock, client: FlaskClient, auth: Auth
) -> None:
    staff = _staff_of_an_english_district(session, clock)
    staff.locale = "zh_CN"
    session.commit()

    auth.login("staff")

    assert "<h1>待办</h1>" in client.get("/tasks").get_data(as_text=True)


def test_a_visitor_reads_the_configured_default_language(
    settings: Settings, request: pytest.FixtureRequest
) -> None:
    settings.i18n.default_locale = "en"
    client: FlaskClient = request.getfixturevalue("client")

    page = client.get("/login").get_data(as_text=True)

    assert "Log in" in page and "登录" not in page
