"""A school's assets: their labels, codes and typed attributes."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.assets import Asset, AssetKind, find_asset_by_token
from models.clock import SettableClock
from models.inventory import add_asset, update_asset
from models.messages import SubmissionInvalid
from models.org import School
from models.people import Role
from models.places import add_location
from tests.factories import make_district_admin, make_person, make_school


def _count(session: Session, entity: type) -> int:
    return session.scalar(select(func.count()).select_from(entity))


def _new_asset(session: Session, clock: SettableClock, school: School, **fields: object) -> Asset:
    values: dict[str, object] = {
        "kind": AssetKind.EXTINGUISHER,
        "code": "MHQ-001",
        "name": "一楼东侧灭火器",
        "location_id": None,
        "responsible_id": None,
        "attributes": {},
        "now": clock.now(),
    }
    values.update(fields)
    return add_asset(session, school, **values)  # type: ignore[arg-type]


def test_a_new_asset_gets_its_label_and_typed_attributes(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    keeper = make_person(session, clock, school, Role.DORM_STAFF, "keeper")
    district = make_district_admin(session, clock, school)
    place = add_location(session, school, building="停车场", actor=district, now=clock.now())

    bus = _new_asset(
        session,
        clock,
        school,
        kind=AssetKind.BUS,
        code="XC-01",
        name="1号校车",
        location_id=place.id,
        responsible_id=keeper.id,
        attributes={"plate": "辽A·12345", "seats": "１９", "driver": "马师傅", "ignored": "x"},
    )

    assert find_asset_by_token(session, bus.current_label.token) is bus
    assert bus.attributes == {"plate": "辽A·12345", "seats": 19, "driver": "马师傅"}
    assert bus.location is place and bus.responsible is keeper


def test_an_asset_code_is_unique_per_school_only(session: Session, clock: SettableClock) -> None:
    school = make_school(session, "S1")
    other = make_school(session, "S2", "第二中学")
    _new_asset(session, clock, school)

    with pytest.raises(SubmissionInvalid) as refused:
        _new_asset(session, clock, school, code=" MHQ-001 ")

    assert refused.value.errors["code"].params == {"code": "MHQ-001"}
    assert _new_asset(session, clock, other).code == "MHQ-001"


def test_every_wrong_field_is_named_at_once_and_nothing_is_stored(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session, "S1")
    other = make_school(session, "S2", "第二中学")
    district = make_district_admin(session, clock, other)
    elsewhere = add_location(session, other, building="别校教学楼", actor=district, now=clock.now())
    stranger = make_person(session, clock, other, Role.TEACHER, "stranger")

    with pytest.raises(SubmissionInvalid) as refused:
        _new_asset(
            session,
            clock,
            school,
            kind=AssetKind.BUS,
            code="",
            name="x" * 201,
            location_id=elsewhere.id,
            responsible_id=stranger.id,
            attributes={"seats": "2.5"},
        )

    assert set(refused.value.errors) == {"code", "name", "location", "responsible", "seats"}
    assert _count(session, Asset) == 0


@pytest.mark.parametrize("seats", ["", "0", "-3", "2.5", "many"])
def test_a_bus_needs_a_whole_positive_number_of_seats(
    session: Session, clock: SettableClock, seats: str
) -> None:
    school = make_school(session)

    with pytest.raises(SubmissionInvalid) as refused:
        _new_asset(session, clock, school, kind=AssetKind.BUS, attributes={"seats": seats})

    assert list(refused.value.errors) == ["seats"]


def test_kind_specific_attributes_are_checked(session: Session, clock: SettableClock) -> None:
    school = make_school(session)

    meter = _new_asset(
        session,
        clock,
        school,
        kind=AssetKind.METER,
        code="DB-01",
        attributes={"meter_type": "电表", "meter_number": "101-2026"},
    )
    extinguisher = _new_asset(session, clock, school, attributes={"capacity_kg": "4.5kg"})
    with pytest.raises(SubmissionInvalid) as refused:
        _new_asset(
            session, clock, school, kind=AssetKind.METER, code="X", attributes={"meter_type": "气"}
        )

    assert meter.attributes == {"meter_type": "electricity", "meter_number": "101-2026"}
    assert extinguisher.attributes == {"capacity_kg": 4.5}
    assert list(refused.value.errors) == ["meter_type"]


def test_editing_keeps_the_code_and_attributes_the_form_does_not_show(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    keeper = make_person(session, clock, school, Role.DORM_STAFF, "keeper")
    asset = _new_asset(session, clock, school, attributes={"agent": "ABC干粉", "capacity_kg": "4"})
    asset.attributes = {**asset.attributes, "model": "MFZ/ABC4"}

    update_asset(
        session,
        asset,
        name="二楼灭火器",
        location_id=None,
        responsible_id=keeper.id,
        attributes={"agent": "ABC干粉", "capacity_kg": ""},
    )

    assert asset.code == "MHQ-001" and asset.name == "二楼灭火器"
    assert asset.attributes == {"model": "MFZ/ABC4", "agent": "ABC干粉"}
    assert asset.responsible is keeper


def test_a_responsible_person_who_left_stays_until_someone_else_is_chosen(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    keeper = make_person(session, clock, school, Role.DORM_STAFF, "keeper")
    asset = _new_asset(session, clock, school, responsible_id=keeper.id)
    keeper.active = False

    update_asset(
        session, asset, name="改名", location_id=None, responsible_id=keeper.id, attributes={}
    )
    with pytest.raises(SubmissionInvalid):
        _new_asset(session, clock, school, code="MHQ-002", responsible_id=keeper.id)

    assert asset.responsible is keeper
