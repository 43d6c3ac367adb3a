"""Who is at a school, and what its administrators do to their roles and logins."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.checklists import spec_from_json
from models.clock import SettableClock
from models.inventory import update_asset
from models.messages import SubmissionInvalid
from models.notifications import (
    Delivery,
    Notification,
    Severity,
    notify,
    read_reason,
    school_admins,
)
from models.passwords import reset_password
from models.people import Person, Role, authenticate, grant_role
from models.records import directory_for
from models.staff import (
    LEFT_EVERY_SCHOOL,
    LOGIN_SWITCHED_OFF,
    STAFF_ROLES,
    AdminRefused,
    can_manage_person,
    grant_school_role,
    grantable_roles,
    is_at_school,
    managed_school,
    people_at_school,
    revoke_school_role,
    school_people,
    set_login_active,
)
from tests.factories import PASSWORD, make_address, make_asset, make_chat, make_person, make_school

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


# --- people -----------------------------------------------------------------------------


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


# --- who is at a school -----------------------------------------------------------------


def test_who_is_at_a_school_is_its_active_people_and_its_districts_administrators(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session, "S1")
    other = make_school(session, "S2", "第二中学", district=school.district)
    elsewhere = make_school(session, "S3", "外区中学")
    make_person(session, clock, school, Role.CANTEEN_STAFF, "cook")
    district_admin = make_person(session, clock, other, Role.DISTRICT_ADMIN, "district")
    make_person(session, clock, other, Role.TEACHER, "teacher")
    make_person(session, clock, elsewhere, Role.DISTRICT_ADMIN, "foreign")
    left = make_person(session, clock, school, Role.TEACHER, "left")
    left.active = False

    def names(people: list[Person]) -> list[str]:
        return [person.username for person in people]

    assert names(people_at_school(session, school)) == ["cook", "district"]
    assert names(people_at_school(session, school, STAFF_ROLES)) == ["cook"]
    assert names(people_at_school(session, school, (Role.DISTRICT_ADMIN,))) == ["district"]
    assert is_at_school(district_admin, school)
    assert not is_at_school(district_admin, school, STAFF_ROLES)
    assert not is_at_school(left, school)
    # Their administrators still list a switched-off login, to switch it on again.
    assert [(p.username, roles) for p, roles in school_people(session, school)] == [
        ("cook", [Role.CANTEEN_STAFF]),
        ("district", [Role.DISTRICT_ADMIN]),
        ("left", [Role.TEACHER]),
    ]


def test_a_schools_alerts_go_to_its_active_administrators_else_the_districts(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    head = make_person(session, clock, school, Role.SCHOOL_ADMIN, "head")
    district_admin = make_person(session, clock, school, Role.DISTRICT_ADMIN, "district")

    assert school_admins(session, school.id, school.district_id) == [head]
    head.active = False
    assert school_admins(session, school.id, school.district_id) == [district_admin]


def test_the_checklist_directory_and_an_assets_responsible_are_the_people_at_the_school(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    district_admin = make_person(session, clock, school, Role.DISTRICT_ADMIN, "district")
    left = make_person(session, clock, school, Role.TEACHER, "left")
    left.active = False
    spec = spec_from_json(
        {
            "key": "who",
            "kind": "school_office",
            "title": {"zh_CN": "谁", "en": "Who"},
            "items": [{"key": "by", "type": "person", "label": {"zh_CN": "人", "en": "By"}}],
        }
    )
    asset = make_asset(session, clock, school)

    assert directory_for(session, spec, asset).people == {
        admin.id: admin.display_name,
        district_admin.id: district_admin.display_name,
    }
    with pytest.raises(SubmissionInvalid) as refused:
        update_asset(
            session, asset, name=asset.name, location_id=None, responsible_id=left.id, attributes={}
        )
    assert refused.value.errors["responsible"].msgid == "Choose someone with a role at this school."


def _alert(session: Session, clock: SettableClock, person: Person, key: str) -> list[Notification]:
    return notify(
        session,
        [person],
        message="Due soon: %(tasks)s",
        params={"tasks": key},
        severity=Severity.CRITICAL,
        dedup_key=key,
        now=clock.now(),
    )


def _outcomes(session: Session, person: Person) -> list[tuple[str, str | None]]:
    deliveries = session.scalars(
        select(Delivery)
        .join(Notification)
        .where(Notification.recipient_id == person.id)
        .order_by(Delivery.id)
    )
    return [(d.channel, d.outcome) for d in deliveries]


def _reasons(session: Session, person: Person) -> set[str]:
    """The msgids of the reasons kept with the person's deliveries."""
    deliveries = session.scalars(
        select(Delivery).join(Notification).where(Notification.recipient_id == person.id)
    )
    return {reason.msgid for d in deliveries if (reason := read_reason(d.reason)) is not None}


def test_a_switched_off_persons_queued_notices_are_dropped_on_every_channel_and_no_new_ones(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    make_chat(session, teacher, 42, clock.now())
    make_address(session, teacher, "email", "teacher@example.cn", clock.now())
    _alert(session, clock, teacher, "before")
    clock.advance(timedelta(minutes=1))

    set_login_active(session, admin, teacher, active=False, now=clock.now())
    later = _alert(session, clock, teacher, "after")

    assert sorted(_outcomes(session, teacher)) == [("email", "dropped"), ("telegram", "dropped")]
    assert _reasons(session, teacher) == {LOGIN_SWITCHED_OFF}
    assert later == []
    assert school_admins(session, school.id, school.district_id) == [admin]


def test_someone_whose_last_role_is_removed_has_their_queued_notices_dropped(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    grant_school_role(session, admin, teacher, "inspector", school)
    make_chat(session, teacher, 42, clock.now())
    _alert(session, clock, teacher, "first")

    revoke_school_role(session, admin, teacher, "teacher", school, now=clock.now())
    kept = _outcomes(session, teacher)
    revoke_school_role(session, admin, teacher, "inspector", school, now=clock.now())

    assert kept == [("telegram", None)]  # still an inspector there
    assert _outcomes(session, teacher) == [("telegram", "dropped")]
    assert _reasons(session, teacher) == {LEFT_EVERY_SCHOOL}
