"""Delivering the outbox over real HTTP: once each, in order per chat, within the limits."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from channels.telegram.chats import link_chat
from channels.telegram.pacing import Pacing, RateLimits
from channels.telegram.sender import CONNECTIONS, OutboxSender, sender, split_text
from models.clock import SettableClock
from models.linking import new_link_code
from models.notifications import Delivery, Notification, Severity, notify
from models.outbox import claim_deliveries, mark_piece_sent
from models.people import Person, Role
from settings import Settings
from tests.bot.conftest import no_wait
from tests.factories import make_address, make_chat, make_person, make_school
from tests.fake_telegram import FakeTelegram, Limits
from tests.webapp.helpers import reach_page

FACTOR = 10  # the fake's limits and the sender's, scaled alike so the test runs in seconds


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    """The fake server with its limits scaled as the sender's are."""
    server = FakeTelegram(limits=Limits().scaled(FACTOR)).start()
    yield server
    server.stop()


def _people(session: Session, clock: SettableClock, count: int) -> list[Person]:
    school = make_school(session)
    people = []
    for number in range(count):
        person = make_person(session, clock, school, Role.INSPECTOR, f"staff{number:03}")
        make_chat(session, person, 9000 + number, clock.now())
        people.append(person)
    session.flush()
    return people


def _queue(session: Session, clock: SettableClock, people: list[Person], per_person: int) -> None:
    for number in range(per_person):
        for person in people:
            notify(
                session,
                [person],
                message="Due soon: %(tasks)s",
                params={"tasks": {"zh_CN": f"第 {number} 条", "en": f"number {number}"}},
                severity=Severity.INFO,
                dedup_key=f"test:{number}",
                now=clock.now(),
            )
    session.commit()


def _drain(
    fake: FakeTelegram,
    factory: sessionmaker[Session],
    clock: SettableClock,
    limits: RateLimits,
    down: bool = False,
    **options: Any,
) -> int:
    async def main() -> int:
        request = HTTPXRequest(connection_pool_size=CONNECTIONS)
        bot = ExtBot(
            fake.token,
            base_url=fake.base_url,
            base_file_url=fake.base_file_url,
            request=request,
            rate_limiter=Pacing(limits),
        )
        async with bot:
            fake.down = down  # after the bot said hello: Telegram goes away mid-run
            return await OutboxSender(bot, factory, clock, **options).drain()

    return asyncio.run(main())


def _numbers(fake: FakeTelegram, chat_id: int) -> list[int]:
    return [int(m.text.split()[1]) for m in fake.sent_to(chat_id)]


def test_a_burst_of_1000_notices_arrives_once_each_in_order_within_the_limits(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    fake: FakeTelegram,
) -> None:
    people = _people(session, clock, 40)
    _queue(session, clock, people, 25)

    delivered = _drain(fake, session_factory, clock, RateLimits(factor=FACTOR))

    assert delivered == 1000
    assert fake.refused == []  # not one 429: the sender kept to the limits
    assert len(fake.sent) == 1000
    for number in range(40):
        assert _numbers(fake, 9000 + number) == list(range(25))
    session.expire_all()
    pending = session.scalars(select(Delivery).where(Delivery.sent_at.is_(None))).all()
    assert pending == []
    assert all(d.external_id and d.outcome == "sent" for d in session.scalars(select(Delivery)))
    session.commit()


def test_after_an_outage_everything_queued_arrives_once_in_order(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    fake: FakeTelegram,
) -> None:
    people = _people(session, clock, 3)
    _queue(session, clock, people, 4)

    during = _drain(
        fake,
        session_factory,
        clock,
        RateLimits(factor=FACTOR),
        down=True,
        sleep=no_wait,
        max_tries=3,
    )
    session.expire_all()
    waiting = session.scalars(select(Delivery)).all()
    assert during == 0 and fake.sent == []
    assert all(d.sent_at is None for d in waiting)
    assert any(d.next_attempt_at is not None and d.attempts == 1 for d in waiting)
    session.commit()

    fake.down = False  # Telegram is back an hour later
    clock.advance(timedelta(hours=1))
    after = _drain(fake, session_factory, clock, RateLimits(factor=FACTOR), sleep=no_wait)
    again = _drain(fake, session_factory, clock, RateLimits(factor=FACTOR), sleep=no_wait)

    assert after == 12 and again == 0
    for person in range(3):
        assert _numbers(fake, 9000 + person) == [0, 1, 2, 3]


def test_a_429_is_waited_out_and_nothing_is_sent_twice(
    session: Session, session_factory: sessionmaker[Session], clock: SettableClock
) -> None:
    fake = FakeTelegram(limits=Limits(per_chat_per_second=1.0)).start()
    try:
        people = _people(session, clock, 1)
        _queue(session, clock, people, 3)

        # A sender that believes it may send five a second to one chat meets 429s.
        delivered = _drain(fake, session_factory, clock, RateLimits(per_chat_per_second=5.0))
    finally:
        fake.stop()

    assert delivered == 3
    assert any(status == 429 for _, status, _ in fake.refused)
    assert _numbers(fake, 9000) == [0, 1, 2]


def _two_notices(session: Session, clock: SettableClock) -> None:
    """One notice about corrective action 7 and one about no page of its own."""
    [person] = _people(session, clock, 1)
    for key, link in (("with", "/actions/7"), ("without", None)):
        notify(
            session,
            [person],
            message="Due soon: %(tasks)s",
            params={"tasks": key},
            severity=Severity.INFO,
            dedup_key=f"test:{key}",
            now=clock.now(),
            link=link,
        )
    session.commit()


def test_every_notice_carries_its_pages_address_under_its_text_on_a_local_address(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    fake: FakeTelegram,
) -> None:
    _two_notices(session, clock)

    _drain(fake, session_factory, clock, RateLimits(factor=FACTOR), base_url="http://houqin.test/")

    assert [m.text for m in fake.sent_to(9000)] == [
        "即将到期：with\nhttp://houqin.test/actions/7",
        "即将到期：without\nhttp://houqin.test/inbox",
    ]


def test_on_a_public_address_every_notice_has_a_button_opening_its_page_and_actions_close(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    fake: FakeTelegram,
) -> None:
    _two_notices(session, clock)

    _drain(fake, session_factory, clock, RateLimits(factor=FACTOR), base_url="https://hq.edu.cn")

    action, other = fake.sent_to(9000)
    assert (action.text, other.text) == ("即将到期：with", "即将到期：without")
    assert action.params["reply_markup"]["inline_keyboard"] == [
        [{"text": "已整改，关闭", "callback_data": "close:7"}],
        [{"text": "在后勤系统中打开", "url": "https://hq.edu.cn/actions/7"}],
    ]
    assert other.params["reply_markup"]["inline_keyboard"] == [
        [{"text": "在后勤系统中打开", "url": "https://hq.edu.cn/inbox"}],
    ]


def test_a_long_text_is_split_under_4096_characters_and_a_blocked_chat_is_given_up(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    fake: FakeTelegram,
) -> None:
    reader, blocker = _people(session, clock, 2)
    for person in (reader, blocker):
        notify(
            session,
            [person],
            message="Due soon: %(tasks)s",
            params={"tasks": "灭火器月度检查 · MHQ-001；" * 500},
            severity=Severity.INFO,
            dedup_key="long",
            now=clock.now(),
        )
    session.commit()
    fake.blocked.add(9001)

    delivered = _drain(fake, session_factory, clock, RateLimits(factor=FACTOR))

    pieces = fake.sent_to(9000)
    assert delivered == 1 and len(pieces) == 3
    assert all(len(piece.text) <= 4096 for piece in pieces)
    assert "".join(p.text for p in pieces) == session.scalar(
        select(Notification.text).where(Notification.recipient_id == reader.id)
    )
    session.expire_all()
    gone = session.scalar(
        select(Delivery).join(Notification).where(Notification.recipient_id == blocker.id)
    )
    assert gone is not None and gone.outcome == "failed"


def test_notices_from_before_the_link_stay_in_the_web_inbox_only(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    fake: FakeTelegram,
) -> None:
    school = make_school(session)
    person = make_person(session, clock, school, Role.INSPECTOR, "staff")
    notify(
        session,
        [person],
        message="Due soon: %(tasks)s",
        params={"tasks": "old"},
        severity=Severity.INFO,
        dedup_key="before",
        now=clock.now(),
    )
    link_chat(session, new_link_code(session, person, now=clock.now()).code, 42, now=clock.now())
    notify(
        session,
        [person],
        message="Due soon: %(tasks)s",
        params={"tasks": "new"},
        severity=Severity.INFO,
        dedup_key="after",
        now=clock.now(),
    )
    session.commit()

    assert _drain(fake, session_factory, clock, RateLimits(factor=FACTOR)) == 1
    assert [m.text for m in fake.sent] == ["即将到期：new"]


def test_split_text_cuts_at_line_breaks_and_keeps_every_character() -> None:
    text = "\n".join(f"第 {n} 行 " + "字" * 90 for n in range(100))

    pieces = split_text(text)

    assert all(len(p) <= 4096 for p in pieces)
    assert "".join(pieces) == text
    assert all(piece.endswith("\n") for piece in pieces[:-1])


def test_a_notice_that_failed_holds_back_the_chats_later_ones_until_it_is_sent(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    fake: FakeTelegram,
) -> None:
    people = _people(session, clock, 2)
    _queue(session, clock, people, 3)
    fake.fail_next[9000] = 1  # the first notice to this chat meets a 502

    first = _drain(
        fake, session_factory, clock, RateLimits(factor=FACTOR), sleep=no_wait, max_tries=1
    )
    clock.advance(timedelta(milliseconds=500))  # before its retry is due
    second = _drain(fake, session_factory, clock, RateLimits(factor=FACTOR), sleep=no_wait)
    clock.advance(timedelta(minutes=5))
    third = _drain(fake, session_factory, clock, RateLimits(factor=FACTOR), sleep=no_wait)

    assert (first, second, third) == (3, 0, 3)  # the other chat was not held back
    assert _numbers(fake, 9000) == [0, 1, 2]
    assert _numbers(fake, 9001) == [0, 1, 2]


def test_the_sender_leaves_another_channels_deliveries_alone(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    fake: FakeTelegram,
) -> None:
    [person] = _people(session, clock, 1)
    make_address(session, person, "wecom", "staff000", clock.now())
    _queue(session, clock, [person], 2)

    delivered = _drain(fake, session_factory, clock, RateLimits(factor=FACTOR))

    assert delivered == 2 and _numbers(fake, 9000) == [0, 1]
    session.expire_all()
    waiting = session.scalars(select(Delivery).where(Delivery.sent_at.is_(None))).all()
    assert [d.channel for d in waiting] == ["wecom", "wecom"]
    session.commit()


# --- several senders, and senders that die ----------------------------------------------


def test_two_senders_on_one_database_deliver_each_notice_once_in_order_per_chat(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    fake: FakeTelegram,
) -> None:
    people = _people(session, clock, 20)
    _queue(session, clock, people, 10)
    delivered: list[int] = []
    start = threading.Barrier(2)

    def sender(name: str) -> None:
        start.wait()
        limits = RateLimits(factor=FACTOR)
        delivered.append(_drain(fake, session_factory, clock, limits, sender=name, batch=20))

    threads = [threading.Thread(target=sender, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)

    assert sum(delivered) == 200 and len(delivered) == 2
    assert len(fake.sent) == 200
    for number in range(20):
        assert _numbers(fake, 9000 + number) == list(range(10))
    session.expire_all()
    assert all(
        d.outcome == "sent" and d.claimed_by is None for d in session.scalars(select(Delivery))
    )
    session.commit()


def test_what_a_dead_sender_claimed_is_delivered_once_by_another_after_its_lease(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    fake: FakeTelegram,
) -> None:
    people = _people(session, clock, 2)
    _queue(session, clock, people, 3)
    with session_factory() as dead:  # claims, then is killed before it sends anything
        claimed = claim_deliveries(
            dead, "telegram", now=clock.now(), sender="dead", lease=timedelta(minutes=5)
        )
        dead.commit()
    limits = RateLimits(factor=FACTOR)

    meanwhile = _drain(fake, session_factory, clock, limits, sender="live")
    clock.advance(timedelta(minutes=6))
    after = _drain(fake, session_factory, clock, limits, sender="live")
    again = _drain(fake, session_factory, clock, limits, sender="other")

    assert len(claimed) == 6
    assert (meanwhile, after, again) == (0, 6, 0)
    assert _numbers(fake, 9000) == [0, 1, 2] and _numbers(fake, 9001) == [0, 1, 2]


def test_a_long_notice_resumes_at_the_piece_after_the_last_one_accepted(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    fake: FakeTelegram,
) -> None:
    [person] = _people(session, clock, 1)
    [notice] = notify(
        session,
        [person],
        message="Due soon: %(tasks)s",
        params={"tasks": "灭火器月度检查 · MHQ-001；" * 500},
        severity=Severity.INFO,
        dedup_key="long",
        now=clock.now(),
    )
    session.commit()
    pieces = split_text(notice.text)
    with session_factory() as dead:  # Telegram accepted piece 1, then the sender was killed
        [item] = claim_deliveries(dead, "telegram", now=clock.now(), sender="dead")
        mark_piece_sent(dead, item.delivery_id, 1, "41", clock.now())
        dead.commit()
    clock.advance(timedelta(minutes=11))

    delivered = _drain(fake, session_factory, clock, RateLimits(factor=FACTOR), sender="next")

    assert len(notice.text) > 9000 and len(pieces) == 3
    assert delivered == 1
    assert [m.text for m in fake.sent_to(9000)] == pieces[1:]
    session.expire_all()
    delivery = session.scalars(select(Delivery)).one()
    assert delivery.outcome == "sent" and delivery.pieces_sent == 2
    session.commit()


def test_nothing_is_sent_to_a_person_whose_login_is_switched_off(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    fake: FakeTelegram,
) -> None:
    active, switched_off = _people(session, clock, 2)
    _queue(session, clock, [active, switched_off], 1)
    switched_off.active = False  # switched off some other way than the admin page
    session.commit()

    delivered = _drain(fake, session_factory, clock, RateLimits(factor=FACTOR))

    assert delivered == 1 and fake.sent_to(9001) == []


def test_a_blocked_or_gone_chat_shows_why_on_the_reach_page(
    app: Flask,
    client: FlaskClient,
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    fake: FakeTelegram,
) -> None:
    blocker, leaver = _people(session, clock, 2)
    admin = make_person(session, clock, blocker.grants[0].school, Role.SCHOOL_ADMIN, "admin")
    admin.locale = "en"
    _queue(session, clock, [blocker, leaver], 1)
    fake.blocked.add(9000)
    fake.gone.add(9001)

    assert _drain(fake, session_factory, clock, RateLimits(factor=FACTOR)) == 0

    page = reach_page(app, client, "admin", blocker.grants[0].school.code, "telegram")
    blocked, gone = page.split("Staff000")[1].split("Staff001")
    assert "The person blocked the bot or deleted the chat." in blocked
    assert "Telegram does not know this chat: the person may have deleted it." in gone


def test_the_bot_sender_built_from_the_config_holds_its_claims_for_the_configured_lease(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    settings: Settings,
) -> None:
    people = _people(session, clock, 2)
    _queue(session, clock, people, 2)
    settings.channels.lease_seconds = 300
    bot = ExtBot("123:unused", base_url="http://127.0.0.1:9/bot")
    dead = sender(bot, settings, session_factory, clock)
    claimed = dead._pending(0)  # it claims, then is killed before it sends anything

    def taken_by_another_after(seconds: int) -> int:
        with session_factory() as other:
            now = clock.now() + timedelta(seconds=seconds)
            taken = claim_deliveries(other, "telegram", now=now, sender="other")
            other.rollback()
        return len(taken)

    assert len(claimed) == 4
    assert dead.lease == timedelta(seconds=300)
    assert taken_by_another_after(299) == 0
    assert taken_by_another_after(301) == 4
