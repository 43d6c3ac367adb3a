"""A problem reported without an account: an action for the responsible person, a reference
to quote, and limits per label and per address instead of a CAPTCHA."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.actions import ActionStatus, CorrectiveAction
from models.assets import issue_label
from models.clock import SettableClock
from models.messages import SubmissionInvalid
from models.notifications import Notification
from models.people import Role
from models.photos import PhotoStore, process_photo
from models.public_reports import (
    PUBLIC_REPORT,
    REFERENCE_ALPHABET,
    PublicReport,
    ReportLimits,
    ReportRefused,
    ReportThrottled,
    report_without_account,
    source_of,
)
from models.retirement import retire_asset
from tests.factories import field_errors, jpeg_bytes, make_asset, make_person, make_school

LIMITS = ReportLimits(per_label_per_hour=5, per_address_per_day=10)


@pytest.fixture
def world(session: Session, clock: SettableClock):
    school = make_school(session)
    keeper = make_person(session, clock, school, Role.DORM_STAFF, "keeper")
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    asset = make_asset(session, clock, school, responsible=keeper)
    return school, keeper, admin, asset


def _report(
    session,
    clock,
    store,
    label,
    *,
    source="203.0.113.7",
    description="灭火器压力表指针在红区",
    photo=None,
):
    return report_without_account(
        session,
        label,
        description=description,
        photo=photo,
        source=source,
        limits=LIMITS,
        store=store,
        now=clock.now(),
    )


def test_a_report_opens_an_action_for_the_responsible_person_who_is_told(
    session: Session, clock: SettableClock, store: PhotoStore, world
) -> None:
    _, keeper, _, asset = world

    report = _report(session, clock, store, asset.current_label)

    action = report.action
    assert action.item_key == PUBLIC_REPORT
    assert action.assignee == keeper
    assert action.status == ActionStatus.OPEN
    assert action.what["zh_CN"] == "灭火器压力表指针在红区"
    assert action.due_at == clock.now() + timedelta(days=3)
    assert action.events[0].by is None  # nobody is named
    notices = session.scalars(select(Notification)).all()
    assert [n.recipient for n in notices] == [keeper]
    assert report.reference in notices[0].text
    assert "灭火器压力表指针在红区" in notices[0].text
    assert notices[0].link == f"/actions/{action.id}"


def test_with_nobody_responsible_the_schools_administrators_are_told(
    session: Session, clock: SettableClock, store: PhotoStore, world
) -> None:
    school, _, admin, _ = world
    orphan = make_asset(session, clock, school, code="MHQ-002")

    report = _report(session, clock, store, orphan.current_label)

    assert report.action.assignee is None
    assert [n.recipient for n in session.scalars(select(Notification))] == [admin]


def test_the_reference_is_short_unguessable_and_not_the_id(
    session: Session, clock: SettableClock, store: PhotoStore, world
) -> None:
    *_, asset = world
    references = {
        _report(session, clock, store, asset.current_label, source=f"198.51.100.{n}").reference
        for n in range(5)
    }
    assert len(references) == 5
    for reference in references:
        assert len(reference) == 8
        assert set(reference) <= set(REFERENCE_ALPHABET)
        assert not reference.isdigit()


def test_a_photo_is_kept_with_the_report(
    session: Session, clock: SettableClock, store: PhotoStore, world
) -> None:
    *_, asset = world
    report = _report(session, clock, store, asset.current_label, photo=process_photo(jpeg_bytes()))
    assert report.action.events[0].photo is not None
    assert report.action.events[0].photo.width == 1600


@pytest.mark.parametrize(
    ("description", "message"),
    [("   ", "Say what is wrong."), ("坏" * 1001, "At most %(count)d characters, please.")],
)
def test_a_report_needs_a_short_description(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    world,
    description: str,
    message: str,
) -> None:
    *_, asset = world
    with pytest.raises(SubmissionInvalid) as refused:
        _report(session, clock, store, asset.current_label, description=description)
    assert field_errors(refused) == {"description": message}
    assert session.scalar(select(func.count(CorrectiveAction.id))) == 0


def test_five_reports_per_label_in_an_hour_then_the_label_waits(
    session: Session, clock: SettableClock, store: PhotoStore, world
) -> None:
    *_, asset = world
    label = asset.current_label
    for n in range(5):
        _report(session, clock, store, label, source=f"198.51.100.{n}")
        clock.advance(timedelta(minutes=10))

    with pytest.raises(ReportThrottled) as refused:
        _report(session, clock, store, label, source="192.0.2.99")
    assert "last hour" in refused.value.message.msgid
    assert session.scalar(select(func.count(CorrectiveAction.id))) == 5

    clock.advance(timedelta(minutes=11))  # the first report is now more than an hour old
    _report(session, clock, store, label, source="192.0.2.99")
    assert session.scalar(select(func.count(CorrectiveAction.id))) == 6


def test_ten_reports_per_address_in_a_day_then_that_address_waits(
    session: Session, clock: SettableClock, store: PhotoStore, world
) -> None:
    school, keeper, *_ = world
    labels = [
        make_asset(session, clock, school, code=f"MHQ-1{n:02}", responsible=keeper).current_label
        for n in range(11)
    ]
    for label in labels[:10]:
        _report(session, clock, store, label)
        clock.advance(timedelta(hours=1))

    with pytest.raises(ReportThrottled) as refused:
        _report(session, clock, store, labels[10])
    assert "today" in refused.value.message.msgid
    _report(session, clock, store, labels[10], source="192.0.2.1")  # another phone is heard

    clock.advance(timedelta(hours=15))  # a day after the first
    _report(session, clock, store, labels[10])


def test_an_ipv6_phone_counts_by_its_network_not_each_address() -> None:
    assert source_of("2001:db8:1:2::1") == source_of("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert source_of("2001:db8:1:3::1") != source_of("2001:db8:1:2::1")
    assert source_of("::ffff:203.0.113.7") == "203.0.113.7"
    assert source_of("") == "unknown"


def test_an_address_is_forgotten_once_the_day_has_passed(
    session: Session, clock: SettableClock, store: PhotoStore, world
) -> None:
    *_, asset = world
    first = _report(session, clock, store, asset.current_label)
    clock.advance(timedelta(days=1, minutes=1))
    _report(session, clock, store, asset.current_label, source="192.0.2.1")
    session.refresh(first)
    assert first.source == ""


def test_a_withdrawn_label_or_a_retired_asset_takes_no_report(
    session: Session, clock: SettableClock, store: PhotoStore, world
) -> None:
    *_, admin, asset = world
    old = asset.current_label
    issue_label(session, asset, now=clock.now())
    with pytest.raises(ReportRefused) as refused:
        _report(session, clock, store, old)
    assert "no longer in use" in refused.value.message.msgid

    retire_asset(session, admin, asset, reason="报废", now=clock.now())
    with pytest.raises(ReportRefused) as refused:
        _report(session, clock, store, asset.current_label)
    assert "retired" in refused.value.message.msgid
    assert session.scalar(select(func.count(PublicReport.id))) == 0
