"""The outbox by channel name: any channel, Telegram or not, gets its own deliveries."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from models.addresses import person_at
from models.clock import SettableClock
from models.linking import link_address, new_link_code, unlink_address
from models.notifications import Notification, Severity, notify
from models.outbox import (
    claim_deliveries,
    mark_delivered,
    mark_failed,
    notification_for_reply,
    skip_unaddressed,
)
from models.people import Person, Role
from tests.factories import make_address, make_person, make_school

OTHER = "other"  # a channel no code in models/ names
ADDRESS = "wang@example.cn"


def _notice(session: Session, clock: SettableClock, person: Person, key: str) -> Notification:
    [notice] = notify(
        session,
        [person],
        message="Due soon: %(tasks)s",
        params={"tasks": key},
        severity=Severity.INFO,
        dedup_key=key,
        now=clock.now(),
    )
    return notice


def _staff(session: Session, clock: SettableClock) -> Person:
    person = make_person(session, clock, make_school(session), Role.INSPECTOR, "wang")
    make_address(session, person, "telegram", "9000", clock.now())
    make_address(session, person, OTHER, ADDRESS, clock.now())
    return person


def test_a_second_channel_gets_its_own_deliveries_and_telegram_never_claims_them(
    session: Session, clock: SettableClock
) -> None:
    person = _staff(session, clock)

    notice = _notice(session, clock, person, "one")
    session.flush()

    assert sorted(d.channel for d in notice.deliveries) == [OTHER, "telegram"]
    [telegram] = claim_deliveries(session, "telegram", now=clock.now())
    [email] = claim_deliveries(session, OTHER, now=clock.now())
    assert (telegram.address, email.address) == ("9000", ADDRESS)
    assert telegram.delivery_id != email.delivery_id
    assert telegram.text == email.text == "即将到期：one"


def test_a_channel_marks_and_finds_its_own_messages(session: Session, clock: SettableClock) -> None:
    person = _staff(session, clock)
    notice = _notice(session, clock, person, "one")
    session.flush()
    [email] = claim_deliveries(session, OTHER, now=clock.now())

    mark_delivered(session, email.delivery_id, "<n1@houqin.test>", now=clock.now())

    assert claim_deliveries(session, OTHER, now=clock.now()) == []
    assert len(claim_deliveries(session, "telegram", now=clock.now())) == 1
    assert notification_for_reply(session, OTHER, ADDRESS, "<n1@houqin.test>") is notice
    assert notification_for_reply(session, "telegram", "9000", "<n1@houqin.test>") is None


def test_a_retry_on_one_channel_holds_back_only_that_channels_later_notices(
    session: Session, clock: SettableClock
) -> None:
    person = _staff(session, clock)
    _notice(session, clock, person, "one")
    _notice(session, clock, person, "two")
    session.flush()
    first, _ = claim_deliveries(session, "telegram", now=clock.now())

    later = clock.now() + timedelta(hours=1)
    mark_failed(session, first.delivery_id, now=clock.now(), retry_at=later)

    assert claim_deliveries(session, "telegram", now=clock.now()) == []
    assert [d.text for d in claim_deliveries(session, OTHER, now=clock.now())] == [
        "即将到期：one",
        "即将到期：two",
    ]


def test_unlinking_one_channel_skips_its_queue_and_leaves_the_others(
    session: Session, clock: SettableClock
) -> None:
    person = _staff(session, clock)
    _notice(session, clock, person, "one")
    session.flush()

    assert unlink_address(session, OTHER, address=ADDRESS, now=clock.now()) is person
    assert skip_unaddressed(session, OTHER, now=clock.now()) == 1
    assert skip_unaddressed(session, "telegram", now=clock.now()) == 0

    assert claim_deliveries(session, OTHER, now=clock.now()) == []
    assert len(claim_deliveries(session, "telegram", now=clock.now())) == 1


def test_a_code_links_any_channel_and_only_later_notices_go_there(
    session: Session, clock: SettableClock
) -> None:
    person = make_person(session, clock, make_school(session), Role.INSPECTOR, "wang")
    make_address(session, person, OTHER, "old@example.cn", clock.now())
    _notice(session, clock, person, "before")

    code = new_link_code(session, person, now=clock.now()).code
    assert link_address(session, code, OTHER, ADDRESS, now=clock.now()) is person
    _notice(session, clock, person, "after")
    session.flush()

    assert person_at(session, OTHER, ADDRESS) is person
    assert person_at(session, OTHER, "old@example.cn") is None
    assert person_at(session, "telegram", ADDRESS) is None
    [after] = claim_deliveries(session, OTHER, now=clock.now())
    assert (after.address, after.text) == (ADDRESS, "即将到期：after")
