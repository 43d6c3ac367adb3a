"""Managing a school: assets with their labels, places, people and their roles and logins."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.accounts import add_person
from models.assets import Asset, AssetKind, find_asset_by_token
from models.clock import SettableClock
from models.inventory import add_asset, update_asset
from models.messages import SubmissionInvalid
from models.org import Location, School
from models.passwords import change_own_password, issue_sign_in_code, reset_password
from models.people import PasswordExpired, Person, Role, authenticate, grant_role
from models.places import add_location
from models.staff import (
    AdminRefused,
    can_manage_person,
    grant_school_role,
    grantable_roles,
    managed_school,
    revoke_school_role,
    school_people,
    set_login_active,
)
from models.throttle import is_locked_anywhere
from tests.factories import PASSWORD, make_person, make_school


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


# --- who manages what -------------------------------------------------------------------


def test_school_admins_manage_their_school_and_district_admins_every_school_in_it(
    session: Session, clock: SettableClock
) -> None:
    first = make_school(session, "S1")
    second = make_school(session, "S2", "第二中学", district=first.district)
    school_admin = make_person(session, clock, first, Role.SCHOOL_ADMIN, "admin")
    district_admin = make_person(session, clock, first, Role.DISTRICT_ADMIN, "district")
    teacher = make_person(session, clock, first, Role.TEACHER, "teacher")

    assert managed_school(session, school_admin, "S1") is first
    assert managed_school(session, school_admin, "S2") is None
    assert managed_school(session, district_admin, "S2") is second
    assert managed_school(session, teacher, "S1") is None
    assert managed_school(session, district_admin, "nope") is None


# --- assets -----------------------------------------------------------------------------


def test_a_new_asset_gets_its_label_and_typed_attributes(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    keeper = make_person(session, clock, school, Role.DORM_STAFF, "keeper")
    place = add_location(session, school, building="停车场")

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
    elsewhere = add_location(session, other, building="别校教学楼")
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


# --- places -----------------------------------------------------------------------------


def test_a_place_is_listed_once_per_school(session: Session, clock: SettableClock) -> None:
    school = make_school(session, "S1")
    other = make_school(session, "S2", "第二中学")
    add_location(session, school, building="教学楼", floor="1层", room="101")

    with pytest.raises(SubmissionInvalid) as refused:
        add_location(session, school, building=" 教学楼", floor="1层 ", room="101")
    add_location(session, school, building="教学楼", floor="1层")
    add_location(session, other, building="教学楼", floor="1层", room="101")

    assert list(refused.value.errors) == ["building"]
    assert _count(session, Location) == 3


def test_a_floor_needs_its_building(session: Session, clock: SettableClock) -> None:
    school = make_school(session)

    with pytest.raises(SubmissionInvalid) as refused:
        add_location(session, school, building="", floor="1层")

    assert refused.value.errors["building"].msgid == "Give the building too."


# --- people -----------------------------------------------------------------------------


def test_an_admin_adds_a_person_who_can_then_log_in(session: Session, clock: SettableClock) -> None:
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")

    person = add_person(
        session,
        admin,
        school,
        username=" Wang ",
        display_name="王师傅",
        phone="138-0000-0002",
        password="long-enough",
        role="canteen_staff",
        now=clock.now(),
    )

    assert authenticate(session, "13800000002", "long-enough", now=clock.now()) is person
    assert person.username == "wang"
    assert [(p.username, roles) for p, roles in school_people(session, school)] == [
        ("admin", [Role.SCHOOL_ADMIN]),
        ("wang", [Role.CANTEEN_STAFF]),
    ]


def test_usernames_and_phones_are_unique_across_both(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin", phone="13800000001")

    with pytest.raises(SubmissionInvalid) as refused:
        add_person(
            session,
            admin,
            school,
            username="13800000001",
            display_name="",
            phone="138 0000 0001",
            password="short",
            role="cook",
            now=clock.now(),
        )

    errors = refused.value.errors
    assert set(errors) == {"username", "display_name", "phone", "password", "role"}
    assert errors["phone"].params == {"value": "13800000001"}
    assert _count(session, Person) == 1


def test_only_district_admins_grant_district_admin(session: Session, clock: SettableClock) -> None:
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    district = make_person(session, clock, school, Role.DISTRICT_ADMIN, "district")
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")

    with pytest.raises(SubmissionInvalid) as refused:
        grant_school_role(session, admin, teacher, "district_admin", school)
    grant_school_role(session, district, teacher, "district_admin", school)

    assert refused.value.errors["role"].msgid == "Only district administrators can grant this role."
    assert Role.DISTRICT_ADMIN not in grantable_roles(admin, school)
    assert teacher.is_district_admin


def test_a_role_is_granted_once_and_removed(session: Session, clock: SettableClock) -> None:
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")

    grant_school_role(session, admin, teacher, "inspector", school)
    grant_school_role(session, admin, teacher, "inspector", school)
    revoke_school_role(session, admin, teacher, "teacher", school)

    assert [g.role for g in teacher.grants] == [Role.INSPECTOR]


def test_an_admin_cannot_remove_their_own_admin_role(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")

    with pytest.raises(AdminRefused):
        revoke_school_role(session, admin, admin, "school_admin", school)

    assert admin.can_manage_school(school)


def test_switching_a_login_off_and_on(session: Session, clock: SettableClock) -> None:
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")

    set_login_active(session, admin, teacher, active=False)
    assert authenticate(session, "teacher", PASSWORD, now=clock.now()) is None
    set_login_active(session, admin, teacher, active=True)
    assert authenticate(session, "teacher", PASSWORD, now=clock.now()) is teacher
    with pytest.raises(AdminRefused):
        set_login_active(session, admin, admin, active=False)


def test_a_school_admin_leaves_people_with_roles_elsewhere_alone(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session, "S1")
    other = make_school(session, "S2", "第二中学", district=school.district)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    district = make_person(session, clock, school, Role.DISTRICT_ADMIN, "district")
    shared = make_person(session, clock, school, Role.TEACHER, "shared")
    grant_role(session, shared, Role.TEACHER, other)

    assert not can_manage_person(admin, district)
    assert not can_manage_person(admin, shared)
    assert can_manage_person(district, shared)
    with pytest.raises(AdminRefused):
        set_login_active(session, admin, shared, active=False)
    with pytest.raises(AdminRefused):
        reset_password(session, admin, district, "new-password", now=clock.now())


def test_a_one_time_password_lifts_a_lockout_and_must_be_replaced(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    for _ in range(5):
        authenticate(session, "teacher", "wrong-guess", now=clock.now())
    assert is_locked_anywhere(session, teacher.id, now=clock.now())

    with pytest.raises(SubmissionInvalid):
        reset_password(session, admin, teacher, "short", now=clock.now())
    reset_password(session, admin, teacher, "a-new-password", now=clock.now())

    assert not is_locked_anywhere(session, teacher.id, now=clock.now())
    assert authenticate(session, "teacher", "a-new-password", now=clock.now()) is teacher
    assert teacher.must_change_password
    change_own_password(
        session, teacher, current="", new="my-own-pass", repeat="my-own-pass", now=clock.now()
    )
    assert not teacher.must_change_password
    assert authenticate(session, "teacher", "my-own-pass", now=clock.now()) is teacher


def test_an_unused_one_time_password_expires(session: Session, clock: SettableClock) -> None:
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    code = issue_sign_in_code(session, admin, teacher, now=clock.now())

    assert authenticate(session, "teacher", code.lower(), now=clock.now()) is teacher
    clock.advance(timedelta(days=15))
    with pytest.raises(PasswordExpired):
        authenticate(session, "teacher", code, now=clock.now())


def test_changing_ones_own_password_asks_the_current_one(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")

    with pytest.raises(SubmissionInvalid) as refused:
        change_own_password(
            session, teacher, current="wrong", new="new-pass-1", repeat="other", now=clock.now()
        )
    assert set(refused.value.errors) == {"current", "repeat"}
    change_own_password(
        session, teacher, current=PASSWORD, new="new-pass-1", repeat="new-pass-1", now=clock.now()
    )
    assert authenticate(session, "teacher", "new-pass-1", now=clock.now()) is teacher
