"""The world the authorization table is tried in: a school with one person of every role, a
second school of the same district, a school of another district, and of each school's kind
of object one row (an asset, a record and its photo, a corrective action, a certificate with
its scan, a supplier, an order, a training, a schedule, a calendar entry, a notice group)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.actions import CorrectiveAction
from models.assets import AssetKind
from models.clock import SettableClock
from models.duties import CalendarEntry, Duty, ensure_builtin_duties
from models.login_sessions import start_session
from models.notifications import Severity, notify
from models.orders import SupplyOrder
from models.org import School
from models.people import Person, Role
from models.photos import PhotoStore
from models.robot_groups import ChannelGroup
from models.stored_files import DocumentFile
from models.training import TrainingSession
from tests.factories import (
    EXTINGUISHER_OK,
    file_check,
    jpeg_bytes,
    make_asset,
    make_certificate,
    make_person,
    make_school,
    make_supplier,
)

ANONYMOUS = "anonymous"
DISTRICT_ADMIN = Role.DISTRICT_ADMIN.value
OTHER_DISTRICT_ADMIN = "other_district_admin"
SCHOOL_ROLES = tuple(role.value for role in Role if role != Role.DISTRICT_ADMIN)
# Everyone a request can come from: a person of each role at the first school, the first
# district's administrator, the administrator of another district, and nobody logged in.
SUBJECTS = (*SCHOOL_ROLES, DISTRICT_ADMIN, OTHER_DISTRICT_ADMIN, ANONYMOUS)


@dataclass
class Side:
    """One school's objects, by the URL argument that names them."""

    school: School
    values: dict[str, str] = field(default_factory=dict)
    # Per person: their own notice and a second login of theirs.
    notices: dict[int, int] = field(default_factory=dict)
    logins: dict[int, int] = field(default_factory=dict)


@dataclass
class World:
    own: Side
    other: Side
    people: dict[str, Person]


def _furnish(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    school: School,
    prefix: str,
) -> tuple[Side, dict[str, Person]]:
    """A school's people of every role (their usernames the role, after `prefix`) and one row
    of each kind its routes name."""
    people = {
        role: make_person(session, clock, school, Role(role), f"{prefix}{role}")
        for role in SCHOOL_ROLES
    }
    admin, inspector = people[Role.SCHOOL_ADMIN], people[Role.INSPECTOR]
    cook = people[Role.CANTEEN_STAFF]
    extinguisher = make_asset(
        session, clock, school, code=f"{prefix}MHQ-001", responsible=inspector
    )
    bus = make_asset(session, clock, school, AssetKind.BUS, f"{prefix}BUS-01", "1号校车")
    make_asset(session, clock, school, AssetKind.CANTEEN, f"{prefix}ST-01", "食堂")
    record = file_check(session, clock, store, inspector, extinguisher, f"{prefix}passed-01")
    file_check(
        session,
        clock,
        store,
        inspector,
        extinguisher,
        f"{prefix}failed-01",
        answers={**EXTINGUISHER_OK, "gauge_green": "fail"},
    )
    action = session.scalars(
        select(CorrectiveAction).where(CorrectiveAction.school_id == school.id)
    ).first()
    assert action is not None
    certificate = make_certificate(
        session,
        clock,
        store,
        admin,
        school,
        cook,
        upload=DocumentFile(
            data=jpeg_bytes((400, 300)), filename="scan.jpg", content_type="image/jpeg"
        ),
    )
    supplier = make_supplier(session, clock, school, f"{prefix}绿源蔬菜配送")
    order = SupplyOrder(
        district_id=school.district_id,
        school_id=school.id,
        goods="uniform",
        year=2026,
        term="spring",
        grades=[],
        quantity=10,
        collected_fen=0,
        settle_by=date(2026, 6, 30),
        created_at=clock.now(),
        created_by_id=admin.id,
    )
    training = TrainingSession(
        school_id=school.id,
        topic="消防安全",
        held_on=date(2026, 2, 20),
        trainer="王老师",
        created_at=clock.now(),
        created_by_id=admin.id,
    )
    training.attendees.append(people[Role.GUARD])
    entry = CalendarEntry(
        district_id=school.district_id,
        kind="holiday",
        starts_on=date(2026, 4, 4),
        ends_on=date(2026, 4, 6),
        name=f"{prefix}清明节",
    )
    group = ChannelGroup(
        district_id=school.district_id,
        school_id=school.id,
        channel="wecom_robot",
        label="后勤群",
        address="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x",
        created_at=clock.now(),
    )
    session.add_all([order, training, entry, group])
    session.flush()
    duty = session.scalars(
        select(Duty).where(Duty.district_id == school.district_id).order_by(Duty.id)
    ).first()
    assert duty is not None and record.photos
    side = Side(
        school,
        {
            "school_code": school.code,
            "district_code": school.district.code,
            "token": extinguisher.current_label.token,
            "rear_token": bus.rear_label.token if bus.rear_label else "",
            "action_id": str(action.id),
            "asset_id": str(extinguisher.id),
            "person_id": str(cook.id),
            "record_id": str(record.id),
            "photo_id": str(record.photos[0].photo_id),
            "document_id": str(certificate.id),
            "supplier_id": str(supplier.id),
            "order_id": str(order.id),
            "entry_id": str(entry.id),
            "duty_id": str(duty.id),
            "group_id": str(group.id),
        },
    )
    return side, people


def build_world(session: Session, clock: SettableClock, store: PhotoStore) -> World:
    """Two schools of one district, one of another; see the module's docstring."""
    first = make_school(session, "A1", "实验小学")
    second = make_school(session, "B1", "第二小学", district=first.district)
    elsewhere = make_school(session, "C1", "邻区小学")
    for district in (first.district, elsewhere.district):
        ensure_builtin_duties(session, district, now=clock.now())
    own, people = _furnish(session, clock, store, first, "")
    other, others = _furnish(session, clock, store, second, "b_")
    people[DISTRICT_ADMIN] = make_person(session, clock, first, Role.DISTRICT_ADMIN, "district")
    people[OTHER_DISTRICT_ADMIN] = make_person(
        session, clock, elsewhere, Role.DISTRICT_ADMIN, "elsewhere"
    )
    stranger = others[Role.SCHOOL_ADMIN]
    everyone = [*people.values(), stranger]
    for person in everyone:
        [notice] = notify(
            session,
            [person],
            message="Check the bus now!",
            params={},
            severity=Severity.MINOR,
            dedup_key=f"authorization:{person.id}",
            now=clock.now(),
        )
        login = start_session(
            session, person, user_agent="test", address="127.0.0.1", now=clock.now()
        )
        own.notices[person.id], own.logins[person.id] = notice.id, login.id
    for person in people.values():
        other.notices[person.id] = own.notices[stranger.id]
        other.logins[person.id] = own.logins[stranger.id]
    session.flush()
    return World(own, other, people)
