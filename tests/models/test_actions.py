"""Failures get fixed: an action per failed item, alerts, close with proof, reopen."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.actions import (
    ActionRefused,
    CorrectiveAction,
    close_action,
    reopen_action,
    visible_actions,
)
from models.checklists import base_template, save_template_version, spec_from_json
from models.clock import SettableClock
from models.messages import SubmissionInvalid
from models.notifications import Delivery, Notification, Severity, inbox, notify
from models.people import Role
from models.photos import PhotoStore, process_photo
from models.records import Channel, Upload, submit_record
from tests.factories import (
    EXTINGUISHER_OK,
    jpeg_bytes,
    make_address,
    make_asset,
    make_person,
    make_school,
)


@pytest.fixture
def world(session: Session, clock: SettableClock):
    school = make_school(session)
    inspector = make_person(session, clock, school, Role.INSPECTOR, "inspector")
    keeper = make_person(session, clock, school, Role.DORM_STAFF, "keeper")
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    asset = make_asset(session, clock, school, responsible=keeper)
    return school, inspector, keeper, admin, asset


def _check(session, clock, store, actor, asset, answers, key):
    return submit_record(
        session,
        actor=actor,
        asset=asset,
        template=base_template(session, "extinguisher_monthly"),
        answers=answers,
        uploads=[Upload("photo", jpeg_bytes())],
        key=key,
        channel=Channel.WEB,
        clock=clock,
        store=store,
    ).record


def _actions(session: Session) -> list[CorrectiveAction]:
    return list(session.scalars(select(CorrectiveAction)))


def test_a_failed_item_opens_an_action_for_the_responsible_person(
    session: Session, clock: SettableClock, store: PhotoStore, world
) -> None:
    _, inspector, keeper, _, asset = world

    _check(
        session,
        clock,
        store,
        inspector,
        asset,
        {**EXTINGUISHER_OK, "hose_clear": "fail"},
        "k-000001",
    )

    [action] = _actions(session)
    severity = base_template(session, "extinguisher_monthly").spec.item("hose_clear").severity
    assert action.assignee is keeper
    assert action.is_open
    assert action.what["zh_CN"] == "喷管损坏或堵塞"
    assert action.due_at - clock.now() == {"critical": 1, "major": 3, "minor": 7}[
        severity
    ] * timedelta(days=1)
    assert [n.recipient for n in inbox(session, keeper)] == [keeper]
    assert visible_actions(session, keeper, assigned_to_me=True) == [action]


def test_failing_again_joins_the_open_action_instead_of_opening_another(
    session: Session, clock: SettableClock, store: PhotoStore, world
) -> None:
    _, inspector, _, _, asset = world
    failed = {**EXTINGUISHER_OK, "hose_clear": "fail"}

    _check(session, clock, store, inspector, asset, failed, "k-000001")
    clock.advance(timedelta(days=1))
    _check(session, clock, store, inspector, asset, failed, "k-000002")

    [action] = _actions(session)
    assert [e.kind for e in action.events] == ["opened", "failed_again"]


def test_a_critical_failure_alerts_the_school_administrators_at_once(
    session: Session, clock: SettableClock, store: PhotoStore, world
) -> None:
    _, inspector, _, admin, asset = world
    make_address(session, admin, "telegram", "42", clock.now())
    data = base_template(session, "extinguisher_monthly").spec.to_json()
    for item in data["items"]:
        if item["key"] == "gauge_green":
            item["severity"] = "critical"
    save_template_version(session, spec_from_json(data), now=clock.now())

    _check(
        session,
        clock,
        store,
        inspector,
        asset,
        {**EXTINGUISHER_OK, "gauge_green": "fail"},
        "k-000001",
    )

    [alert] = inbox(session, admin)
    assert alert.severity == "critical"
    assert alert.params["item"] == {
        "zh_CN": "压力表指针不在绿区",
        "en": "Gauge needle not in the green",
    }
    assert alert.link == f"/actions/{_actions(session)[0].id}"
    assert [d.channel for d in alert.deliveries] == ["telegram"]
    assert alert.deliveries[0].sent_at is None


def test_closing_needs_a_note_and_a_photo(
    session: Session, clock: SettableClock, store: PhotoStore, world
) -> None:
    _, inspector, keeper, _, asset = world
    _check(
        session,
        clock,
        store,
        inspector,
        asset,
        {**EXTINGUISHER_OK, "hose_clear": "fail"},
        "k-000001",
    )
    [action] = _actions(session)

    with pytest.raises(SubmissionInvalid) as refused:
        close_action(
            session, action, actor=keeper, note=" ", photo=None, store=store, now=clock.now()
        )

    assert set(refused.value.errors) == {"note", "photo"}
    assert action.is_open


def test_an_action_is_closed_with_proof_and_reopened_by_an_administrator(
    session: Session, clock: SettableClock, store: PhotoStore, world
) -> None:
    _, inspector, keeper, admin, asset = world
    _check(
        session,
        clock,
        store,
        inspector,
        asset,
        {**EXTINGUISHER_OK, "hose_clear": "fail"},
        "k-000001",
    )
    [action] = _actions(session)
    photo = process_photo(jpeg_bytes(color="green"))

    clock.advance(timedelta(hours=5))
    close_action(
        session, action, actor=keeper, note="换了新喷管", photo=photo, store=store, now=clock.now()
    )
    assert not action.is_open
    with pytest.raises(ActionRefused):
        reopen_action(session, action, actor=keeper, note="?", now=clock.now())

    clock.advance(timedelta(days=1))
    reopen_action(session, action, actor=admin, note="喷管仍有裂纹", now=clock.now())

    assert action.is_open
    assert action.due_at > clock.now()
    assert [e.kind for e in action.events] == ["opened", "closed", "reopened"]
    assert action.events[1].photo is not None and action.events[1].note == "换了新喷管"
    assert len(inbox(session, keeper)) == 2


def test_someone_else_cannot_close_an_action(
    session: Session, clock: SettableClock, store: PhotoStore, world
) -> None:
    _, inspector, _, _, asset = world
    _check(
        session,
        clock,
        store,
        inspector,
        asset,
        {**EXTINGUISHER_OK, "hose_clear": "fail"},
        "k-000001",
    )
    [action] = _actions(session)

    with pytest.raises(ActionRefused):
        close_action(
            session,
            action,
            actor=inspector,
            note="done",
            photo=process_photo(jpeg_bytes()),
            store=store,
            now=clock.now(),
        )


def test_the_same_notice_is_queued_once(session: Session, clock: SettableClock, world) -> None:
    _, _, keeper, _, _ = world
    make_address(session, keeper, "telegram", "42", clock.now())
    for _ in range(3):
        notify(
            session,
            [keeper, keeper],
            message="Hello",
            params={},
            severity=Severity.INFO,
            dedup_key="once",
            now=clock.now(),
        )

    assert session.scalar(select(func.count()).select_from(Notification)) == 1
    assert session.scalar(select(func.count()).select_from(Delivery)) == 1
