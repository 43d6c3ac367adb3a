"""Bus trips on the phone: departure, arrival, the trip ledger, and alerts that stick."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models.assets import AssetKind
from models.clock import SettableClock
from models.notifications import inbox
from models.people import Person, Role
from tests.conftest import Auth
from tests.factories import make_asset, make_person, make_school
from tests.webapp.helpers import submit_form


def _bus(session: Session, clock: SettableClock) -> tuple[str, Person]:
    school = make_school(session)
    make_person(session, clock, school, Role.TEACHER, "teacher")
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车", seats=19)
    session.commit()
    return bus.current_label.token, admin


def test_the_bus_page_offers_departure_first_then_arrival_while_on_the_road(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    token, _ = _bus(session, clock)
    auth.login("teacher")

    before = client.get(f"/s/{token}").get_data(as_text=True)
    submit_form(
        client,
        token,
        "bus_departure",
        {"teacher_on_board": "yes", "children_boarded": "15", "seatbelts_on": "yes"},
    )
    during = client.get(f"/s/{token}").get_data(as_text=True)

    assert before.index("校车发车确认") < before.index("校车到达确认")
    assert during.index("校车到达确认") < during.index("校车发车确认")


def test_a_trip_shows_on_the_trip_ledger_with_its_counts(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    token, _ = _bus(session, clock)
    auth.login("teacher")
    submit_form(
        client,
        token,
        "bus_departure",
        {"teacher_on_board": "yes", "children_boarded": "15", "seatbelts_on": "yes"},
    )
    submit_form(
        client, token, "bus_arrival", {"children_got_off": "14", "bus_checked_empty": "yes"}
    )

    ledger = client.get("/trips/S1").get_data(as_text=True)

    assert "发车，上车 15 人" in ledger
    assert "到达，下车 14 人" in ledger
    assert "请检查车辆" in ledger


def test_an_overloaded_bus_is_refused_and_the_alert_is_kept(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    token, admin = _bus(session, clock)
    auth.login("teacher")

    response = submit_form(
        client,
        token,
        "bus_departure",
        {"teacher_on_board": "yes", "children_boarded": "24", "seatbelts_on": "yes"},
    )

    assert response.status_code == 422
    assert "本车核载仅 19 座" in response.get_data(as_text=True)
    session.rollback()
    [alert] = inbox(session, admin)
    assert alert.params["children"] == 24
