"""The canteen's morning health check asks after each canteen worker on the roster, one by one,
with the register's certificate beside them."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.actions import CorrectiveAction
from models.assets import AssetKind
from models.clock import SettableClock
from models.documents import Document, DocumentKind
from models.health import HEALTH_CHECK, roster_of, workers_of
from models.messages import SubmissionInvalid
from models.people import Person, Role
from models.photos import PhotoStore
from models.records import Channel, submit_record
from tests.factories import make_asset, make_person, make_school, template_for, worker_answers

TICKED_OK: dict[str, str] = {}


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


def _staff(session: Session) -> dict[str, Person]:
    return {p.username: p for p in session.scalars(select(Person))}


def test_a_worker_without_a_valid_certificate_on_duty_fails_the_check_named_with_why(
    session: Session, clock: SettableClock, store: PhotoStore, canteen_world
) -> None:
    canteen, manager, zhou = canteen_world
    staff = _staff(session)
    answers = {
        **worker_answers(staff["li"]),
        **worker_answers(staff["wang"]),
        **worker_answers(staff["zhao"]),
        **worker_answers(zhou, duty="off"),
    }

    record = _check(session, clock, store, manager, canteen, answers)

    assert not record.passed
    assert record.failed_items == ["staff"]
    assert [(e.name, e.status) for e in roster_of(record.answers)] == [
        ("Li", "expired"),
        ("Wang", "valid"),
        ("Zhao", "missing"),
    ]
    [action] = session.scalars(select(CorrectiveAction)).all()
    assert action.what == {
        "zh_CN": "有上岗人员无有效健康证：Li（健康证已于 2026-02-28 过期）；"
        "Zhao（登记中没有健康证）",
        "en": "Someone on duty without a valid health certificate: "
        "Li (Health certificate expired on 2026-02-28); "
        "Zhao (No health certificate in the register)",
    }


def test_a_check_with_everyone_on_duty_well_and_certified_passes_and_counts_who_worked(
    session: Session, clock: SettableClock, store: PhotoStore, canteen_world
) -> None:
    canteen, manager, zhou = canteen_world
    staff = _staff(session)
    answers = {
        **worker_answers(staff["wang"]),
        **worker_answers(staff["li"], duty="off"),
        **worker_answers(staff["zhao"], duty="off"),
        **worker_answers(zhou, duty="off"),
    }

    record = _check(session, clock, store, manager, canteen, answers)
    again = _check(session, clock, store, manager, canteen, answers)

    assert record.passed
    assert [e.name for e in roster_of(record.answers)] == ["Wang"]
    workers = workers_of(record.answers, record.template.spec)
    assert [(w["name"], w["duty"]) for w in workers] == [
        ("Li", "off"),
        ("Wang", "on"),
        ("Zhao", "off"),
        ("Zhou", "off"),
    ]
    assert workers[1]["healthy"] == "yes" and workers[1]["clothes"] == "yes"
    assert "healthy" not in workers[0]  # nothing more is asked of someone not at work
    assert again.id == record.id  # a retry of the same form files nothing new


def test_an_unwell_worker_left_on_duty_is_a_critical_failure_naming_the_symptoms(
    session: Session, clock: SettableClock, store: PhotoStore, canteen_world
) -> None:
    canteen, manager, zhou = canteen_world
    staff = _staff(session)
    answers = {
        **worker_answers(staff["wang"], healthy="no", clothes="no"),
        **worker_answers(staff["li"], duty="sent_off"),
        **worker_answers(staff["zhao"], duty="off"),
        **worker_answers(zhou, duty="off"),
    }
    answers[f"staff.{staff['wang'].id}.symptoms"] = ["fever", "hand_cut"]  # type: ignore[assignment]

    record = _check(session, clock, store, manager, canteen, answers)

    assert record.failed_items == ["healthy", "clothes"]
    actions = {a.item_key: a for a in session.scalars(select(CorrectiveAction))}
    assert actions["healthy"].severity == "critical"
    assert actions["healthy"].what["zh_CN"] == "身体不适人员未离岗：Wang（发热、手部伤口或化脓）"
    assert actions["clothes"].severity == "minor"
    assert actions["clothes"].what["zh_CN"] == "工作衣帽不洁或未戴帽：Wang"


def test_an_unwell_worker_sent_off_duty_passes_and_an_unanswered_worker_is_asked_for(
    session: Session, clock: SettableClock, store: PhotoStore, canteen_world
) -> None:
    canteen, manager, zhou = canteen_world
    staff = _staff(session)
    well_but_sick = {
        **worker_answers(staff["wang"]),
        f"staff.{staff['wang'].id}.symptoms": "vomiting",
        **worker_answers(staff["li"], duty="sent_off"),
        **worker_answers(zhou, duty="off"),
    }

    with pytest.raises(SubmissionInvalid) as refused:
        _check(session, clock, store, manager, canteen, well_but_sick)

    assert set(refused.value.errors) == {
        f"staff.{staff['wang'].id}.healthy",
        f"staff.{staff['zhao'].id}.duty",
    }
    sent_off = {
        **worker_answers(staff["wang"]),
        **worker_answers(staff["li"], duty="sent_off"),
        **worker_answers(staff["zhao"], duty="off"),
        **worker_answers(zhou, duty="off"),
    }
    assert _check(session, clock, store, manager, canteen, sent_off, key="health-2").passed
