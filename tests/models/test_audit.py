"""The audit log: each administrator's change and each sign-in leaves one entry saying who,
when, from where, what, before and after; the database refuses to change or delete one."""

from __future__ import annotations

import json
from datetime import date, time, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from models.accounts import add_person
from models.assets import AssetKind, issue_label
from models.audit import AuditEntry, AuditFilter, Origin, audit, audit_page, set_origin
from models.checklist_roles import set_filing_roles
from models.checklists import latest_template, save_checklist, spec_from_json
from models.clock import SettableClock
from models.documents import DocumentKind, add_document, renew_document
from models.duties import (
    DutyFields,
    add_calendar_entry,
    add_duty,
    remove_calendar_entry,
    update_duty,
)
from models.flag_notes import explain_flags
from models.imports import preview_import, save_import
from models.inventory import add_asset, update_asset
from models.linking import link_address, new_link_code, unlink_address
from models.login_sessions import end_sessions_of
from models.passwords import change_own_password, reset_password
from models.people import (
    LoginLocked,
    LoginSource,
    Person,
    Role,
    authenticate,
    check_login,
    record_login,
)
from models.photos import PhotoStore
from models.places import add_location
from models.positions import set_school_position
from models.recurrence import Frequency, Rule
from models.retirement import reactivate_asset, retire_asset
from models.robot_groups import DINGTALK_ROBOT, add_group, disable_group
from models.score import Scheme, save_scheme
from models.staff import grant_school_role, revoke_school_role, set_login_active
from models.stages import SchoolStage, set_stage
from models.stored_files import DocumentFile
from models.suppliers import add_supplier, update_supplier
from tests.factories import (
    PASSWORD,
    file_check,
    jpeg_bytes,
    make_asset,
    make_district_admin,
    make_person,
    make_school,
)


def _entries(session: Session, action: str | None = None) -> list[AuditEntry]:
    session.flush()
    query = select(AuditEntry).order_by(AuditEntry.id)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    return list(session.scalars(query))


def _only(session: Session, action: str) -> AuditEntry:
    entries = _entries(session, action)
    assert len(entries) == 1, [e.action for e in _entries(session)]
    return entries[0]


@pytest.fixture
def admin(session: Session, clock: SettableClock) -> Person:
    school = make_school(session)
    return make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")


# --- sign-ins ---------------------------------------------------------------------------


def test_a_sign_in_is_logged_with_where_it_came_from(
    session: Session, clock: SettableClock, admin: Person
) -> None:
    set_origin(session, Origin(channel="web", address="10.0.0.7", agent="Firefox"))

    authenticate(session, "admin", PASSWORD, now=clock.now())

    entry = _only(session, "login.succeeded")
    assert (entry.actor_id, entry.target_id, entry.at) == (admin.id, admin.id, clock.now())
    assert (entry.channel, entry.address, entry.agent) == ("web", "10.0.0.7", "Firefox")
    assert entry.district_id == admin.grants[0].district_id
    assert entry.after == {"login": "admin"}


def test_a_wrong_password_is_logged_with_the_login_tried_never_the_password(
    session: Session, clock: SettableClock, admin: Person
) -> None:
    authenticate(session, "admin", "guess-one-two", now=clock.now())
    authenticate(session, "nobody", "guess-three", now=clock.now())

    known, unknown = _entries(session, "login.failed")
    assert (known.actor_id, known.target_id, known.after) == (None, admin.id, {"login": "admin"})
    assert known.district_id == admin.grants[0].district_id
    assert (unknown.actor_id, unknown.target_id, unknown.district_id) == (None, None, None)
    assert unknown.target_label == "nobody"
    assert "guess" not in str([(e.before, e.after, e.target_label) for e in _entries(session)])


def test_guesses_refused_as_locked_while_writing_are_logged_too(
    session: Session, clock: SettableClock, admin: Person
) -> None:
    source = LoginSource(address="10.0.0.9")
    checks = [
        check_login(session, "admin", "wrong-guess", source=source, now=clock.now())
        for _ in range(7)
    ]
    for check in checks[:5]:
        record_login(session, check, now=clock.now())
    for check in checks[5:]:
        with pytest.raises(LoginLocked):
            record_login(session, check, now=clock.now())

    assert len(_entries(session, "login.failed")) == 7
    [locked] = _entries(session, "login.locked")
    assert (locked.actor_id, locked.target_id, locked.after) == (None, admin.id, {"login": "admin"})


def test_guesses_refused_unread_while_locked_leave_the_one_entry_of_the_lock(
    session: Session, clock: SettableClock, admin: Person
) -> None:
    source = LoginSource(address="10.0.0.9")
    for _ in range(5):
        authenticate(session, "admin", "wrong-guess", source=source, now=clock.now())
    for _ in range(20):
        with pytest.raises(LoginLocked):
            authenticate(session, "admin", "wrong-guess", source=source, now=clock.now())

    assert len(_entries(session, "login.failed")) == 5
    assert len(_entries(session, "login.locked")) == 1


# --- people -----------------------------------------------------------------------------


def test_people_added_roles_granted_and_taken_away_are_logged(
    session: Session, clock: SettableClock, admin: Person
) -> None:
    school = admin.grants[0].school
    assert school is not None
    person = add_person(
        session,
        admin,
        school,
        username="wang",
        display_name="王老师",
        phone="",
        password="correct horse battery",
        role=Role.TEACHER,
        now=clock.now(),
    )
    grant_school_role(session, admin, person, Role.INSPECTOR, school, now=clock.now())
    revoke_school_role(session, admin, person, Role.TEACHER, school, now=clock.now())

    created = _only(session, "person.created")
    assert (created.actor_id, created.target_id, created.target_label) == (
        admin.id,
        person.id,
        "王老师",
    )
    assert created.after == {"username": "wang", "phone": None, "role": "teacher"}
    assert "correct horse" not in str(created.after)
    granted = _only(session, "person.role_granted")
    assert (granted.before, granted.after) == ({}, {"role": "inspector", "school": "S1"})
    revoked = _only(session, "person.role_revoked")
    assert (revoked.before, revoked.after) == ({"role": "teacher", "school": "S1"}, {})


def test_a_login_switched_off_and_on_is_logged_with_before_and_after(
    session: Session, clock: SettableClock, admin: Person
) -> None:
    school = admin.grants[0].school
    assert school is not None
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")

    set_login_active(session, admin, teacher, active=False, now=clock.now())
    set_login_active(session, admin, teacher, active=True, now=clock.now())

    off = _only(session, "person.deactivated")
    assert (off.before, off.after, off.target_id) == (
        {"active": True},
        {"active": False},
        teacher.id,
    )
    on = _only(session, "person.reactivated")
    assert (on.before, on.after) == ({"active": False}, {"active": True})


def test_passwords_set_and_changed_are_logged_without_their_values(
    session: Session, clock: SettableClock, admin: Person
) -> None:
    school = admin.grants[0].school
    assert school is not None
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")

    reset_password(session, admin, teacher, "Lantern-Orchard-42", now=clock.now())
    change_own_password(
        session,
        teacher,
        current="Lantern-Orchard-42",
        new="Harbour-Pebble-77",
        repeat="Harbour-Pebble-77",
        now=clock.now(),
    )
    end_sessions_of(session, admin, teacher, now=clock.now())

    reset = _only(session, "person.password_reset")
    assert (reset.actor_id, reset.target_id, reset.after) == (
        admin.id,
        teacher.id,
        {"password": "changed"},
    )
    changed = _only(session, "person.password_changed")
    assert (changed.actor_id, changed.after) == (teacher.id, {"password": "changed"})
    assert _only(session, "person.sessions_ended").target_id == teacher.id
    logged = str([(e.before, e.after) for e in _entries(session)])
    assert "Lantern" not in logged and "Harbour" not in logged
    assert teacher.password_hash not in logged


def test_a_secret_named_field_is_never_kept_whatever_the_caller_passes(
    session: Session, clock: SettableClock, admin: Person
) -> None:
    audit(
        session,
        admin,
        "person.edited",
        admin,
        {"password_hash": "pbkdf2:old", "token": "abc"},
        {"password_hash": "pbkdf2:new", "name": "李"},
        now=clock.now(),
    )

    entry = _only(session, "person.edited")
    assert entry.before == {"password_hash": "changed", "token": "changed"}
    assert entry.after == {"password_hash": "changed", "name": "李"}


# --- assets and labels ------------------------------------------------------------------


def test_assets_added_changed_retired_and_labels_revoked_are_logged(
    session: Session, clock: SettableClock, admin: Person
) -> None:
    school = admin.grants[0].school
    assert school is not None
    asset = add_asset(
        session,
        school,
        kind=AssetKind.EXTINGUISHER,
        code="MHQ-009",
        name="楼梯口灭火器",
        location_id=None,
        responsible_id=None,
        attributes={},
        now=clock.now(),
        actor=admin,
    )
    update_asset(
        session,
        asset,
        name="二楼楼梯口灭火器",
        location_id=None,
        responsible_id=None,
        attributes={},
        actor=admin,
        now=clock.now(),
    )
    issue_label(session, asset, now=clock.now(), actor=admin)
    retire_asset(session, admin, asset, reason="过期报废", now=clock.now())
    reactivate_asset(session, admin, asset, now=clock.now())

    created = _only(session, "asset.created")
    assert (created.target_kind, created.target_id, created.after["code"]) == (
        "asset",
        asset.id,
        "MHQ-009",
    )
    edited = _only(session, "asset.edited")
    assert (edited.before, edited.after) == ({"name": "楼梯口灭火器"}, {"name": "二楼楼梯口灭火器"})
    assert _only(session, "label.revoked").target_id == asset.id
    retired = _only(session, "asset.retired")
    assert retired.after == {"retired_reason": "过期报废"}
    back = _only(session, "asset.reactivated")
    assert (back.before, back.after) == ({"retired_reason": "过期报废"}, {"retired_reason": ""})
    assert {e.district_id for e in _entries(session)} == {school.district_id}


def test_an_asset_saved_unchanged_leaves_no_entry(
    session: Session, clock: SettableClock, admin: Person
) -> None:
    school = admin.grants[0].school
    assert school is not None
    asset = make_asset(session, clock, school)

    update_asset(
        session,
        asset,
        name=asset.name,
        location_id=asset.location_id,
        responsible_id=None,
        attributes={},
        actor=admin,
        now=clock.now(),
    )

    assert _entries(session, "asset.edited") == []


# --- checklists, schedules and the calendar ---------------------------------------------


def test_checklists_published_and_their_filing_roles_changed_are_logged(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    district = make_district_admin(session, clock, school)
    spec = {
        "key": "stairs",
        "kind": "school_office",
        "title": {"zh_CN": "楼梯", "en": "Stairs"},
        "items": [{"key": "by", "type": "person", "label": {"zh_CN": "人", "en": "By"}}],
    }

    saved = save_checklist(
        session,
        district,
        spec_from_json(spec),
        district_id=school.district_id,
        editing=None,
        now=clock.now(),
    )
    again = save_checklist(
        session,
        district,
        spec_from_json({**spec, "title": {"zh_CN": "楼梯间", "en": "Stairwell"}}),
        district_id=school.district_id,
        editing="stairs",
        now=clock.now(),
    )
    set_filing_roles(
        session,
        district,
        district_id=school.district_id,
        template=again,
        roles=["teacher"],
        now=clock.now(),
    )

    published = _only(session, "checklist.published")
    assert (published.target_id, published.after) == (saved.id, {"key": "stairs", "version": 1})
    assert (published.district_id, published.target_label) == (school.district_id, "楼梯")
    version, roles = _entries(session, "checklist.edited")
    assert (version.before, version.after) == ({"version": 1}, {"key": "stairs", "version": 2})
    assert (roles.after, roles.target_label) == ({"roles": ["teacher"]}, "楼梯间")


def test_schedules_and_calendar_days_are_logged(session: Session, clock: SettableClock) -> None:
    school = make_school(session)
    district = make_district_admin(session, clock, school)
    fields = DutyFields(Rule(Frequency.DAILY, time(9, 0)), 60, 24 * 60, 72 * 60)
    template = latest_template(
        session, "water_dispenser_disinfection", district_id=school.district_id
    )
    assert template is not None

    duty = add_duty(
        session, district, template_key=template.key, fields=fields, now=clock.now(), school=school
    )
    update_duty(
        session,
        district,
        duty,
        DutyFields(Rule(Frequency.DAILY, time(9, 0)), 30, 24 * 60, 72 * 60),
        now=clock.now(),
    )
    entry = add_calendar_entry(
        session,
        district,
        school.district_id,
        kind="holiday",
        starts_on=date(2026, 4, 4),
        ends_on=date(2026, 4, 6),
        name="清明节",
        now=clock.now(),
    )
    remove_calendar_entry(session, district, entry, now=clock.now())

    added, changed = _entries(session, "schedule.changed")
    assert added.target_id == duty.id and added.after["remind_before"] == 60
    assert (changed.before, changed.after) == ({"remind_before": 60}, {"remind_before": 30})
    holiday = {
        "kind": "holiday",
        "starts_on": "2026-04-04",
        "ends_on": "2026-04-06",
        "name": "清明节",
    }
    put, taken = _entries(session, "calendar.changed")
    assert (put.before, put.after) == ({}, holiday)
    assert (taken.before, taken.after) == (holiday, {})


# --- imports and flags ------------------------------------------------------------------


def test_an_import_is_one_entry_with_its_kind_file_and_rows(
    session: Session, clock: SettableClock, admin: Person
) -> None:
    school = admin.grants[0].school
    assert school is not None
    rows = ["username,name,phone,role,password", "zhang3,张三,,teacher,initial-pass"]
    data = "\r\n".join([*rows, "li4,李四,,inspector,initial-pass"]).encode()
    preview = preview_import(
        session, "people", school=school, actor=admin, data=data, now=clock.now()
    )

    save_import(session, preview, school=school, actor=admin, now=clock.now(), file="ab12")

    entry = _only(session, "import.saved")
    assert entry.after == {"kind": "people", "file": "ab12", "rows_added": 2}
    assert (entry.target_label, entry.district_id) == (school.name, school.district_id)


def test_a_flag_explained_is_logged_with_the_note_before_and_after(
    session: Session, clock: SettableClock, store: PhotoStore, admin: Person
) -> None:
    school = admin.grants[0].school
    assert school is not None
    desk = make_person(session, clock, school, username="desk")
    record = file_check(
        session, clock, store, desk, make_asset(session, clock, school), "audit-0001"
    )

    explain_flags(session, admin, record, "换了新电池", now=clock.now())
    clock.advance(timedelta(minutes=1))
    explain_flags(session, admin, record, "换了新电池，已核实", now=clock.now())

    first, second = _entries(session, "flags.explained")
    assert (first.before, first.after) == ({}, {"note": "换了新电池"})
    assert (second.before, second.after) == ({"note": "换了新电池"}, {"note": "换了新电池，已核实"})
    assert (second.target_kind, second.target_id) == ("record", record.id)


# --- registers: suppliers, documents, places --------------------------------------------


def test_suppliers_added_and_changed_are_logged_with_what_changed(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    district = make_district_admin(session, clock, school)
    supplier = add_supplier(
        session,
        district,
        school.district_id,
        name="绿源粮油",
        categories=["rice"],
        phone="13800138000",
        now=clock.now(),
    )
    changes = {"name": "绿源粮油公司", "categories": ["rice", "oil"], "phone": "13800138000"}
    update_supplier(session, district, supplier, **changes, active=False, now=clock.now())
    update_supplier(session, district, supplier, **changes, active=False, now=clock.now())

    added = _only(session, "supplier.created")
    assert (added.actor_id, added.target_kind, added.target_id) == (
        district.id,
        "supplier",
        supplier.id,
    )
    assert added.after == {
        "name": "绿源粮油",
        "contact": "",
        "phone": "13800138000",
        "categories": ["rice"],
        "designated_brands": [],
    }
    edited = _only(session, "supplier.edited")  # saved again unchanged: no second entry
    assert edited.before == {"name": "绿源粮油", "categories": ["rice"], "approved": True}
    assert edited.after == {
        "name": "绿源粮油公司",
        "categories": ["rice", "oil"],
        "approved": False,
    }
    assert (edited.target_label, edited.district_id) == ("绿源粮油公司", school.district_id)


def test_documents_added_and_renewed_are_logged_without_their_scan(
    session: Session, clock: SettableClock, store: PhotoStore, admin: Person
) -> None:
    school = admin.grants[0].school
    assert school is not None
    cook = make_person(session, clock, school, Role.CANTEEN_STAFF, "cook")
    scan = jpeg_bytes(color="blue")
    old = add_document(
        session,
        admin,
        school=school,
        holder=cook,
        kind=DocumentKind.HEALTH_CERTIFICATE,
        title="健康证",
        number="JK-1",
        expires_on="2026-12-31",
        upload=DocumentFile(scan, "IMG_0001.jpg", "image/jpeg"),
        store=store,
        now=clock.now(),
    )
    new = renew_document(
        session,
        admin,
        old,
        title="健康证",
        number="JK-2",
        expires_on="2027-12-31",
        upload=DocumentFile(scan, "IMG_0002.jpg", "image/jpeg"),
        store=store,
        now=clock.now(),
    )

    added = _only(session, "document.added")
    assert (added.actor_id, added.target_kind, added.target_id) == (admin.id, "document", old.id)
    assert added.after == {
        "kind": "health_certificate",
        "title": "健康证",
        "number": "JK-1",
        "insurance_type": None,
        "issued_on": None,
        "expires_on": "2026-12-31",
        "holder": cook.display_name,
    }
    renewed = _only(session, "document.renewed")
    assert (renewed.target_id, renewed.target_label) == (new.id, f"健康证 · {cook.display_name}")
    assert renewed.before == {"number": "JK-1", "expires_on": "2026-12-31"}
    assert renewed.after == {"number": "JK-2", "expires_on": "2027-12-31"}
    logged = json.dumps([added.before, added.after, renewed.before, renewed.after])
    assert "IMG_000" not in logged and "photo" not in logged and "file" not in logged


def test_a_place_added_is_logged(session: Session, clock: SettableClock, admin: Person) -> None:
    school = admin.grants[0].school
    assert school is not None

    place = add_location(
        session, school, building="教学楼", floor="2层", actor=admin, now=clock.now()
    )

    entry = _only(session, "place.added")
    assert (entry.actor_id, entry.target_kind, entry.target_id) == (admin.id, "location", place.id)
    assert entry.after == {"building": "教学楼", "floor": "2层", "room": ""}
    assert (entry.target_label, entry.district_id) == ("教学楼 2层", school.district_id)


# --- a school's stage and position ------------------------------------------------------


def test_a_schools_stage_and_position_are_logged_when_they_change(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    district = make_district_admin(session, clock, school)

    set_stage(session, district, school, SchoolStage.PRIMARY, now=clock.now())
    set_stage(session, district, school, SchoolStage.PRIMARY, now=clock.now())
    set_school_position(session, district, school, "31.2304", "121.4737", "300", now=clock.now())
    set_school_position(session, district, school, "31.2304", "121.4737", "500", now=clock.now())

    stage = _only(session, "school.stage_set")
    assert (stage.actor_id, stage.target_kind, stage.target_id) == (
        district.id,
        "school",
        school.id,
    )
    assert (stage.before, stage.after) == ({"stage": None}, {"stage": "primary"})
    placed, widened = _entries(session, "school.position_set")
    assert (placed.before, placed.after) == (
        {"latitude": None, "longitude": None},
        {"latitude": 31.2304, "longitude": 121.4737},
    )
    assert (widened.before, widened.after) == ({"radius_m": 300}, {"radius_m": 500})


# --- notice groups, the score, chats ----------------------------------------------------


def test_notice_groups_added_and_switched_off_are_logged_never_their_keys(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    district = make_district_admin(session, clock, school)
    key, secret = "abcd-webhook-key-1234", "SECdingtalk-signing-5678"
    group = add_group(
        session,
        district,
        channel=DINGTALK_ROBOT,
        district=school.district,
        school=school,
        role=Role.CANTEEN_STAFF,
        label="食堂群",
        address=f"https://oapi.dingtalk.com/robot/send?access_token={key}",
        signing_secret=secret,
        min_severity="major",
        now=clock.now(),
    )
    disable_group(session, district, group.id, now=clock.now())
    disable_group(session, district, group.id, now=clock.now())

    added = _only(session, "group.added")
    assert (added.actor_id, added.target_kind, added.target_id) == (
        district.id,
        "channel_group",
        group.id,
    )
    assert added.after == {
        "label": "食堂群",
        "channel": DINGTALK_ROBOT,
        "school": school.name,
        "role": "canteen_staff",
        "min_severity": "major",
        "webhook_secret": "changed",
        "signing_secret": "changed",
    }
    off = _only(session, "group.disabled")  # switched off twice: one entry
    assert (off.target_id, off.before, off.after) == (
        group.id,
        {"enabled": True},
        {"enabled": False},
    )
    for entry in (added, off):
        logged = json.dumps([entry.before, entry.after, entry.target_label])
        assert key not in logged and secret not in logged and "dingtalk.com" not in logged


def test_a_score_scheme_saved_is_logged_with_the_weights_that_changed(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    district = make_district_admin(session, clock, school)
    bands = {"A": 90, "B": 75, "C": 60}

    first = save_scheme(
        session,
        district,
        school.district,
        Scheme({"on_time": 60, "flags": 40}, bands, 180),
        now=clock.now(),
    )
    second = save_scheme(
        session,
        district,
        school.district,
        Scheme({"on_time": 50, "flags": 50}, bands, 180),
        now=clock.now(),
    )

    saved, changed = _entries(session, "score.changed")
    assert (saved.actor_id, saved.target_kind, saved.target_id) == (
        district.id,
        "score_scheme",
        first.id,
    )
    assert saved.before == {}
    assert (saved.after["version"], saved.after["weight_on_time"], saved.after["band_A"]) == (
        1,
        60,
        90,
    )
    assert changed.target_id == second.id
    assert changed.before == {"version": 1, "weight_on_time": 60, "weight_flags": 40}
    assert changed.after == {"version": 2, "weight_on_time": 50, "weight_flags": 50}
    assert (changed.target_label, changed.district_id) == (school.district.name, school.district_id)


def test_a_chat_linked_and_unlinked_is_logged_by_its_person(
    session: Session, clock: SettableClock, admin: Person
) -> None:
    code = new_link_code(session, admin, now=clock.now()).code
    link_address(session, code, "telegram", "4242", now=clock.now())
    unlink_address(session, "telegram", person=admin, now=clock.now())

    linked = _only(session, "person.chat_linked")
    assert (linked.actor_id, linked.target_kind, linked.target_id) == (admin.id, "person", admin.id)
    assert (linked.before, linked.after) == ({"telegram": ""}, {"telegram": "4242"})
    unlinked = _only(session, "person.chat_unlinked")
    assert (unlinked.actor_id, unlinked.target_id) == (admin.id, admin.id)
    assert (unlinked.before, unlinked.after) == ({"telegram": "4242"}, {})
    assert unlinked.district_id == admin.grants[0].district_id


def test_a_chat_moved_to_another_person_ends_the_first_persons_link(
    session: Session, clock: SettableClock, admin: Person
) -> None:
    school = admin.grants[0].school
    assert school is not None
    cook = make_person(session, clock, school, Role.CANTEEN_STAFF, "cook")
    first = new_link_code(session, admin, now=clock.now()).code
    link_address(session, first, "telegram", "4242", now=clock.now())
    second = new_link_code(session, cook, now=clock.now()).code

    link_address(session, second, "telegram", "4242", now=clock.now())

    unlinked = _only(session, "person.chat_unlinked")
    assert (unlinked.actor_id, unlinked.target_id, unlinked.before) == (
        cook.id,
        admin.id,
        {"telegram": "4242"},
    )
    assert [e.target_id for e in _entries(session, "person.chat_linked")] == [admin.id, cook.id]


# --- never changed, never deleted -------------------------------------------------------


def _one_entry(session: Session, admin: Person, clock: SettableClock) -> AuditEntry:
    entry = audit(session, admin, "person.unlocked", admin, now=clock.now())
    session.commit()
    return entry


@pytest.mark.parametrize(
    "statement",
    [
        update(AuditEntry).values(action="login.succeeded"),
        delete(AuditEntry),
    ],
    ids=["update", "delete"],
)
def test_the_database_refuses_to_change_or_delete_an_entry(
    session: Session, clock: SettableClock, admin: Person, statement: Any
) -> None:
    _one_entry(session, admin, clock)

    with pytest.raises(DBAPIError, match="never changed or deleted"):
        session.execute(statement)
    session.rollback()

    assert [e.action for e in _entries(session)] == ["person.unlocked"]


def test_plain_sql_cannot_change_an_entry_either(
    session: Session, clock: SettableClock, admin: Person
) -> None:
    _one_entry(session, admin, clock)

    with pytest.raises(DBAPIError, match="never changed or deleted"):
        session.execute(text("UPDATE audit_entry SET after = '{}'"))


# --- who reads it -----------------------------------------------------------------------


def test_only_the_districts_own_administrators_read_its_log_newest_first(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    district = make_district_admin(session, clock, school)
    head = make_person(session, clock, school, Role.SCHOOL_ADMIN, "head")
    other = make_school(session, "T1", "另一区小学")
    stranger = make_district_admin(session, clock, other, "stranger")
    audit(session, head, "person.unlocked", head, now=clock.now())
    clock.advance(timedelta(minutes=1))
    audit(session, district, "person.unlocked", head, now=clock.now())
    audit(session, stranger, "person.unlocked", stranger, now=clock.now())
    session.flush()

    page = audit_page(session, district, school.district, AuditFilter())
    assert page is not None
    assert [e.actor_id for e in page.items] == [district.id, head.id]
    by_head = audit_page(session, district, school.district, AuditFilter(person_id=head.id))
    assert by_head is not None and by_head.total == 2  # by them, and about them
    later = AuditFilter(since=clock.now() - timedelta(seconds=30))
    assert [e.actor_id for e in audit_page(session, district, school.district, later).items] == [
        district.id
    ]
    assert audit_page(session, head, school.district, AuditFilter()) is None
    assert audit_page(session, stranger, school.district, AuditFilter()) is None
