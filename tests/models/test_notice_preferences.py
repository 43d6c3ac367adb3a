"""Each person's choice: which of their channels get which notices, and quiet hours."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.addresses import AddressRefused, address_of, set_address
from models.clock import SettableClock
from models.messages import DomainError, Message, SubmissionInvalid
from models.notice_preferences import (
    DIGEST,
    SAME_START_AND_END,
    choices_of,
    set_choice,
    set_quiet_hours,
)
from models.notifications import Notification, Severity, notify, snooze
from models.outbox import claim_deliveries, mark_delivered, mark_failed
from models.people import Person, Role
from models.reach import reach_page, unreached_count
from tests.factories import cst, field_errors, make_address, make_person, make_school

CHANNELS = ("email", "telegram", "wecom")
DIGEST_PARAMS = {"place": "实验小学", "due": 1, "overdue": 0, "missed": 0, "actions": 0}


def _everywhere(session: Session, clock: SettableClock, username: str = "wang") -> Person:
    person = make_person(session, clock, make_school(session), Role.INSPECTOR, username)
    make_address(session, person, "telegram", "9000", clock.now())
    make_address(session, person, "email", f"{username}@example.cn", clock.now())
    return person


def _channels(
    session: Session,
    clock: SettableClock,
    person: Person,
    severity: Severity,
    message: str = "Due soon: %(tasks)s",
) -> list[str]:
    [notice] = notify(
        session,
        [person],
        message=message,
        params={"tasks": "灭火器", "expiring": 0, **DIGEST_PARAMS},
        severity=severity,
        dedup_key=f"{severity}:{message[:10]}:{clock.now().isoformat()}",
        now=clock.now(),
    )
    return sorted(d.channel for d in notice.deliveries)


def test_by_default_email_gets_critical_alerts_and_the_digest_and_telegram_everything(
    session: Session, clock: SettableClock
) -> None:
    person = _everywhere(session, clock)

    got = {s: _channels(session, clock, person, s) for s in Severity}
    digest = _channels(session, clock, person, Severity.INFO, DIGEST)

    assert got == {
        Severity.INFO: ["telegram"],
        Severity.MINOR: ["telegram"],
        Severity.MAJOR: ["telegram"],
        Severity.CRITICAL: ["email", "telegram"],
    }
    assert digest == ["email", "telegram"]
    assert len(session.scalars(select(Notification)).all()) == 5  # the inbox has them all


def test_a_person_who_lowers_email_to_major_gets_major_notices_by_email_not_minor(
    session: Session, clock: SettableClock
) -> None:
    person = _everywhere(session, clock)

    set_choice(session, person, person, "email", lowest=Severity.MAJOR, digest=False)

    assert _channels(session, clock, person, Severity.MAJOR) == ["email", "telegram"]
    assert _channels(session, clock, person, Severity.MINOR) == ["telegram"]
    assert _channels(session, clock, person, Severity.INFO, DIGEST) == ["telegram"]
    [email, telegram, wecom] = choices_of(session, person, CHANNELS)
    assert (email.lowest, email.digest) == (Severity.MAJOR, False)
    assert (telegram.lowest, wecom.lowest) == (Severity.INFO, Severity.INFO)


def test_critical_alerts_reach_every_channel_whatever_the_person_chose(
    session: Session, clock: SettableClock
) -> None:
    person = _everywhere(session, clock)
    set_choice(session, person, person, "telegram", lowest=Severity.CRITICAL, digest=False)
    set_choice(session, person, person, "email", lowest=Severity.CRITICAL, digest=False)

    assert _channels(session, clock, person, Severity.MAJOR) == []
    assert _channels(session, clock, person, Severity.CRITICAL) == ["email", "telegram"]


def test_in_quiet_hours_a_reminder_waits_until_they_end_and_a_critical_alert_does_not(
    session: Session, clock: SettableClock
) -> None:
    person = _everywhere(session, clock)
    set_quiet_hours(session, person, person, time(22, 0), time(7, 0), now=clock.now())
    clock.set(cst(10, 23))

    _channels(session, clock, person, Severity.INFO)
    session.flush()
    held = claim_deliveries(session, "telegram", now=cst(11, 6, 59))
    _channels(session, clock, person, Severity.CRITICAL)
    session.flush()

    assert held == []
    [alert] = claim_deliveries(session, "telegram", now=clock.now())
    assert alert.severity == "critical"
    mark_delivered(session, alert.delivery_id, "1", now=clock.now())
    [reminder] = claim_deliveries(session, "telegram", now=cst(11, 7, 0))
    assert reminder.severity == "info"


@pytest.mark.parametrize(
    ("starts", "ends"), [(time(22, 0), time(6, 0)), (None, None)], ids=["shortened", "removed"]
)
def test_a_reminder_held_for_quiet_hours_goes_at_once_when_they_end_sooner_or_are_removed(
    session: Session, clock: SettableClock, starts: time | None, ends: time | None
) -> None:
    person = _everywhere(session, clock)
    set_quiet_hours(session, person, person, time(22, 0), time(7, 0), now=clock.now())
    clock.set(cst(10, 21))
    [notice] = notify(
        session,
        [person],
        message="Due soon: %(tasks)s",
        params={"tasks": "灭火器"},
        severity=Severity.MINOR,
        dedup_key="snoozed",
        now=clock.now(),
    )
    session.flush()
    [evening] = claim_deliveries(session, "telegram", now=clock.now())
    mark_delivered(session, evening.delivery_id, "1", now=clock.now())
    clock.set(cst(10, 23))
    _channels(session, clock, person, Severity.INFO)
    snooze(session, person, notice.id, now=clock.now(), until=cst(11, 8))
    session.flush()
    clock.set(cst(11, 6, 30))
    assert claim_deliveries(session, "telegram", now=clock.now()) == []

    set_quiet_hours(session, person, person, starts, ends, now=clock.now())

    [reminder] = claim_deliveries(session, "telegram", now=clock.now())
    assert reminder.severity == "info"  # the snoozed copy still waits for 08:00
    mark_delivered(session, reminder.delivery_id, "2", now=clock.now())
    [snoozed] = claim_deliveries(session, "telegram", now=cst(11, 8))
    assert snoozed.severity == "minor"


def test_quiet_hours_ending_later_than_now_hold_a_reminder_only_until_their_new_end(
    session: Session, clock: SettableClock
) -> None:
    person = _everywhere(session, clock)
    set_quiet_hours(session, person, person, time(22, 0), time(7, 0), now=clock.now())
    clock.set(cst(10, 23))
    _channels(session, clock, person, Severity.INFO)
    session.flush()
    clock.set(cst(11, 6, 30))

    set_quiet_hours(session, person, person, time(22, 0), time(6, 45), now=clock.now())

    assert claim_deliveries(session, "telegram", now=cst(11, 6, 44)) == []
    assert len(claim_deliveries(session, "telegram", now=cst(11, 6, 45))) == 1


def test_outside_quiet_hours_a_reminder_goes_at_once(
    session: Session, clock: SettableClock
) -> None:
    person = _everywhere(session, clock)
    set_quiet_hours(session, person, person, time(22, 0), time(7, 0), now=clock.now())
    clock.set(cst(10, 7, 0))

    _channels(session, clock, person, Severity.INFO)
    session.flush()

    assert len(claim_deliveries(session, "telegram", now=clock.now())) == 1


def test_a_snoozed_reminder_goes_only_where_the_person_chose_and_waits_out_quiet_hours(
    session: Session, clock: SettableClock
) -> None:
    person = _everywhere(session, clock)
    set_quiet_hours(session, person, person, time(12, 0), time(13, 30), now=clock.now())
    [notice] = notify(
        session,
        [person],
        message="Due soon: %(tasks)s",
        params={"tasks": "灭火器"},
        severity=Severity.MINOR,
        dedup_key="k",
        now=cst(10, 9),
    )

    again = snooze(session, person, notice.id, now=cst(10, 9), until=cst(10, 12, 15))

    assert again is not None
    assert [(d.channel, d.next_attempt_at) for d in again.deliveries] == [
        ("telegram", cst(10, 13, 30))
    ]


def test_quiet_hours_need_a_start_and_an_end_that_differ_and_only_the_person_sets_them(
    session: Session, clock: SettableClock
) -> None:
    person = _everywhere(session, clock)
    other = make_person(session, clock, person.grants[0].school, Role.SCHOOL_ADMIN, "admin")

    with pytest.raises(SubmissionInvalid) as same:
        set_quiet_hours(session, person, person, time(22, 0), time(22, 0), now=clock.now())
    with pytest.raises(SubmissionInvalid) as half:
        set_quiet_hours(session, person, person, time(22, 0), None, now=clock.now())
    with pytest.raises(DomainError):
        set_quiet_hours(session, other, person, time(22, 0), time(7, 0), now=clock.now())
    with pytest.raises(DomainError):
        set_choice(session, other, person, "email", lowest=Severity.INFO, digest=True)

    assert field_errors(same) == {"quiet_ends": SAME_START_AND_END}
    assert list(field_errors(half)) == ["quiet_ends"]


def test_an_email_address_is_checked_normalised_and_can_be_removed(
    session: Session, clock: SettableClock
) -> None:
    person = make_person(session, clock, make_school(session), Role.INSPECTOR, "wang")
    someone = make_person(session, clock, person.grants[0].school, Role.INSPECTOR, "li")
    make_address(session, someone, "email", "li@example.cn", clock.now())

    with pytest.raises(SubmissionInvalid) as bad:
        set_address(session, person, person, "email", "wang@", now=clock.now())
    with pytest.raises(SubmissionInvalid) as taken:
        set_address(session, person, person, "email", "li@example.cn", now=clock.now())
    with pytest.raises(AddressRefused):
        set_address(session, someone, person, "email", "wang@example.cn", now=clock.now())
    account = set_address(session, person, person, "email", " wang@Example.CN ", now=clock.now())

    assert list(field_errors(bad)) == list(field_errors(taken)) == ["address"]
    assert account is not None and account.address == "wang@example.cn"
    set_address(session, person, person, "email", "", now=clock.now())
    assert address_of(session, person, "email") is None


def test_the_reach_of_a_schools_people_shows_channels_last_deliveries_and_the_unreached(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    reached = make_person(session, clock, school, Role.INSPECTOR, "reached")
    make_person(session, clock, school, Role.INSPECTOR, "unreached")
    make_address(session, reached, "telegram", "9000", clock.now())
    make_address(session, reached, "wecom", "reached", clock.now())
    _channels(session, clock, reached, Severity.INFO)
    session.flush()
    [telegram] = claim_deliveries(session, "telegram", now=clock.now())
    [wecom] = claim_deliveries(session, "wecom", now=clock.now())
    clock.advance(timedelta(minutes=1))
    mark_delivered(session, telegram.delivery_id, "1", now=clock.now())
    gone = Message("No member %(user)s", {"user": "reached"})
    mark_failed(session, wecom.delivery_id, now=clock.now(), retry_at=None, reason=gone)

    page = reach_page(session, admin, school, ("telegram", "wecom"))
    by_name = {row.person.username: row for row in page.items}
    nobody = reach_page(session, admin, school, ("telegram", "wecom"), unreached_only=True)

    assert [
        (c.channel, c.last_sent, c.last_failed, c.failure) for c in by_name["reached"].channels
    ] == [
        ("telegram", clock.now(), None, None),
        ("wecom", None, clock.now(), gone),
    ]
    assert by_name["unreached"].channels == []
    assert [row.person.username for row in nobody.items] == ["admin", "unreached"]
    assert unreached_count(session, admin, school, ("telegram", "wecom")) == 2
    assert unreached_count(session, admin, school, ("telegram",)) == 2
    assert unreached_count(session, admin, school, ()) == 3


def test_a_school_administrator_sees_nobody_of_another_school(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    other = make_school(session, "S2", "第二小学", district=school.district)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    make_person(session, clock, other, Role.INSPECTOR, "elsewhere")

    page = reach_page(session, admin, other, ("telegram",))

    assert page.items == [] and page.total == 0
    assert unreached_count(session, admin, other, ("telegram",)) == 0
