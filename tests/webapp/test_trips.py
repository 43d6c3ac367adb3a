"""Bus trips on the phone: departure, arrival, the trip ledger, and alerts that stick."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.assets import Asset, AssetKind
from models.clock import SettableClock
from models.notifications import inbox
from models.people import Person, Role
from models.photos import PhotoStore
from models.records import Record
from models.trips import Trip, TripStatus
from tests.conftest import Auth, csrf_token
from tests.factories import (
    PRE_TRIP_OK,
    file_pre_trip_check,
    give_bus_papers,
    make_asset,
    make_person,
    make_school,
)
from tests.webapp.helpers import submit_form


def _bus(
    session: Session, clock: SettableClock, store: PhotoStore | None = None
) -> tuple[str, Person]:
    """A bus and its school; checked by the driver this morning when a store is given."""
    school = make_school(session)
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车", seats=19)
    give_bus_papers(session, clock, bus, None)
    if store is not None:
        file_pre_trip_check(session, clock, store, bus, teacher)
    session.commit()
    return bus.current_label.token, admin


def _rear_token(session: Session) -> str:
    token = session.scalar(select(Asset).where(Asset.kind == AssetKind.BUS)).rear_label.token
    session.rollback()  # the test's session lets go of the database before the phone writes
    return token


def _scan_rear(client: FlaskClient, session: Session):
    """The escort scans the label at the back of the bus and confirms the walk."""
    rear = _rear_token(session)
    page = client.get(f"/s/{rear}").get_data(as_text=True)
    return page, client.post(f"/s/{rear}/rear", data={"csrf_token": csrf_token(page)})


def test_the_bus_page_offers_departure_first_then_arrival_while_on_the_road(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    token, _ = _bus(session, clock, store)
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


def test_before_the_days_pre_trip_check_the_bus_page_offers_that_check_first(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    token, _ = _bus(session, clock)
    auth.login("teacher")

    first = client.get(f"/s/{token}").get_data(as_text=True)
    submit_form(client, token, "bus_pre_trip_check", PRE_TRIP_OK)
    checked = client.get(f"/s/{token}").get_data(as_text=True)

    assert first.index("校车出车前检查") < first.index("校车发车确认")
    assert checked.index("校车发车确认") < checked.index("校车出车前检查")


def test_a_trip_shows_on_the_trip_ledger_with_its_counts(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    token, _ = _bus(session, clock, store)
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
    _scan_rear(client, session)

    ledger = client.get("/trips/S1").get_data(as_text=True)

    assert "教师：Teacher" in ledger
    assert "发车，上车 15 人" in ledger
    assert "到达，下车 14 人" in ledger
    assert "请检查车辆" in ledger


def test_an_overloaded_bus_is_refused_and_the_alert_is_kept(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    token, admin = _bus(session, clock, store)
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


def test_a_bus_with_no_escort_teacher_is_refused_beside_the_answer_and_the_alert_is_kept(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    token, admin = _bus(session, clock, store)
    auth.login("teacher")

    response = submit_form(
        client,
        token,
        "bus_departure",
        {"teacher_on_board": "no", "children_boarded": "15", "seatbelts_on": "yes"},
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="f-teacher_on_board"' in html
    field = html[html.index('id="f-teacher_on_board"') :]
    assert field.index("没有跟车教师在车上，校车不得发车") < field.index('id="f-children_boarded"')
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Trip)) == 0
    [alert] = inbox(session, admin)
    assert alert.severity == "critical" and alert.dedup_key.startswith("no_escort:")


def test_a_departure_form_says_at_once_that_todays_pre_trip_check_is_missing(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    token, _ = _bus(session, clock)
    auth.login("teacher")

    form = client.get(f"/s/{token}/record/bus_departure").get_data(as_text=True)
    response = submit_form(
        client,
        token,
        "bus_departure",
        {"teacher_on_board": "yes", "children_boarded": "15", "seatbelts_on": "yes"},
    )

    assert "今天还没有驾驶员的“校车出车前检查”记录" in form
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "今天还没有驾驶员的“校车出车前检查”记录" in html
    assert 'value="15"' in html
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Record)) == 0


def test_an_arrival_with_no_departure_is_refused_with_a_message(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    token, _ = _bus(session, clock, store)
    auth.login("teacher")

    response = submit_form(
        client, token, "bus_arrival", {"children_got_off": "14", "bus_checked_empty": "yes"}
    )

    assert response.status_code == 422
    assert "这辆校车没有未结束的发车记录" in response.get_data(as_text=True)
    session.rollback()
    # Only the morning's pre-trip check.
    assert session.scalar(select(func.count()).select_from(Record)) == 1


def test_the_arrival_completes_when_the_escort_scans_the_rear_label(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    token, _ = _bus(session, clock, store)
    auth.login("teacher")
    submit_form(
        client,
        token,
        "bus_departure",
        {"teacher_on_board": "yes", "children_boarded": "15", "seatbelts_on": "yes"},
    )
    arrival = submit_form(
        client, token, "bus_arrival", {"children_got_off": "15", "bus_checked_empty": "yes"}
    )
    done = client.get(arrival.headers["Location"]).get_data(as_text=True)
    front = client.get(f"/s/{token}").get_data(as_text=True)
    waiting = client.get("/trips/S1").get_data(as_text=True)

    page, confirmed = _scan_rear(client, session)

    assert "现在请走到车尾，逐排检查，并扫车尾的标签" in done
    assert "现在请走到车尾，逐排检查，并扫车尾的标签" in front
    assert "等待车尾检查" in waiting and "还没有人扫车尾标签" in waiting
    assert "车尾标签" in page and "下车 15 人" in page
    assert "我已走到车尾逐排检查：车内无学生滞留" in page
    assert confirmed.status_code == 302
    ledger = client.get(confirmed.headers["Location"]).get_data(as_text=True)
    assert "到达确认完成：已检查到最后一排。" in ledger
    assert "到达，下车 15 人" in ledger and "已到达" in ledger
    assert "现在请走到车尾" not in client.get(f"/s/{token}").get_data(as_text=True)
    session.rollback()
    assert session.scalar(select(Trip)).status == TripStatus.ARRIVED


def test_the_rear_label_before_any_arrival_says_to_file_the_arrival_first(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    token, _ = _bus(session, clock, store)
    auth.login("teacher")
    submit_form(
        client,
        token,
        "bus_departure",
        {"teacher_on_board": "yes", "children_boarded": "15", "seatbelts_on": "yes"},
    )

    page, refused = _scan_rear(client, session)

    assert "请先扫车门处的标签填写到达确认" in page
    assert refused.status_code == 422
    assert "请先扫车门处的标签填写到达确认" in refused.get_data(as_text=True)
    rear = _rear_token(session)
    # The rear label files no checklist of its own.
    assert client.get(f"/s/{rear}/record/bus_arrival").status_code == 404
    session.rollback()
    assert session.scalar(select(Trip)).status == TripStatus.EN_ROUTE


def test_a_departure_with_an_expired_driver_review_is_refused_by_name_and_alerts(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    from datetime import date

    from models.documents import DocumentKind
    from tests.factories import make_certificate

    school = make_school(session)
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    driver = make_person(session, clock, school, Role.BUS_STAFF, "driver")
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车")
    make_certificate(
        session,
        clock,
        store,
        admin,
        school,
        driver,
        kind=DocumentKind.DRIVER_REVIEW,
        title="审验",
        expires_on=date(2026, 2, 28),
    )
    file_pre_trip_check(session, clock, store, bus, driver)
    token = bus.current_label.token
    session.commit()
    auth.login("teacher")

    form = client.get(f"/s/{token}/record/bus_departure").get_data(as_text=True)
    response = submit_form(
        client,
        token,
        "bus_departure",
        {"teacher_on_board": "yes", "children_boarded": "15", "seatbelts_on": "yes"},
    )

    refusal = "校车不得发车：Driver的驾驶证审验已于 2026-02-28 过期"
    assert refusal in form
    assert response.status_code == 422 and refusal in response.get_data(as_text=True)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Trip)) == 0
    [alert] = inbox(session, admin)
    assert alert.severity == "critical" and refusal in alert.text
    assert any(n.dedup_key == alert.dedup_key for n in inbox(session, teacher))


def test_a_bus_with_no_papers_on_file_is_refused_naming_them_and_who_adds_them(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    teacher.locale = "en"
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    driver = make_person(session, clock, school, Role.BUS_STAFF, "driver")
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车")
    file_pre_trip_check(session, clock, store, bus, driver, papers=False)
    token = bus.current_label.token
    session.commit()
    auth.login("teacher")

    page = client.get(f"/s/{token}").get_data(as_text=True)
    form = client.get(f"/s/{token}/record/bus_departure").get_data(as_text=True)
    response = submit_form(
        client,
        token,
        "bus_departure",
        {"teacher_on_board": "yes", "children_boarded": "15", "seatbelts_on": "yes"},
    )

    # The pre-trip check is done: the bus page offers the departure, which says why not.
    assert page.index("Bus departure") < page.index("School bus pre-trip check")
    refusal = "Missing: Bus safety inspection, Bus carrier liability insurance of 1号校车"
    assert refusal in form
    assert "School-bus driving qualification, Driving licence annual review of Driver" in form
    assert response.status_code == 422 and refusal in response.get_data(as_text=True)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Trip)) == 0
    [alert] = inbox(session, admin)
    assert alert.severity == "critical"
    assert "缺少：1号校车的校车安全技术检验、校车承运人责任险" in alert.text
    assert "请学校管理员在证照登记中" in alert.text


def test_a_second_departure_while_the_bus_is_on_the_road_is_refused_on_the_form(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    token, _ = _bus(session, clock, store)
    auth.login("teacher")
    departure = {"teacher_on_board": "yes", "children_boarded": "15", "seatbelts_on": "yes"}
    submit_form(client, token, "bus_departure", departure)

    form = client.get(f"/s/{token}/record/bus_departure").get_data(as_text=True)
    again = submit_form(client, token, "bus_departure", departure)

    said = "这辆车还有一趟未结束的行程（08:30 出发）"
    assert said in form
    assert again.status_code == 422 and said in again.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Trip)) == 1
