"""WeCom's and DingTalk's group robots, sent to over HTTP against a strict fake of both."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from channels import dingtalk_robot, wecom_robot
from models.clock import SettableClock
from models.notifications import Severity, notify
from models.org import School
from models.people import Person, Role
from models.robot_groups import (
    DINGTALK_ROBOT,
    WECOM_ROBOT,
    ChannelGroup,
    GroupPost,
    add_group,
    claim_posts,
)
from settings import Settings
from tests.factories import make_district_admin, make_person, make_school
from tests.fake_robots import FakeRobots

FACTOR = 600.0  # a robot's minute lasts 0.1 s here


@pytest.fixture
def fake(clock: SettableClock) -> Iterator[FakeRobots]:
    robots = FakeRobots(factor=FACTOR, now_ms=lambda: int(clock.now().timestamp() * 1000))
    robots.wecom_keys.add("wecom-key-1234")
    robots.dingtalk_secrets["ding-token-5678"] = "SECret+/="
    robots.base_url = robots.start()  # type: ignore[attr-defined]
    yield robots
    robots.stop()


@pytest.fixture
def robot_settings(settings: Settings, fake: FakeRobots) -> Settings:
    settings.wecom.base_url = fake.base_url  # type: ignore[attr-defined]
    settings.dingtalk.base_url = fake.base_url  # type: ignore[attr-defined]
    return settings


def _group(
    session: Session,
    clock: SettableClock,
    school: School,
    channel: str,
    address: str,
    secret: str | None = None,
    role: str | None = Role.CANTEEN_STAFF,
) -> ChannelGroup:
    admin = make_district_admin(session, clock, school)
    return add_group(
        session,
        admin,
        channel=channel,
        district=school.district,
        school=school,
        role=role,
        label="Canteen group",
        address=address,
        signing_secret=secret,
        min_severity="info",
        now=clock.now(),
    )


def _sender(channel: str, settings: Settings, factory: sessionmaker[Session], clock: SettableClock):  # type: ignore[no-untyped-def]
    module = wecom_robot if channel == WECOM_ROBOT else dingtalk_robot
    return module.sender(settings, factory, clock, factor=FACTOR, first_backoff=0.02)


def _notices(session: Session, clock: SettableClock, person: Person, texts: list[str]) -> None:
    """One plain notice to the person for each text, in order (each its own dedup key)."""
    for text in texts:
        notify(
            session,
            [person],
            message=text,
            params={},
            severity=Severity.INFO,
            dedup_key=text,
            now=clock.now(),
        )


def _posts(session: Session) -> list[GroupPost]:
    session.expire_all()
    return list(session.scalars(select(GroupPost).order_by(GroupPost.id)))


@pytest.mark.parametrize("channel", [WECOM_ROBOT, DINGTALK_ROBOT])
def test_a_notice_to_three_of_a_group_is_one_post_mentioning_them(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    robot_settings: Settings,
    fake: FakeRobots,
    channel: str,
) -> None:
    school = make_school(session)
    address, secret = (
        ("wecom-key-1234", None) if channel == WECOM_ROBOT else ("ding-token-5678", "SECret+/=")
    )
    _group(session, clock, school, channel, address, secret)
    cooks = [
        make_person(session, clock, school, Role.CANTEEN_STAFF, f"cook{i}", f"1380000000{i}")
        for i in range(3)
    ]
    make_person(session, clock, school, Role.TEACHER, "teacher", "13900000009")
    for _ in range(2):
        notify(
            session,
            cooks,
            message="Fridge too warm",
            params={},
            severity=Severity.MAJOR,
            dedup_key="fridge:1",
            now=clock.now(),
            link="/actions/7",
        )
    session.commit()

    assert _sender(channel, robot_settings, session_factory, clock).drain() == 1
    assert _sender(channel, robot_settings, session_factory, clock).drain() == 0

    assert len(fake.received) == 1
    body = fake.received[0].body
    mobiles = ["13800000000", "13800000001", "13800000002"]
    if channel == WECOM_ROBOT:
        assert body["text"]["mentioned_mobile_list"] == mobiles
    else:
        assert body["at"]["atMobiles"] == mobiles
    [post] = _posts(session)
    assert post.outcome == "sent"


def test_a_burst_of_fifty_keeps_the_limit_and_arrives_in_order_once(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    robot_settings: Settings,
    fake: FakeRobots,
) -> None:
    school = make_school(session)
    _group(session, clock, school, WECOM_ROBOT, "wecom-key-1234")
    cook = make_person(session, clock, school, Role.CANTEEN_STAFF, "cook", "13800000000")
    _notices(session, clock, cook, [f"notice {i}" for i in range(50)])
    session.commit()

    assert _sender(WECOM_ROBOT, robot_settings, session_factory, clock).drain() == 50

    assert fake.texts("wecom-key-1234") == [f"notice {i}" for i in range(50)]
    assert fake.breaches == 0


def test_a_wrong_key_fails_with_a_readable_reason(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    robot_settings: Settings,
    fake: FakeRobots,
) -> None:
    school = make_school(session)
    _group(session, clock, school, WECOM_ROBOT, "removed-robot-key")
    cook = make_person(session, clock, school, Role.CANTEEN_STAFF, "cook", "13800000000")
    notify(
        session,
        [cook],
        message="hello",
        params={},
        severity=Severity.INFO,
        dedup_key="k",
        now=clock.now(),
    )
    session.commit()

    assert _sender(WECOM_ROBOT, robot_settings, session_factory, clock).drain() == 0

    [post] = _posts(session)
    assert post.outcome == "failed"
    assert post.reason is not None and "93000" in post.reason and "key is wrong" in post.reason
    assert fake.received == []


@pytest.mark.parametrize("channel", [WECOM_ROBOT, DINGTALK_ROBOT])
def test_a_long_notice_arrives_in_pieces_within_the_limit_with_the_link(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    robot_settings: Settings,
    fake: FakeRobots,
    channel: str,
) -> None:
    school = make_school(session)
    address, secret = (
        ("wecom-key-1234", None) if channel == WECOM_ROBOT else ("ding-token-5678", "SECret+/=")
    )
    _group(session, clock, school, channel, address, secret)
    cook = make_person(session, clock, school, Role.CANTEEN_STAFF, "cook", "13800000000")
    lines = [f"第{i:03d}行：灭火器压力不足，请检查。" for i in range(480)]
    text = "\n".join(lines)
    assert len(text) > 9000
    notify(
        session,
        [cook],
        message="%(text)s",
        params={"text": text},
        severity=Severity.INFO,
        dedup_key="long",
        now=clock.now(),
        link="/actions/9",
    )
    session.commit()

    assert _sender(channel, robot_settings, session_factory, clock).drain() == 1

    link = "http://houqin.test/actions/9"
    # A markdown piece read as its text: its hard line breaks, and its link under it.
    pieces = [
        piece.replace("  \n", "\n").replace(f"[在后勤系统中打开]({link})", link)
        for piece in fake.texts(address)
    ]
    assert len(pieces) > 1
    assert all(piece.endswith(link) or piece.split("\n@")[0].endswith(link) for piece in pieces)
    body = "\n".join(piece.split("\n@")[0].removesuffix("\n" + link) for piece in pieces)
    assert body == text
    [post] = _posts(session)
    assert post.outcome == "sent" and post.pieces_sent == len(pieces) - 1


def test_dingtalk_checks_the_signature(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    robot_settings: Settings,
    fake: FakeRobots,
) -> None:
    school = make_school(session)
    _group(session, clock, school, DINGTALK_ROBOT, "ding-token-5678", "a-wrong-secret")
    cook = make_person(session, clock, school, Role.CANTEEN_STAFF, "cook", "13800000000")
    notify(
        session,
        [cook],
        message="hello",
        params={},
        severity=Severity.INFO,
        dedup_key="k",
        now=clock.now(),
    )
    session.commit()

    assert _sender(DINGTALK_ROBOT, robot_settings, session_factory, clock).drain() == 0

    [post] = _posts(session)
    assert post.outcome == "failed"
    assert post.reason is not None and "310000" in post.reason and "signing secret" in post.reason
    assert fake.received == []


def test_a_post_waiting_for_a_retry_holds_the_groups_newer_ones(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    robot_settings: Settings,
    fake: FakeRobots,
) -> None:
    school = make_school(session)
    _group(session, clock, school, WECOM_ROBOT, "wecom-key-1234")
    cook = make_person(session, clock, school, Role.CANTEEN_STAFF, "cook", "13800000000")
    _notices(session, clock, cook, ["n0", "n1", "n2"])
    session.commit()
    down = _sender(WECOM_ROBOT, robot_settings, session_factory, clock)
    down.url = lambda post: "http://127.0.0.1:9/cgi-bin/webhook/send"

    assert down.drain() == 0
    assert fake.received == []
    clock.advance(timedelta(minutes=1))
    assert _sender(WECOM_ROBOT, robot_settings, session_factory, clock).drain() == 3

    assert fake.texts("wecom-key-1234") == ["n0", "n1", "n2"]


@pytest.mark.parametrize("channel", [WECOM_ROBOT, DINGTALK_ROBOT])
def test_a_post_is_markdown_whose_link_opens_houqin_and_what_people_wrote_stays_text(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    robot_settings: Settings,
    fake: FakeRobots,
    channel: str,
) -> None:
    school = make_school(session)
    address, secret = (
        ("wecom-key-1234", None) if channel == WECOM_ROBOT else ("ding-token-5678", "SECret+/=")
    )
    _group(session, clock, school, channel, address, secret)
    # Without a mobile, a cook cannot be @-mentioned: WeCom may use markdown too.
    cook = make_person(session, clock, school, Role.CANTEEN_STAFF, "cook")
    notify(
        session,
        [cook],
        message="Reported without an account: %(text)s",
        params={"text": "冰箱坏了 [点此领奖](http://evil.example) **急**"},
        severity=Severity.MAJOR,
        dedup_key="public:1",
        now=clock.now(),
        link="/actions/7",
    )
    session.commit()

    assert _sender(channel, robot_settings, session_factory, clock).drain() == 1

    [received] = fake.received
    assert received.body["msgtype"] == "markdown"
    words = fake.texts(address)[0]
    assert words.endswith("[在后勤系统中打开](http://houqin.test/actions/7)")
    assert "冰箱坏了 ［点此领奖］（http://evil.example） ＊＊急＊＊" in words
    assert "](http://evil.example)" not in words
    if channel == DINGTALK_ROBOT:
        assert received.body["markdown"]["title"] == "Reported without an account: 冰"


def test_a_busy_groups_queue_does_not_hold_back_another_groups_post(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    robot_settings: Settings,
    fake: FakeRobots,
) -> None:
    school = make_school(session)
    fake.wecom_keys.add("wecom-key-dorm")
    _group(session, clock, school, WECOM_ROBOT, "wecom-key-1234")
    add_group(
        session,
        session.scalars(select(Person).where(Person.username == "district")).one(),
        channel=WECOM_ROBOT,
        district=school.district,
        school=school,
        role=Role.DORM_STAFF,
        label="Dormitory group",
        address="wecom-key-dorm",
        signing_secret=None,
        min_severity="info",
        now=clock.now(),
    )
    cook = make_person(session, clock, school, Role.CANTEEN_STAFF, "cook")
    warden = make_person(session, clock, school, Role.DORM_STAFF, "warden")
    _notices(session, clock, cook, [f"cook {i}" for i in range(6)])
    _notices(session, clock, warden, ["warden 0"])
    session.commit()

    assert _sender(WECOM_ROBOT, robot_settings, session_factory, clock).drain() == 7

    # The dormitory's one post went second, not after the canteen's six (a minute's wait at
    # the real limit); each group's own posts arrived in order.
    assert [r.robot for r in fake.received][:2] == ["wecom-key-1234", "wecom-key-dorm"]
    assert fake.texts("wecom-key-1234") == [f"cook {i}" for i in range(6)]
    assert fake.breaches == 0


def test_a_killed_senders_posts_wait_for_its_lease_then_another_sends_each_once(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    robot_settings: Settings,
    fake: FakeRobots,
) -> None:
    school = make_school(session)
    _group(session, clock, school, WECOM_ROBOT, "wecom-key-1234")
    cook = make_person(session, clock, school, Role.CANTEEN_STAFF, "cook")
    _notices(session, clock, cook, ["n0", "n1", "n2"])
    session.commit()
    killed = _sender(WECOM_ROBOT, robot_settings, session_factory, clock)
    with session_factory() as claiming:  # it claimed all three, then died before posting
        claim_posts(
            claiming,
            WECOM_ROBOT,
            sender=killed.sender_id,
            now=clock.now(),
            lease=killed.lease,
        )
        claiming.commit()
    first, second = (_sender(WECOM_ROBOT, robot_settings, session_factory, clock) for _ in "12")

    assert first.drain() + second.drain() == 0 and fake.received == []
    clock.advance(killed.lease + timedelta(seconds=1))
    assert second.drain() + first.drain() == 3
    assert fake.texts("wecom-key-1234") == ["n0", "n1", "n2"]
