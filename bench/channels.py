"""Times the senders beside Telegram's: a burst of notices drained by the real sender against
its fake on 127.0.0.1, compared with the floor the service's documented limit sets.

Four channels, each from a database of its own (SQLite, in a temporary folder):
- WeCom application messages (channels/wecom/sender.py against tests/fake_wecom.py): 30 a
  minute per member. The sender sends a member's minute in a burst and keeps the rest for a
  later drain, so the benchmark drains again every `[channels] send_every_seconds` (scaled),
  as `houqin send` does.
- The WeCom group robot and the DingTalk robot (channels/group_robot.py against
  tests/fake_robots.py): 20 a minute per group; the sender spaces each group's posts evenly,
  5% under the limit (channels.group_robot.SAFETY), so 1.05 is the best ratio it can reach.
- E-mail (channels/email/sender.py against aiosmtpd): no limit is documented, so the floor is
  what the same number of messages takes when smtplib alone sends them to the same server
  over one connection, measured first; the ratio is then the sender's own cost per message
  (composing it, claiming and marking it in the database).

A limited channel's limit is scaled by one factor on the fake and on the sender alike (its
minute lasts 60 / factor seconds), chosen so each burst lasts about 15 s; the recipients are
few enough that the scaled limits ask for about 50 messages a second, half of what a sender
(one message at a time, the fake in this process) manages here, so the pacing is what is
timed. The floor is what the limit allows at best at its rate: each recipient's messages /
its rate, the slowest recipient's (`<channel>_rate_floor_s`). A rolling window of k lets a
recipient's first k go at once, so n need only (ceil(n / k) - 1) windows, which a sender that
sends a minute's messages at once (WeCom's) can approach: where the limit is such a window,
that is `<channel>_floor_s`, and `_ratio_to_floor` is against it. The robots space each
group's posts evenly instead, so their ratio stays above the burst floor's.

Afterwards it checks what arrived: every notice exactly once (`_lost`, `_doubled`), in the
order it was queued per recipient (`_out_of_order`: recipients whose notices did not), and
the fake's count of answers that the limit was passed (`_breaches`).
"""

from __future__ import annotations

import email
import math
import smtplib
import socket
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SMTPSession
from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from channels import dingtalk_robot, wecom_robot
from channels.email import CHANNEL as EMAIL
from channels.email.sender import EmailSender, compose
from channels.group_robot import SAFETY as ROBOT_SAFETY
from channels.wecom import CHANNEL as WECOM
from channels.wecom.sender import RateLimits, TokenCache, WeComSender
from models import Base
from models.addresses import ChannelAccount
from models.clock import SystemClock
from models.db import make_engine, make_session_factory
from models.notifications import Delivery, Notification
from models.org import District
from models.outbox import Outgoing
from models.people import Person
from models.robot_groups import DINGTALK_ROBOT, WECOM_ROBOT, ChannelGroup, GroupPost
from settings import ChannelSettings, EmailSettings, Settings, WeComSettings
from tests.fake_robots import PER_MINUTE as ROBOT_PER_MINUTE
from tests.fake_robots import FakeRobots, content
from tests.fake_wecom import FakeWeCom

WECOM_USERS = 5
WECOM_PER_USER = 150
WECOM_FACTOR = 20.0  # a member's minute lasts 3 s: the floor 15 s (12 s in bursts)
ROBOT_GROUPS = 5
ROBOT_PER_GROUP = 140
ROBOT_FACTOR = 30.0  # a group's minute lasts 2 s: the floor 14 s (12 s in bursts)
EMAIL_RECIPIENTS = 20
EMAIL_PER_RECIPIENT = 50
EMAIL_PROBE = 500  # messages smtplib sends straight to the server to measure its rate
GIVE_UP_AFTER = 3.0  # a drain loop stops at this many times its floor (plus 10 s)
TEXT = "Bench notice {number}"


@dataclass
class Burst:
    """What one channel's burst took and what arrived, per recipient in arrival order."""

    seconds: float
    floor: float
    burst_floor: float | None  # where the limit is a rolling window
    expected: dict[str, list[str]]
    received: dict[str, list[str]]
    breaches: int
    extra: list[str] = field(default_factory=list)


def window_floor(per_recipient: int, per_window: int, window: float) -> float:
    """The least time a rolling window of `per_window` messages lets `per_recipient` take:
    the first window's go at once."""
    return (math.ceil(per_recipient / per_window) - 1) * window


def figures(channel: str, burst: Burst) -> list[str]:
    expected_total = sum(map(len, burst.expected.values()))
    lost = doubled = out_of_order = 0
    for recipient, texts in burst.expected.items():
        got = burst.received.get(recipient, [])
        counts = Counter(got)
        lost += sum(1 for text in texts if counts[text] == 0)
        doubled += sum(count - 1 for count in counts.values() if count > 1)
        if got != texts:
            out_of_order += 1
    strangers = sum(len(got) for r, got in burst.received.items() if r not in burst.expected)
    best = burst.burst_floor or burst.floor
    return [
        f"{channel}_messages: {expected_total}",
        f"{channel}_recipients: {len(burst.expected)}",
        *burst.extra,
        f"{channel}_burst_s: {burst.seconds:.2f}",
        # The least time the limit allows, so the ratio is never below 1 for a sender that
        # keeps it: a rolling window's burst where there is one, else the steady rate's.
        f"{channel}_floor_s: {best:.2f}",
        f"{channel}_ratio_to_floor: {burst.seconds / best:.2f}",
        *([f"{channel}_rate_floor_s: {burst.floor:.2f}"] if burst.burst_floor else []),
        f"{channel}_lost: {lost}",
        f"{channel}_doubled: {doubled + strangers}",
        f"{channel}_out_of_order: {out_of_order}",
        f"{channel}_breaches: {burst.breaches}",
    ]


@contextmanager
def database(root: Path | None) -> Iterator[sessionmaker[Session]]:
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'channel.db'}")
        try:
            Base.metadata.create_all(engine)
            yield make_session_factory(engine)
        finally:
            engine.dispose()


def _texts(count: int) -> list[str]:
    return [TEXT.format(number=n) for n in range(count)]


def queue_deliveries(
    factory: sessionmaker[Session], channel: str, addresses: list[str], per_recipient: int
) -> dict[str, list[str]]:
    """One person per address, `per_recipient` notices each, queued round by round so
    consecutive deliveries go to different people; the texts each should get, in order."""
    now = datetime.now(UTC)
    with factory() as session:
        session.execute(
            insert(Person),
            [
                {
                    "id": p + 1,
                    "username": f"bench{p:04}",
                    "display_name": f"Bench {p}",
                    "password_hash": "!",
                    "locale": "zh_CN",
                    "created_at": now,
                }
                for p in range(len(addresses))
            ],
        )
        session.execute(
            insert(ChannelAccount),
            [
                {"person_id": p + 1, "channel": channel, "address": address, "linked_at": now}
                for p, address in enumerate(addresses)
            ],
        )
        notices, deliveries = [], []
        for n, text in enumerate(_texts(per_recipient)):
            for p in range(len(addresses)):
                number = n * len(addresses) + p + 1
                notices.append(
                    {
                        "id": number,
                        "recipient_id": p + 1,
                        "severity": "info",
                        "message": text,
                        "params": {},
                        "text": text,
                        "dedup_key": f"bench:{n}",
                        "created_at": now,
                        "task_ids": [],
                    }
                )
                deliveries.append({"id": number, "notification_id": number, "channel": channel})
        session.execute(insert(Notification), notices)
        session.execute(insert(Delivery), deliveries)
        session.commit()
    return {address: _texts(per_recipient) for address in addresses}


def queue_posts(
    factory: sessionmaker[Session], channel: str, groups: dict[str, str | None], per_group: int
) -> dict[str, list[str]]:
    """One robot group per address (with its signing secret, for DingTalk), `per_group`
    posts each, queued round by round; the texts each group should get, in order."""
    now = datetime.now(UTC)
    with factory() as session:
        session.execute(insert(District), [{"id": 1, "code": "bench", "name": "Bench"}])
        session.execute(
            insert(ChannelGroup),
            [
                {
                    "id": g + 1,
                    "district_id": 1,
                    "channel": channel,
                    "label": f"Group {g}",
                    "address": address,
                    "signing_secret": secret,
                    "created_at": now,
                }
                for g, (address, secret) in enumerate(groups.items())
            ],
        )
        session.execute(
            insert(GroupPost),
            [
                {
                    "group_id": g + 1,
                    "dedup_key": f"bench:{n}",
                    "text": text,
                    "severity": "info",
                    "mentions": [],
                    "created_at": now,
                }
                for n, text in enumerate(_texts(per_group))
                for g in range(len(groups))
            ],
        )
        session.commit()
    return {address: _texts(per_group) for address in groups}


def drain_until(drain: Callable[[], int], total: int, pause: float, give_up: float) -> float:
    """Drain, pausing between drains as `houqin send` does, until `total` were delivered or
    `give_up` seconds passed; the seconds it took."""
    start = time.perf_counter()
    delivered = 0
    while True:
        delivered += drain()
        if delivered >= total or time.perf_counter() - start > give_up:
            return time.perf_counter() - start
        time.sleep(pause)


# --- WeCom application messages -----------------------------------------------------------------


def wecom_app(root: Path | None) -> Burst:
    users = [f"user{u:03}" for u in range(WECOM_USERS)]
    limits = RateLimits(factor=WECOM_FACTOR)
    floor = WECOM_PER_USER / limits.per_user_per_minute * limits.window
    burst_floor = window_floor(WECOM_PER_USER, limits.per_user_per_minute, limits.window)
    fake = FakeWeCom(users=set(users), factor=WECOM_FACTOR).start()
    try:
        with database(root) as factory:
            expected = queue_deliveries(factory, WECOM, users, WECOM_PER_USER)
            settings = WeComSettings(
                base_url=fake.base_url,
                corp_id=fake.corp_id,
                agent_id=fake.agent_id,
                secret=fake.secret,
            )
            TokenCache.forget()
            sender = WeComSender(settings, factory, SystemClock(), limits)
            pause = ChannelSettings().send_every_seconds / WECOM_FACTOR
            seconds = drain_until(
                sender.drain, WECOM_USERS * WECOM_PER_USER, pause, floor * GIVE_UP_AFTER + 10
            )
        received: dict[str, list[str]] = defaultdict(list)
        for message in fake.messages:
            received[message.user].append(message.content)
        breaches = sum(code in (45009, 45033) for code in fake.refusals)
    finally:
        fake.stop()
    return Burst(
        seconds,
        floor,
        burst_floor,
        expected,
        dict(received),
        breaches,
        [f"wecom_limit_factor: {WECOM_FACTOR:g} (a member's minute lasts {limits.window:g} s)"],
    )


# --- the group robots ---------------------------------------------------------------------------


def robot(root: Path | None, channel: str) -> Burst:
    window = 60.0 / ROBOT_FACTOR
    floor = ROBOT_PER_GROUP / ROBOT_PER_MINUTE * window
    burst_floor = window_floor(ROBOT_PER_GROUP, ROBOT_PER_MINUTE, window)
    fake = FakeRobots(factor=ROBOT_FACTOR)
    if channel == WECOM_ROBOT:
        groups: dict[str, str | None] = {f"wecom-key-{g:03}": None for g in range(ROBOT_GROUPS)}
        fake.wecom_keys.update(groups)
    else:
        groups = {f"ding-token-{g:03}": f"SEC{g:03}" for g in range(ROBOT_GROUPS)}
        fake.dingtalk_secrets.update({token: str(secret) for token, secret in groups.items()})
    base_url = fake.start()
    try:
        with database(root) as factory:
            expected = queue_posts(factory, channel, groups, ROBOT_PER_GROUP)
            settings = Settings()
            settings.wecom.base_url = base_url
            settings.dingtalk.base_url = base_url
            module = wecom_robot if channel == WECOM_ROBOT else dingtalk_robot
            sender = module.sender(settings, factory, SystemClock(), factor=ROBOT_FACTOR)
            pause = settings.channels.send_every_seconds / ROBOT_FACTOR
            seconds = drain_until(
                sender.drain, ROBOT_GROUPS * ROBOT_PER_GROUP, pause, floor * GIVE_UP_AFTER + 10
            )
        received: dict[str, list[str]] = defaultdict(list)
        for post in fake.received:
            received[post.robot].append(content(post.body).split("\n", 1)[0])
    finally:
        fake.stop()
    return Burst(
        seconds,
        floor,
        burst_floor,
        expected,
        dict(received),
        fake.breaches,
        [
            f"{channel}_limit_factor: {ROBOT_FACTOR:g} (a group's minute lasts {window:g} s; "
            f"the sender keeps {1 - ROBOT_SAFETY:.0%} under the limit)"
        ],
    )


# --- e-mail -------------------------------------------------------------------------------------


class Mailbox:
    """Keeps each message's recipients and subject, in the order they arrive."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str]] = []

    async def handle_DATA(self, server: SMTP, session: SMTPSession, envelope: Envelope) -> str:
        message = email.message_from_bytes(envelope.content)  # type: ignore[arg-type]
        for recipient in envelope.rcpt_tos:
            self.received.append((recipient, str(message["Subject"])))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def smtp_rate(port: int, messages: int) -> float:
    """Messages a second smtplib sends to the server over one connection, no database."""
    items = [
        Outgoing(delivery_id=n, address=f"probe{n % 10}@bench.example", text=f"probe {n}")
        for n in range(messages)
    ]
    composed = [compose(item, "houqin@bench.example", "") for item in items]
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.ehlo()
        smtp.send_message(composed[0])
        start = time.perf_counter()
        for message in composed[1:]:
            smtp.send_message(message)
        return (messages - 1) / (time.perf_counter() - start)


def email_burst(root: Path | None) -> Burst:
    mailbox = Mailbox()
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        rate = smtp_rate(port, EMAIL_PROBE)
        mailbox.received.clear()
        addresses = [f"staff{r:03}@bench.example" for r in range(EMAIL_RECIPIENTS)]
        total = EMAIL_RECIPIENTS * EMAIL_PER_RECIPIENT
        floor = total / rate
        with database(root) as factory:
            expected = queue_deliveries(factory, EMAIL, addresses, EMAIL_PER_RECIPIENT)
            settings = EmailSettings(
                host="127.0.0.1", port=port, starttls=False, sender="houqin@bench.example"
            )
            sender = EmailSender(settings, factory, SystemClock())
            seconds = drain_until(sender.drain, total, 0.0, floor * GIVE_UP_AFTER + 10)
        received: dict[str, list[str]] = defaultdict(list)
        for recipient, subject in mailbox.received:
            received[recipient].append(subject)
    finally:
        controller.stop()
    return Burst(
        seconds,
        floor,
        None,
        expected,
        dict(received),
        0,
        [f"email_smtp_unlimited_per_s: {rate:.0f} (smtplib alone, one connection; no limit)"],
    )


def run(root: Path | None = None) -> Iterator[list[str]]:
    """Each channel's figures, as soon as its burst is drained."""
    yield figures("wecom", wecom_app(root))
    yield figures(WECOM_ROBOT, robot(root, WECOM_ROBOT))
    yield figures(DINGTALK_ROBOT, robot(root, DINGTALK_ROBOT))
    yield figures("email", email_burst(root))


if __name__ == "__main__":
    for lines in run():
        print("\n".join(lines), flush=True)
