"""WeCom application messages over real HTTP against tests/fake_wecom.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from channels import ServiceDown
from channels.wecom.sender import RateLimits, TokenCache, WeComSender, pieces_for
from models.clock import SettableClock
from models.notifications import Delivery, Severity, notify
from models.outbox import claim_deliveries
from models.people import Person, Role
from settings import WeComSettings
from tests.factories import make_address, make_person, make_school
from tests.fake_wecom import FakeWeCom
from tests.webapp.helpers import reach_page

FACTOR = 600  # a member's minute lasts a tenth of a second, here and in the fake


@pytest.fixture
def fake() -> Iterator[FakeWeCom]:
    TokenCache.forget()
    server = FakeWeCom(factor=FACTOR).start()
    yield server
    server.stop()


def _sender(fake: FakeWeCom, factory: sessionmaker[Session], clock: SettableClock) -> WeComSender:
    settings = WeComSettings(
        base_url=fake.base_url, corp_id=fake.corp_id, agent_id=fake.agent_id, secret=fake.secret
    )
    return WeComSender(
        settings,
        factory,
        clock,
        RateLimits(factor=FACTOR),
        base_url="https://houqin.example",
        first_backoff=0.01,
        timeout=2,
    )


def _person(session: Session, clock: SettableClock, user_id: str, name: str) -> Person:
    school = make_school(session, code=f"S{name}")
    person = make_person(session, clock, school, Role.INSPECTOR, name)
    make_address(session, person, "wecom", user_id, clock.now())
    return person


def _queue(
    session: Session, clock: SettableClock, person: Person, count: int, text: str = ""
) -> None:
    for number in range(count):
        notify(
            session,
            [person],
            message="Due soon: %(tasks)s",
            params={"tasks": {"zh_CN": f"第 {number} 条{text}", "en": f"number {number}{text}"}},
            severity=Severity.INFO,
            dedup_key=f"test:{person.id}:{number}",
            now=clock.now(),
            link="/tasks",
        )
    session.commit()


def _outcomes(session: Session) -> list[str | None]:
    session.expire_all()
    return list(session.scalars(select(Delivery.outcome).order_by(Delivery.id)))


def test_a_notice_reaches_a_person_by_user_id_once(
    fake: FakeWeCom, session: Session, session_factory: sessionmaker[Session], clock: SettableClock
) -> None:
    person = _person(session, clock, "ZhangSan", "zhang")
    _queue(session, clock, person, 1)
    sender = _sender(fake, session_factory, clock)
    assert sender.drain() == 1
    assert sender.drain() == 0
    assert [m.user for m in fake.messages] == ["ZhangSan"]
    assert "0" in fake.messages[0].content
    assert fake.messages[0].content.endswith("https://houqin.example/tasks")
    assert _outcomes(session) == ["sent"]


def test_one_token_serves_many_and_an_expired_one_is_fetched_again(
    fake: FakeWeCom, session: Session, session_factory: sessionmaker[Session], clock: SettableClock
) -> None:
    person = _person(session, clock, "ZhangSan", "zhang")
    _queue(session, clock, person, 5)
    sender = _sender(fake, session_factory, clock)
    assert sender.drain() == 5
    assert fake.token_fetches == 1
    fake.expire_token()
    _queue_more(session, clock, person)
    assert sender.drain() == 1
    assert fake.token_fetches == 2
    assert 42001 in fake.refusals
    assert len(fake.messages) == 6


def _queue_more(session: Session, clock: SettableClock, person: Person) -> None:
    notify(
        session,
        [person],
        message="Due soon: %(tasks)s",
        params={"tasks": {"zh_CN": "再一条", "en": "one more"}},
        severity=Severity.INFO,
        dedup_key="test:more",
        now=clock.now(),
    )
    session.commit()


def test_an_unknown_user_id_fails_for_good_with_the_reason_on_the_reach_page(
    app: Flask,
    client: FlaskClient,
    fake: FakeWeCom,
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    person = _person(session, clock, "WangWu", "wang")
    school = person.grants[0].school
    school_code = school.code
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    _queue(session, clock, person, 1)
    assert _sender(fake, session_factory, clock).drain() == 0
    assert _outcomes(session) == ["failed"]
    assert "WeCom has no member with the user id WangWu" in caplog.text
    assert fake.messages == []
    session.commit()  # the page's own session writes (the login)
    page = reach_page(app, client, "admin", school_code, "wecom")
    assert "企业微信通讯录中没有用户 ID 为 WangWu 的成员，请在通讯录中核对。" in page


def test_a_frequency_limit_is_waited_out_delivering_once_in_order(
    fake: FakeWeCom, session: Session, session_factory: sessionmaker[Session], clock: SettableClock
) -> None:
    person = _person(session, clock, "ZhangSan", "zhang")
    _queue(session, clock, person, 3)
    fake.limited = 2
    assert _sender(fake, session_factory, clock).drain() == 3
    assert fake.refusals.count(45009) == 2
    assert len(fake.messages) == 3
    assert all(f"第 {n} 条" in m.content for n, m in enumerate(fake.messages))
    assert _outcomes(session) == ["sent"] * 3


def test_a_member_gets_at_most_30_a_minute_the_rest_in_the_next_drain(
    fake: FakeWeCom, session: Session, session_factory: sessionmaker[Session], clock: SettableClock
) -> None:
    moment = [1000.0]
    fake.monotonic = sender_clock = lambda: moment[0]
    person = _person(session, clock, "ZhangSan", "zhang")
    _queue(session, clock, person, 35)
    sender = _sender(fake, session_factory, clock)
    sender.monotonic = sender_clock
    assert sender.drain() == 30
    assert sender.drain() == 0
    moment[0] += 60 / FACTOR  # a (scaled) minute later
    assert sender.drain() == 5
    assert 45033 not in fake.refusals
    numbers = [m.content.split("\n")[0] for m in fake.messages]
    assert len(numbers) == 35 and len(set(numbers)) == 35


def test_a_long_text_arrives_in_pieces_within_2048_bytes(
    fake: FakeWeCom, session: Session, session_factory: sessionmaker[Session], clock: SettableClock
) -> None:
    person = _person(session, clock, "ZhangSan", "zhang")
    _queue(
        session,
        clock,
        person,
        1,
        text="\n" + "\n".join(f"灭火器检查第 {n} 行" for n in range(120)),
    )
    assert _sender(fake, session_factory, clock).drain() == 1
    assert 2 <= len(fake.messages) <= 3
    assert all(len(m.content.encode()) <= 2048 for m in fake.messages)
    assert "灭火器检查第 119 行" in fake.messages[-1].content


def test_a_text_needing_more_than_three_pieces_is_shortened_with_the_link() -> None:
    text = "\n".join(f"很长的一行 {n}" for n in range(2000))
    pieces = pieces_for(text, "https://houqin.example/tasks")
    assert len(pieces) == 3
    assert all(len(p.encode()) <= 2048 for p in pieces)
    assert pieces[-1].endswith("…\nhttps://houqin.example/tasks")


def test_a_service_down_for_a_while_then_back_delivers_everything_once_in_order(
    fake: FakeWeCom, session: Session, session_factory: sessionmaker[Session], clock: SettableClock
) -> None:
    person = _person(session, clock, "ZhangSan", "zhang")
    sender = _sender(fake, session_factory, clock)
    _queue(session, clock, person, 2)
    fake.stop()
    for _ in range(3):
        with pytest.raises(ServiceDown):
            sender.drain()
    _queue_more(session, clock, person)
    fake.start()
    assert sender.drain() == 3
    assert sender.drain() == 0
    lines = [m.content.split("\n")[0] for m in fake.messages]
    assert len(lines) == 3
    assert "0" in lines[0] and "1" in lines[1] and "再一条" in lines[2]
    assert _outcomes(session) == ["sent"] * 3


def test_two_senders_deliver_each_notice_once_and_a_killed_ones_claims_wait_for_its_lease(
    fake: FakeWeCom, session: Session, session_factory: sessionmaker[Session], clock: SettableClock
) -> None:
    zhang = _person(session, clock, "ZhangSan", "zhang")
    li = _person(session, clock, "LiSi", "li")
    _queue(session, clock, zhang, 3)
    _queue(session, clock, li, 3)
    killed = _sender(fake, session_factory, clock)
    with session_factory() as claiming:  # it claimed Zhang's three, then died before sending
        claimed = claim_deliveries(
            claiming, "wecom", now=clock.now(), limit=3, sender=killed.sender, lease=killed.lease
        )
        claiming.commit()
    first, second = _sender(fake, session_factory, clock), _sender(fake, session_factory, clock)

    assert [item.address for item in claimed] == ["ZhangSan"] * 3
    assert first.drain() + second.drain() == 3
    assert [m.user for m in fake.messages] == ["LiSi"] * 3
    clock.advance(killed.lease + timedelta(seconds=1))
    assert second.drain() + first.drain() == 3
    assert [m.content.split()[1] for m in fake.messages if m.user == "ZhangSan"] == ["0", "1", "2"]
    assert len(fake.messages) == 6


def test_a_long_notice_cut_off_by_the_limit_resumes_at_its_next_piece_never_twice(
    fake: FakeWeCom, session: Session, session_factory: sessionmaker[Session], clock: SettableClock
) -> None:
    person = _person(session, clock, "ZhangSan", "zhang")
    lines = "\n".join(f"灭火器检查第 {n} 行" for n in range(120))
    _queue(session, clock, person, 1, text="\n" + lines)
    sender = _sender(fake, session_factory, clock)
    fake.limited, fake.limited_after = sender.max_tries, 1  # the second piece: 45009 every try

    assert sender.drain() == 0
    assert len(fake.messages) == 1 and _outcomes(session) == [None]
    session.commit()  # a read on SQLite holds the write lock until it ends
    clock.advance(timedelta(minutes=2))  # past the retry the limit asked for
    assert sender.drain() == 1

    pieces = [m.content for m in fake.messages]
    assert len(pieces) == len(set(pieces)) >= 2  # the first piece went once
    assert "灭火器检查第 0 行" in pieces[0] and "灭火器检查第 119 行" in pieces[-1]
    assert _outcomes(session) == ["sent"]
