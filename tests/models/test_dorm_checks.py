"""The dorm and nap-room check asks the Ten Fire Safety Rules' dormitory items."""

from __future__ import annotations

from sqlalchemy.orm import Session

from models.assets import AssetKind
from models.checklists import MINIMUM_FREQUENCIES
from models.clock import SettableClock
from models.people import Role
from models.photos import PhotoStore
from models.records import Channel, submit_record
from tests.factories import make_asset, make_person, make_school, template_for

CHECK = "dorm_electrical_safety"
ALL_SAFE = {
    "no_makeshift_wiring": "pass",
    "no_banned_appliances": "pass",
    "sockets_switches": "pass",
    "lights": "pass",
    "escape_clear": "pass",
    "exits_unlocked": "pass",
    "smoke_alarm_working": "pass",
    "manager_on_duty": "yes",
    "manager_trained": "yes",
}


def _file(session: Session, clock: SettableClock, store: PhotoStore, answers: dict[str, str]):
    school = make_school(session)
    manager = make_person(session, clock, school, Role.DORM_STAFF, "dorm")
    room = make_asset(
        session, clock, school, AssetKind.DORM_ROOM, code="SS-101", name="女生宿舍101"
    )
    return submit_record(
        session,
        actor=manager,
        asset=room,
        template=template_for(session, CHECK),
        answers=answers,
        uploads=[],
        key="dorm-check-0001",
        channel=Channel.WEB,
        clock=clock,
        store=store,
    ).record


def test_a_silent_smoke_detector_and_no_manager_on_duty_fail_the_room_as_critical(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    answers = {**ALL_SAFE, "smoke_alarm_working": "fail", "manager_on_duty": "no"}

    record = _file(session, clock, store, answers)

    assert record.failed_items == ["smoke_alarm_working", "manager_on_duty"]
    spec = record.template.spec
    assert spec.severity_of(record.failed_items) == "critical"
    assert (
        spec.item("smoke_alarm_working").fail_label["zh_CN"] == "火灾报警器或感烟探测器缺失或不响"
    )


def test_a_safe_room_passes_and_the_check_names_the_ten_rules_as_its_basis(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    record = _file(session, clock, store, ALL_SAFE)

    assert record.failed_items == []
    spec = record.template.spec
    assert spec.basis is not None and "十项规定" in spec.basis["zh_CN"]
    assert spec.minimum_frequency == "daily" and spec.minimum_frequency in MINIMUM_FREQUENCIES
