"""Who may sign what: a checklist's roles, a district's own choice, administrators."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from models.assets import AssetKind
from models.checklist_roles import (
    NotYoursToFile,
    RolesRefused,
    fileable,
    filing_roles,
    set_filing_roles,
)
from models.checklists import builtin_specs, spec_from_json, sync_builtin_templates
from models.clock import SettableClock
from models.messages import DomainError
from models.people import Role
from models.photos import PhotoStore
from models.records import Channel, Upload, submit_record, submit_task_photo
from models.trips import Trip
from tests.factories import (
    EXTINGUISHER_OK,
    file_pre_trip_check,
    jpeg_bytes,
    make_asset,
    make_person,
    make_school,
    template_for,
)

MONTHLY = "extinguisher_monthly"
DEPARTURE = {"teacher_on_board": "yes", "children_boarded": "12", "seatbelts_on": "yes"}


def _file(session, clock, store, actor, asset, template_key, answers, uploads=(), key="key-0001"):
    return submit_record(
        session,
        actor=actor,
        asset=asset,
        template=template_for(session, template_key),
        answers=answers,
        uploads=list(uploads),
        key=key,
        channel=Channel.WEB,
        clock=clock,
        store=store,
    )


def test_every_built_in_checklist_names_who_files_it() -> None:
    for spec in builtin_specs():
        assert spec.roles, spec.key
        assert set(spec.roles) <= {r.value for r in Role}


def test_a_template_with_an_unknown_role_is_refused_naming_the_field() -> None:
    data = {
        "key": "k",
        "kind": "canteen",
        "title": {"zh_CN": "检查", "en": "Check"},
        "roles": ["cook"],
        "items": [
            {
                "key": "a",
                "type": "pass_fail",
                "label": {"zh_CN": "甲", "en": "A"},
                "fail_label": {"zh_CN": "非甲", "en": "Not A"},
            }
        ],
    }
    with pytest.raises(ValueError, match="roles: cook: must be one of"):
        spec_from_json(data, "t.toml")


def test_a_dormitory_worker_cannot_file_a_bus_departure_and_no_trip_starts(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    dorm = make_person(session, clock, school, Role.DORM_STAFF, "dorm")
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车")

    with pytest.raises(NotYoursToFile) as refused:
        _file(session, clock, store, dorm, bus, "bus_departure", DEPARTURE)

    assert refused.value.message.params["roles"] == {"zh_CN": "教师", "en": "Teacher"}
    assert session.query(Trip).count() == 0


def test_canteen_staff_cannot_file_an_extinguisher_check_but_the_inspector_can(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    cook = make_person(session, clock, school, Role.CANTEEN_STAFF, "cook")
    inspector = make_person(session, clock, school, Role.INSPECTOR, "inspector")
    extinguisher = make_asset(session, clock, school)
    photo = [Upload("photo", jpeg_bytes())]

    with pytest.raises(NotYoursToFile):
        _file(session, clock, store, cook, extinguisher, MONTHLY, EXTINGUISHER_OK)
    record = _file(
        session,
        clock,
        store,
        inspector,
        extinguisher,
        "extinguisher_monthly",
        EXTINGUISHER_OK,
        photo,
    ).record

    assert record.submitted_by == inspector


def test_the_driver_files_the_pre_trip_check_and_only_the_escort_teacher_the_departure(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    driver = make_person(session, clock, school, Role.BUS_STAFF, "driver")
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车")
    file_pre_trip_check(session, clock, store, bus, driver)

    # The driver cannot sign as the escort teacher on board (§38 asks for both).
    with pytest.raises(NotYoursToFile):
        _file(session, clock, store, driver, bus, "bus_departure", DEPARTURE, key="dep-0001")
    departure = _file(
        session, clock, store, teacher, bus, "bus_departure", DEPARTURE, key="dep-0002"
    )

    assert departure.created and departure.record.submitted_by == teacher
    assert session.query(Trip).one().teacher == teacher


def test_school_and_district_administrators_file_any_checklist(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    head = make_person(session, clock, school, Role.SCHOOL_ADMIN, "head")
    district = make_person(session, clock, school, Role.DISTRICT_ADMIN, "district")
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车")
    canteen = make_asset(session, clock, school, AssetKind.CANTEEN, "ST-01", "食堂")
    checks = template_for(session, "canteen_tableware_disinfection")
    file_pre_trip_check(session, clock, store, bus, head)

    assert _file(session, clock, store, head, bus, "bus_departure", DEPARTURE).created
    assert fileable(session, district, canteen, [checks]) == [checks]


def test_a_role_at_another_school_does_not_count(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session, "S1")
    other = make_school(session, "S2", district=school.district)
    inspector = make_person(session, clock, other, Role.INSPECTOR, "inspector")
    make_person(session, clock, school, Role.CANTEEN_STAFF, "cook")
    from models.people import grant_role

    grant_role(session, inspector, Role.CANTEEN_STAFF, school)
    extinguisher = make_asset(session, clock, school)

    with pytest.raises(NotYoursToFile):
        _file(session, clock, store, inspector, extinguisher, MONTHLY, EXTINGUISHER_OK)


def test_a_districts_own_choice_survives_a_new_template_version(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    district = make_person(session, clock, school, Role.DISTRICT_ADMIN, "district")
    dorm = make_person(session, clock, school, Role.DORM_STAFF, "dorm")
    extinguisher = make_asset(session, clock, school)
    template = template_for(session, "extinguisher_monthly")

    set_filing_roles(
        session,
        district,
        district_id=school.district_id,
        template=template,
        roles=["inspector", "dorm_staff"],
        now=clock.now(),
    )
    sync_builtin_templates(session, now=clock.now())  # a re-sync keeps the district's choice
    photo = [Upload("photo", jpeg_bytes())]
    record = _file(
        session, clock, store, dorm, extinguisher, MONTHLY, EXTINGUISHER_OK, photo
    ).record

    assert record.passed
    assert filing_roles(session, school.district_id, template) == (
        Role.DORM_STAFF,
        Role.INSPECTOR,
    )


def test_choosing_the_default_again_drops_the_districts_choice_and_others_may_not_choose(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    district = make_person(session, clock, school, Role.DISTRICT_ADMIN, "district")
    head = make_person(session, clock, school, Role.SCHOOL_ADMIN, "head")
    template = template_for(session, "extinguisher_monthly")
    where = {"district_id": school.district_id, "template": template, "now": clock.now()}

    assert set_filing_roles(session, district, roles=["teacher"], **where) is not None
    assert set_filing_roles(session, district, roles=["inspector"], **where) is None
    with pytest.raises(RolesRefused):
        set_filing_roles(session, district, roles=[], **where)
    with pytest.raises(RolesRefused):
        set_filing_roles(session, head, roles=["teacher"], **where)
    assert filing_roles(session, school.district_id, template) == (Role.INSPECTOR,)


def test_a_bot_photo_from_someone_who_does_not_file_the_checklist_is_refused(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    from sqlalchemy import select

    from models.duties import Task
    from models.sweep import sweep

    school = make_school(session)
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    make_asset(session, clock, school, AssetKind.WATER_DISPENSER, "YSJ-1", "饮水机")
    sweep(session, now=clock.now())
    task_id = session.scalar(
        select(Task.id).where(Task.template_key == "water_dispenser_disinfection")
    )

    with pytest.raises(NotYoursToFile):
        submit_task_photo(
            session,
            actor=teacher,
            task_id=task_id,
            photo=jpeg_bytes(),
            key="tg-100-100",
            clock=clock,
            store=store,
        )


def test_a_second_bot_photo_for_a_task_already_done_files_nothing(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    from sqlalchemy import func, select

    from models.duties import Task
    from models.records import Record
    from models.sweep import sweep

    school = make_school(session)
    worker = make_person(session, clock, school, Role.DORM_STAFF, "dorm")
    make_asset(session, clock, school, AssetKind.WATER_DISPENSER, "YSJ-1", "饮水机")
    sweep(session, now=clock.now())
    task_id = session.scalar(
        select(Task.id).where(Task.template_key == "water_dispenser_disinfection")
    )

    def send(key: str, colour: str):
        return submit_task_photo(
            session,
            actor=worker,
            task_id=task_id,
            photo=jpeg_bytes(color=colour),
            key=key,
            clock=clock,
            store=store,
        )

    first = send("tg-100-101", "red")
    assert send("tg-100-101", "red").record.id == first.record.id  # the same message again
    with pytest.raises(DomainError) as refused:
        send("tg-100-102", "blue")

    assert "already closed" in refused.value.message.msgid
    assert session.scalar(select(func.count()).select_from(Record)) == 1
