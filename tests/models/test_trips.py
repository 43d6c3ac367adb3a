"""Bus trips keep children safe: counts match, no overloading, every trip arrives."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.actions import CorrectiveAction
from models.assets import AssetKind
from models.bus_papers import message_in
from models.catalogue import translate
from models.checklists import base_template
from models.clock import SettableClock
from models.messages import SubmissionInvalid
from models.notifications import Notification, inbox
from models.people import Role
from models.photos import PhotoStore
from models.records import Channel, Record, submit_record
from models.trips import Trip, TripRefused, TripStatus, check_rear, sweep_trips, trip_ledger
from tests.factories import file_pre_trip_check, make_asset, make_person, make_school


@pytest.fixture
def bus_world(session: Session, clock: SettableClock, store: PhotoStore):
    """A bus whose driver checked it this morning, its escort teacher and the administrator."""
    school = make_school(session)
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    bus = make_asset(
        session, clock, school, AssetKind.BUS, "XC-01", "1号校车", seats=19, driver="马师傅"
    )
    file_pre_trip_check(session, clock, store, bus, teacher)
    return teacher, admin, bus


def _scan(session, clock, store, teacher, bus, template_key, answers, key):
    return submit_record(
        session,
        actor=teacher,
        asset=bus,
        template=base_template(session, template_key),
        answers=answers,
        uploads=[],
        key=key,
        channel=Channel.WEB,
        clock=clock,
        store=store,
    ).record


def _depart(session, clock, store, teacher, bus, children, key="dep-0001", on_board="yes"):
    answers = {
        "teacher_on_board": on_board,
        "children_boarded": str(children),
        "seatbelts_on": "yes",
    }
    return _scan(session, clock, store, teacher, bus, "bus_departure", answers, key)


def _arrive(session, clock, store, teacher, bus, children, key="arr-0001"):
    answers = {"children_got_off": str(children), "bus_checked_empty": "yes"}
    return _scan(session, clock, store, teacher, bus, "bus_arrival", answers, key)


def test_a_trip_runs_from_departure_to_arrival_on_the_ledger(
    session: Session, clock: SettableClock, store: PhotoStore, bus_world
) -> None:
    teacher, admin, bus = bus_world

    _depart(session, clock, store, teacher, bus, 18)
    clock.advance(timedelta(minutes=40))
    arrival = _arrive(session, clock, store, teacher, bus, 18)
    clock.advance(timedelta(minutes=1))
    check_rear(session, teacher, bus, now=clock.now())

    [trip] = trip_ledger(session, admin, bus.school_id)
    assert arrival.passed
    assert trip.status == TripStatus.ARRIVED
    assert trip.rear_checked_by is teacher
    assert (trip.boarded, trip.got_off, trip.driver) == (18, 18, "马师傅")
    assert trip.arrived_at - trip.departed_at == timedelta(minutes=41)
    assert trip.teacher is teacher
    assert inbox(session, admin) == []


def test_a_child_missing_at_arrival_is_a_critical_alert_at_once(
    session: Session, clock: SettableClock, store: PhotoStore, bus_world
) -> None:
    teacher, admin, bus = bus_world
    _depart(session, clock, store, teacher, bus, 18)

    arrival = _arrive(session, clock, store, teacher, bus, 17)

    assert not arrival.passed
    assert "children_got_off" in arrival.failed_items
    alerts = [n for n in inbox(session, admin) if n.dedup_key.endswith(":mismatch")]
    assert len(alerts) == 1
    assert alerts[0].severity == "critical"
    assert alerts[0].params["boarded"] == 18 and alerts[0].params["got_off"] == 17
    assert any(n.dedup_key.endswith(":mismatch") for n in inbox(session, teacher))


def test_an_overloaded_departure_is_refused_and_still_alerts(
    session: Session, clock: SettableClock, store: PhotoStore, bus_world
) -> None:
    teacher, admin, bus = bus_world

    with pytest.raises(SubmissionInvalid) as refused:
        _depart(session, clock, store, teacher, bus, 25)

    # The refusal says it raised an alert: the door that answers it commits the alert only.
    assert refused.value.alerted
    assert session.scalar(select(Trip)) is None
    departures = select(Record).where(Record.template.has(key="bus_departure"))
    assert session.scalars(departures).all() == []
    [alert] = inbox(session, admin)
    assert alert.severity == "critical"
    assert (alert.params["children"], alert.params["seats"]) == (25, 19)


def test_a_bus_alert_puts_the_plate_in_each_readers_brackets(
    session: Session, clock: SettableClock, store: PhotoStore, bus_world
) -> None:
    teacher, admin, bus = bus_world
    bus.attributes = {**bus.attributes, "plate": "辽A·X5678"}
    reader = make_person(session, clock, bus.school, Role.SCHOOL_ADMIN, "reader")
    reader.locale = "en"

    with pytest.raises(SubmissionInvalid):
        _depart(session, clock, store, teacher, bus, 25)

    assert "1号校车（辽A·X5678）" in inbox(session, admin)[0].text
    assert "1号校车 (辽A·X5678)" in inbox(session, reader)[0].text


def test_no_arrival_in_time_raises_the_alarm_once(
    session: Session, clock: SettableClock, store: PhotoStore, bus_world
) -> None:
    teacher, admin, bus = bus_world
    _depart(session, clock, store, teacher, bus, 12)

    clock.advance(timedelta(minutes=89))
    assert sweep_trips(session, now=clock.now(), within=timedelta(minutes=90)) == []
    clock.advance(timedelta(minutes=2))
    [late] = sweep_trips(session, now=clock.now(), within=timedelta(minutes=90))
    clock.advance(timedelta(minutes=5))
    assert sweep_trips(session, now=clock.now(), within=timedelta(minutes=90)) == []

    assert late.status == TripStatus.NO_ARRIVAL
    alarms = session.scalars(
        select(Notification).where(Notification.dedup_key == f"trip:{late.id}:no_arrival")
    ).all()
    assert {n.recipient_id for n in alarms} == {admin.id, teacher.id}
    assert "A child may still be on the bus" in alarms[0].message


def test_a_bus_on_the_road_cannot_leave_again_until_its_trip_ends(
    session: Session, clock: SettableClock, store: PhotoStore, bus_world
) -> None:
    teacher, admin, bus = bus_world
    _depart(session, clock, store, teacher, bus, 12, key="dep-0001")
    clock.advance(timedelta(minutes=30))

    with pytest.raises(TripRefused) as refused:
        _depart(session, clock, store, teacher, bus, 10, key="dep-0002")

    assert message_in("zh_CN", refused.value.message).startswith(
        "这辆车还有一趟未结束的行程（08:30 出发）"
    )
    assert "scan the label there (车尾)" in message_in("en", refused.value.message)
    [trip] = session.scalars(select(Trip)).all()
    assert (trip.status, trip.boarded) == (TripStatus.EN_ROUTE, 12)
    assert [n.dedup_key for n in inbox(session, admin)] == [f"departure_refused:{bus.id}:dep-0002"]

    _arrive(session, clock, store, teacher, bus, 12)
    check_rear(session, teacher, bus, now=clock.now())
    _depart(session, clock, store, teacher, bus, 10, key="dep-0003")
    assert session.scalar(select(func.count()).select_from(Trip)) == 2


def test_a_bus_whose_rear_was_not_scanned_cannot_leave_again(
    session: Session, clock: SettableClock, store: PhotoStore, bus_world
) -> None:
    teacher, _, bus = bus_world
    _depart(session, clock, store, teacher, bus, 12, key="dep-0001")
    clock.advance(timedelta(minutes=40))
    _arrive(session, clock, store, teacher, bus, 12)

    with pytest.raises(TripRefused) as refused:
        _depart(session, clock, store, teacher, bus, 10, key="dep-0002")

    text = message_in("zh_CN", refused.value.message)
    assert text.startswith("这辆车还有一趟未结束的行程（08:30 出发）") and "车尾" in text
    check_rear(session, teacher, bus, now=clock.now())
    _depart(session, clock, store, teacher, bus, 10, key="dep-0003")
    assert session.scalar(select(func.count()).select_from(Trip)) == 2


def test_the_no_arrival_alert_comes_only_from_the_sweep_once_the_window_has_passed(
    session: Session, clock: SettableClock, store: PhotoStore, bus_world
) -> None:
    teacher, admin, bus = bus_world
    window = timedelta(minutes=120)
    _depart(session, clock, store, teacher, bus, 12, key="dep-0001")
    # A second departure in the same minute is refused, and flags no trip as lost.
    with pytest.raises(TripRefused):
        _depart(session, clock, store, teacher, bus, 12, key="dep-0002")

    def no_arrival_alerts() -> list[Notification]:
        return [n for n in inbox(session, admin) if n.dedup_key.endswith(":no_arrival")]

    assert sweep_trips(session, now=clock.now(), within=window) == []
    clock.advance(window)
    assert sweep_trips(session, now=clock.now(), within=window) == []
    assert no_arrival_alerts() == []
    clock.advance(timedelta(minutes=1))
    [late] = sweep_trips(session, now=clock.now(), within=window)

    assert late.status == TripStatus.NO_ARRIVAL
    assert len(no_arrival_alerts()) == 1


def test_a_departure_with_no_escort_teacher_is_refused_and_alerts(
    session: Session, clock: SettableClock, store: PhotoStore, bus_world
) -> None:
    teacher, admin, bus = bus_world

    with pytest.raises(SubmissionInvalid) as refused:
        _depart(session, clock, store, teacher, bus, 12, on_board="no")

    assert refused.value.alerted
    assert translate("zh_CN", refused.value.errors["teacher_on_board"].msgid).startswith(
        "没有跟车教师在车上，校车不得发车"
    )
    assert session.scalar(select(Trip)) is None
    departures = select(Record).where(Record.template.has(key="bus_departure"))
    assert session.scalars(departures).all() == []
    [alert] = inbox(session, admin)
    assert alert.severity == "critical"
    assert alert.dedup_key.startswith(f"no_escort:{bus.id}:")
    assert "no escort teacher on board" in alert.message


def test_a_departure_without_the_days_pre_trip_check_is_refused_by_name(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车")
    # Yesterday's check (23:50 in Shanghai) does not count for today (08:30 in Shanghai).
    clock.advance(timedelta(hours=-8, minutes=-40))
    file_pre_trip_check(session, clock, store, bus, teacher, key="pre-yesterday")
    clock.advance(timedelta(hours=8, minutes=40))

    with pytest.raises(TripRefused) as refused:
        _depart(session, clock, store, teacher, bus, 12)

    text = translate("zh_CN", refused.value.message.msgid) % {"check": "校车出车前检查"}
    assert "校车出车前检查" in text and "今天" in text
    assert session.scalar(select(Trip)) is None

    file_pre_trip_check(session, clock, store, bus, teacher, key="pre-today")
    _depart(session, clock, store, teacher, bus, 12)
    assert session.scalar(select(Trip)).status == TripStatus.EN_ROUTE


def test_a_failed_pre_trip_check_keeps_the_bus_in_the_yard_until_one_passes(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车")
    file_pre_trip_check(session, clock, store, bus, teacher, key="pre-0001", brakes="fail")

    with pytest.raises(TripRefused) as refused:
        _depart(session, clock, store, teacher, bus, 12)
    assert refused.value.message.params["time"] == "08:30"

    clock.advance(timedelta(minutes=20))
    file_pre_trip_check(session, clock, store, bus, teacher, key="pre-0002")
    _depart(session, clock, store, teacher, bus, 12)


def test_the_pre_trip_check_covers_what_the_regulation_names() -> None:
    from models.checklists import BUILTIN_DIR, load_template_file

    spec = load_template_file(BUILTIN_DIR / "bus_pre_trip_check.toml")
    labels = " ".join(item.label["en"].lower() for item in spec.items)
    for part in ("brakes", "steering", "lights", "tyres", "emergency", "seats", "belt"):
        assert part in labels
    assert all(spec.item(k).severity == "critical" for k in ("brakes", "steering", "seats"))


def test_an_arrival_with_no_open_departure_is_refused(
    session: Session, clock: SettableClock, store: PhotoStore, bus_world
) -> None:
    teacher, _, bus = bus_world

    with pytest.raises(TripRefused) as refused:
        _arrive(session, clock, store, teacher, bus, 12)

    assert "No departure of this bus is open" in refused.value.message.msgid
    assert session.scalars(select(Record).where(Record.template.has(key="bus_arrival"))).all() == []


def test_a_late_arrival_still_ends_the_trip_flagged_as_not_arrived(
    session: Session, clock: SettableClock, store: PhotoStore, bus_world
) -> None:
    teacher, _, bus = bus_world
    _depart(session, clock, store, teacher, bus, 12)
    clock.advance(timedelta(minutes=100))
    [late] = sweep_trips(session, now=clock.now(), within=timedelta(minutes=90))

    _arrive(session, clock, store, teacher, bus, 12)
    assert (late.status, late.got_off) == (TripStatus.NO_ARRIVAL, 12)
    check_rear(session, teacher, bus, now=clock.now())

    assert (late.status, late.got_off) == (TripStatus.ARRIVED, 12)
    clock.advance(timedelta(minutes=5))
    with pytest.raises(TripRefused):
        _arrive(session, clock, store, teacher, bus, 12, key="arr-0002")


def test_a_mismatch_on_a_new_trip_opens_its_own_action_with_its_own_deadline(
    session: Session, clock: SettableClock, store: PhotoStore, bus_world
) -> None:
    teacher, _, bus = bus_world
    _depart(session, clock, store, teacher, bus, 18, key="dep-0001")
    _arrive(session, clock, store, teacher, bus, 17, key="arr-0001")
    clock.advance(timedelta(days=2))
    file_pre_trip_check(session, clock, store, bus, teacher, key="pre-0002")

    _depart(session, clock, store, teacher, bus, 15, key="dep-0002")
    _arrive(session, clock, store, teacher, bus, 14, key="arr-0002")

    first, second = session.scalars(
        select(CorrectiveAction)
        .where(CorrectiveAction.item_key == "children_got_off")
        .order_by(CorrectiveAction.id)
    ).all()
    assert first.is_open and second.is_open
    assert second.opened_at == clock.now()
    assert second.due_at == clock.now() + timedelta(days=1)
    assert [e.kind for e in first.events] == ["opened"]


def test_the_arrival_completes_only_when_the_escort_scans_the_rear_label(
    session: Session, clock: SettableClock, store: PhotoStore, bus_world
) -> None:
    teacher, admin, bus = bus_world
    _depart(session, clock, store, teacher, bus, 18)
    clock.advance(timedelta(minutes=40))

    _arrive(session, clock, store, teacher, bus, 18)

    trip = session.scalar(select(Trip))
    assert (trip.status, trip.arrived_at, trip.got_off) == (TripStatus.EN_ROUTE, None, 18)
    assert trip.awaiting_rear_check
    # The arrival cannot be filed twice; the refusal says to walk to the back.
    with pytest.raises(TripRefused) as again:
        _arrive(session, clock, store, teacher, bus, 18, key="arr-0002")
    assert "scan the label there (车尾)" in again.value.message.msgid

    clock.advance(timedelta(minutes=2))
    check_rear(session, teacher, bus, now=clock.now())

    assert (trip.status, trip.arrived_at) == (TripStatus.ARRIVED, clock.now())
    assert (
        sweep_trips(session, now=clock.now() + timedelta(hours=3), within=timedelta(hours=1)) == []
    )
    assert inbox(session, admin) == []


def test_a_rear_scan_with_no_filed_arrival_is_refused(
    session: Session, clock: SettableClock, store: PhotoStore, bus_world
) -> None:
    teacher, _, bus = bus_world
    with pytest.raises(TripRefused) as before_leaving:
        check_rear(session, teacher, bus, now=clock.now())
    _depart(session, clock, store, teacher, bus, 12)

    with pytest.raises(TripRefused) as on_the_road:
        check_rear(session, teacher, bus, now=clock.now())

    for refused in (before_leaving, on_the_road):
        assert "File the arrival at the label by the door first" in refused.value.message.msgid
    assert session.scalar(select(Trip)).status == TripStatus.EN_ROUTE


def test_a_rear_scan_is_the_escorts_not_the_drivers(
    session: Session, clock: SettableClock, store: PhotoStore, bus_world
) -> None:
    from models.checklist_roles import NotYoursToFile

    teacher, _, bus = bus_world
    driver = make_person(session, clock, bus.school, Role.BUS_STAFF, "driver")
    _depart(session, clock, store, teacher, bus, 12)
    _arrive(session, clock, store, teacher, bus, 12)

    with pytest.raises(NotYoursToFile):
        check_rear(session, driver, bus, now=clock.now())
    assert session.scalar(select(Trip)).awaiting_rear_check


def test_no_rear_scan_within_the_arrival_window_raises_the_no_arrival_alert(
    session: Session, clock: SettableClock, store: PhotoStore, bus_world
) -> None:
    teacher, admin, bus = bus_world
    _depart(session, clock, store, teacher, bus, 12)
    clock.advance(timedelta(minutes=40))
    _arrive(session, clock, store, teacher, bus, 12)

    clock.advance(timedelta(minutes=49))
    assert sweep_trips(session, now=clock.now(), within=timedelta(minutes=90)) == []
    clock.advance(timedelta(minutes=2))
    [late] = sweep_trips(session, now=clock.now(), within=timedelta(minutes=90))

    assert late.status == TripStatus.NO_ARRIVAL
    [alarm] = [n for n in inbox(session, admin) if n.dedup_key == f"trip:{late.id}:no_arrival"]
    assert alarm.severity == "critical"
    assert "nobody scanned the label at the back of the bus" in alarm.message
    assert "1号校车" in alarm.text
    assert any(n.dedup_key == alarm.dedup_key for n in inbox(session, teacher))
