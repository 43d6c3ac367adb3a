"""The canteen's morning health check lists who is on duty with the register's certificates."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.actions import CorrectiveAction
from models.assets import AssetKind
from models.clock import SettableClock
from models.documents import Document, DocumentKind
from models.health import HEALTH_CHECK, roster_of
from models.people import Person, Role
from models.photos import PhotoStore
from models.records import Channel, submit_record
from tests.factories import make_asset, make_person, make_school, template_for

TICKED_OK = {
    "staff_on_duty": "4",
    "all_certified": "yes",
    "anyone_unwell": "no",
    "clothes_clean": "pass",
}


def _certificate(session: Session, clock: SettableClock, person: Person, expires: str) -> None:
    school_grant = person.grants[0]
    session.add(
        Document(
            district_id=school_grant.district_id,
            school_id=school_grant.school_id,
            kind=DocumentKind.HEALTH_CERTIFICATE,
            title="健康证明",
            person_id=person.id,
            expires_on=date.fromisoformat(expires),
            created_at=clock.now(),
        )
    )
    session.flush()


@pytest.fixture
def canteen_world(session: Session, clock: SettableClock):
    school = make_school(session)
    manager = make_person(session, clock, school, Role.SCHOOL_ADMIN, "manager")
    wang = make_person(session, clock, school, Role.CANTEEN_STAFF, "wang")
    li = make_person(session, clock, school, Role.CANTEEN_STAFF, "li")
    make_person(session, clock, school, Role.CANTEEN_STAFF, "zhao")
    zhou = make_person(session, clock, school, Role.CANTEEN_STAFF, "zhou")
    make_person(session, clock, school, Role.TEACHER, "teacher")
    _certificate(session, clock, wang, "2026-12-31")
    _certificate(session, clock, li, "2026-02-28")
    _certificate(session, clock, zhou, "2025-12-31")
    canteen = make_asset(
        session, clock, school, AssetKind.CANTEEN, "ST-01", "学生食堂", responsible=manager
    )
    return canteen, manager, zhou


def _check(session, clock, store, person, canteen, answers, key="health-0001"):
    return submit_record(
        session,
        actor=person,
        asset=canteen,
        template=template_for(session, HEALTH_CHECK),
        answers=answers,
        uploads=[],
        key=key,
        channel=Channel.WEB,
        clock=clock,
        store=store,
    ).record


def test_a_worker_without_a_valid_certificate_fails_the_check_whatever_was_ticked(
    session: Session, clock: SettableClock, store: PhotoStore, canteen_world
) -> None:
    canteen, manager, zhou = canteen_world

    record = _check(
        session, clock, store, manager, canteen, {**TICKED_OK, "off_duty": [str(zhou.id)]}
    )

    assert not record.passed
    assert record.failed_items == ["all_certified"]
    assert [(e.name, e.status) for e in roster_of(record.answers)] == [
        ("Li", "expired"),
        ("Wang", "valid"),
        ("Zhao", "missing"),
    ]
    [action] = session.scalars(select(CorrectiveAction)).all()
    assert action.what == {
        "zh_CN": "Li：健康证已于 2026-02-28 过期；Zhao：登记中没有健康证",
        "en": "Li: Health certificate expired on 2026-02-28; "
        "Zhao: No health certificate in the register",
    }


def test_a_check_with_everyone_on_duty_certified_passes(
    session: Session, clock: SettableClock, store: PhotoStore, canteen_world
) -> None:
    canteen, manager, _ = canteen_world
    off = [
        str(p.id) for p in session.scalars(select(Person)) if p.username in ("li", "zhao", "zhou")
    ]

    record = _check(session, clock, store, manager, canteen, {**TICKED_OK, "off_duty": off})
    again = _check(session, clock, store, manager, canteen, {**TICKED_OK, "off_duty": off})

    assert record.passed
    assert [e.name for e in roster_of(record.answers)] == ["Wang"]
    assert again.id == record.id  # a retry of the same form files nothing new
