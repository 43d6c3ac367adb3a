"""Times the Telegram outbox: 10,000 queued notices to 500 chats, drained against the fake
Bot API (tests/fake_telegram.py) over real HTTP, compared with the floor Telegram's limits set.

The fake server runs in a process of its own, so it never shares the GIL with the sender. Its
unlimited rate is measured first: sendMessage through python-telegram-bot over the sender's 16
connections, limits off (the CPU each side spends per call is printed too; the bot side is the
dearer one). Every limit, the fake's and the sender's alike, is then scaled by one factor, the
largest (in halves, at most 10) that keeps the scaled overall limit under 60% of that rate, so
neither the fake nor the HTTP client is the bottleneck; on a small machine that is about 6, and
the drain takes about a minute. The floor is what the scaled limits allow at best:
max(messages / overall rate, messages per chat / per-chat rate); the sender keeps 5% under the
limits (channels.telegram.pacing.SAFETY), so 1.05 is the best ratio it can reach. Memory is
sampled every half second while draining; it should stay flat, as the sender reads the outbox
in batches.

Afterwards it checks what happened: every delivery row sent with a message id, exactly 10,000
messages received, in order in each chat, and not one 429.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import resource
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from channels.telegram import CHANNEL
from channels.telegram.pacing import Pacing, RateLimits
from channels.telegram.sender import CONNECTIONS, OutboxSender
from models import Base
from models.addresses import ChannelAccount
from models.catalogue import render_notice
from models.clock import SystemClock
from models.db import make_engine, make_session_factory
from models.notifications import Delivery, Notification
from models.people import Person

CHATS = 500
PER_CHAT = 20
MESSAGES = CHATS * PER_CHAT
FIRST_CHAT = 100_000
PROBE_CALLS = 2_000  # sendMessage calls that measure the fake's unlimited rate
HEADROOM = 0.6  # the scaled overall limit stays under this share of the fake's unlimited rate
MAX_FACTOR = 10  # 300 messages a second: the floor is 33 s
SAMPLE_EVERY = 0.5
MESSAGE = "Due soon: %(tasks)s"
BASE = RateLimits()


# --- the fake server, in its own process --------------------------------------------------------


def _serve(conn: Connection, factor: float, enforce: bool) -> None:
    """Serve a FakeTelegram until told to stop; answer questions about what it received."""
    from tests.fake_telegram import FakeTelegram, Limits

    fake = FakeTelegram(limits=Limits().scaled(factor), enforce_limits=enforce).start()
    conn.send((fake.token, fake.base_url, fake.base_file_url))
    while True:
        command = conn.recv()
        if command == "cpu":
            conn.send(time.process_time())
        elif command == "report":
            texts: dict[int, list[str]] = defaultdict(list)
            with fake._lock:
                for sent in fake.sent:
                    texts[sent.chat_id].append(sent.text)
                statuses = Counter(status for _, status, _ in fake.refused)
            conn.send(
                {
                    "sent": sum(map(len, texts.values())),
                    "texts": dict(texts),
                    "cpu": time.process_time(),
                    **statuses,
                }
            )
        else:
            fake.stop()
            conn.send("stopped")
            return


@dataclass
class FakeProcess:
    """A FakeTelegram in a spawned process of its own; `with` starts and stops it."""

    factor: float = 1.0
    enforce: bool = True
    token: str = ""
    base_url: str = ""
    base_file_url: str = ""
    _process: Any = field(default=None, repr=False)
    _conn: Any = field(default=None, repr=False)

    def __enter__(self) -> FakeProcess:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child, self.factor, self.enforce), daemon=True
        )
        self._process.start()
        child.close()
        self.token, self.base_url, self.base_file_url = self._conn.recv()
        return self

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far, all its threads together."""
        self._conn.send("cpu")
        return self._conn.recv()

    def report(self) -> dict[str, Any]:
        self._conn.send("report")
        return self._conn.recv()

    def __exit__(self, *exc: object) -> None:
        try:
            self._conn.send("stop")
            self._conn.recv()
        finally:
            self._process.join(10)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()

    def bot(self, limits: RateLimits | None = None) -> Bot:
        """A bot paced as the real one is (every call through one Pacing), or unpaced."""
        return ExtBot(
            self.token,
            base_url=self.base_url,
            base_file_url=self.base_file_url,
            request=HTTPXRequest(connection_pool_size=CONNECTIONS),
            rate_limiter=Pacing(limits) if limits is not None else None,
        )


# --- the fake's own rate ------------------------------------------------------------------------


@dataclass
class Probe:
    calls_per_s: float  # end to end, limits off
    server_cpu_ms: float  # the fake's CPU per call, all its threads
    client_cpu_ms: float  # python-telegram-bot's and httpx's CPU per call, in this process


def unlimited_rate(calls: int = PROBE_CALLS) -> Probe:
    """sendMessage calls a second that the fake answers with its limits off, sent from here
    through python-telegram-bot over CONNECTIONS connections, and what each side spent."""

    async def main(fake: FakeProcess) -> Probe:
        async with fake.bot() as bot:

            async def send(count: int) -> None:
                numbers = iter(range(count))

                async def worker() -> None:
                    for number in numbers:
                        await bot.send_message(FIRST_CHAT + number % CHATS, f"probe {number}")

                await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))

            await send(CONNECTIONS * 4)  # open the connections first
            server, client = fake.cpu_seconds(), time.process_time()
            start = time.perf_counter()
            await send(calls)
            seconds = time.perf_counter() - start
            return Probe(
                calls / seconds,
                (fake.cpu_seconds() - server) / calls * 1000,
                (time.process_time() - client) / calls * 1000,
            )

    with FakeProcess(enforce=False) as fake:
        return asyncio.run(main(fake))


def choose_factor(rate: float) -> float:
    """The largest whole factor whose overall limit stays under HEADROOM of the fake's
    unlimited rate; at most MAX_FACTOR, at least 1. Whole, because a per-chat limit of 6.5 a
    second counts as 6 in the fake's one-second window."""
    steps = math.floor(rate * HEADROOM / BASE.overall_per_second)
    return max(1.0, min(float(MAX_FACTOR), float(steps)))


def floor_seconds(factor: float) -> float:
    return max(
        MESSAGES / (BASE.overall_per_second * factor),
        PER_CHAT / (BASE.per_chat_per_second * factor),
    )


# --- the outbox ---------------------------------------------------------------------------------


def build_outbox(factory: sessionmaker[Session], now: datetime) -> None:
    """500 linked people, 20 reminders each, queued round by round so consecutive deliveries
    go to different chats. The reminders name no task: the sender skips a reminder whose
    tasks are all done or gone, and the bench builds no tasks (it skipped every one since)."""
    with factory() as session:
        session.execute(
            insert(Person),
            [
                {
                    "id": p + 1,
                    "username": f"staff{p:04}",
                    "display_name": f"Staff {p}",
                    "password_hash": "!",
                    "locale": "zh_CN",
                    "created_at": now,
                }
                for p in range(CHATS)
            ],
        )
        session.execute(
            insert(ChannelAccount),
            [
                {
                    "person_id": p + 1,
                    "channel": CHANNEL,
                    "address": str(FIRST_CHAT + p),
                    "linked_at": now,
                }
                for p in range(CHATS)
            ],
        )
        notices, deliveries = [], []
        for n in range(PER_CHAT):
            params = {"tasks": {"zh_CN": f"灭火器月度检查 第 {n} 条", "en": f"check {n}"}}
            text = render_notice(MESSAGE, params, "zh_CN", "Asia/Shanghai")
            for p in range(CHATS):
                number = n * CHATS + p + 1
                notices.append(
                    {
                        "id": number,
                        "recipient_id": p + 1,
                        "severity": "info",
                        "message": MESSAGE,
                        "params": params,
                        "text": text,
                        "dedup_key": f"bench:{n}",
                        "created_at": now,
                        "task_ids": [],
                    }
                )
                deliveries.append({"id": number, "notification_id": number, "channel": CHANNEL})
        session.execute(insert(Notification), notices)
        session.execute(insert(Delivery), deliveries)
        session.commit()


# --- memory -------------------------------------------------------------------------------------


def _status_kb(field_name: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    """Reset VmHWM (Linux: writing 5 to clear_refs), so the peak is the drain's own."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


class RssSampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[int] = [_status_kb("VmRSS")]
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(SAMPLE_EVERY):
            self.samples.append(_status_kb("VmRSS"))

    def stop(self) -> list[int]:
        self._done.set()
        self.join()
        self.samples.append(_status_kb("VmRSS"))
        return self.samples


# --- the run ------------------------------------------------------------------------------------


@dataclass
class Drain:
    delivered: int
    seconds: float
    rss_kb: list[int]
    peak_kb: int
    server_cpu: float  # seconds of CPU the fake used while the drain ran
    client_cpu: float  # and this process


def drain(fake: FakeProcess, factory: sessionmaker[Session], factor: float) -> Drain:
    """One OutboxSender.drain() of the whole outbox, timed, its memory sampled."""

    async def main() -> Drain:
        async with fake.bot(RateLimits(factor=factor)) as bot:
            sender = OutboxSender(bot, factory, SystemClock())
            reset = _reset_peak()
            sampler = RssSampler()
            server, client = fake.cpu_seconds(), time.process_time()
            sampler.start()
            start = time.perf_counter()
            delivered = await sender.drain()
            seconds = time.perf_counter() - start
            samples = sampler.stop()
            server, client = fake.cpu_seconds() - server, time.process_time() - client
        if reset:
            peak = max(_status_kb("VmHWM"), *samples)
        else:
            peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, *samples)
        return Drain(delivered, seconds, samples, peak, server, client)

    return asyncio.run(main())


def _check_rows(factory: sessionmaker[Session]) -> int:
    """Delivery rows not marked sent with Telegram's message id."""
    with factory() as session:
        return session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(
                or_(
                    Delivery.sent_at.is_(None),
                    Delivery.external_id.is_(None),
                    Delivery.outcome != "sent",
                )
            )
        )


def _chats_in_order(texts: dict[int, list[str]]) -> int:
    """Chats that received exactly their 20 reminders, in the order they were queued."""
    expected = [
        render_notice(
            MESSAGE,
            {"tasks": {"zh_CN": f"灭火器月度检查 第 {n} 条", "en": ""}},
            "zh_CN",
            "Asia/Shanghai",
        )
        for n in range(PER_CHAT)
    ]
    return sum(texts.get(FIRST_CHAT + p) == expected for p in range(CHATS))


def _spin(stop: Any) -> None:
    """Burn one core until told to stop: another program busy on the machine."""
    while not stop.is_set():
        sum(range(10_000))


@contextmanager
def busy_machine(processes: int) -> Iterator[None]:
    """Every core kept busy by other processes while the block runs."""
    stop = multiprocessing.Event()
    spinners = [multiprocessing.Process(target=_spin, args=(stop,)) for _ in range(processes)]
    for spinner in spinners:
        spinner.start()
    try:
        yield
    finally:
        stop.set()
        for spinner in spinners:
            spinner.join()


@dataclass
class Outcome:
    result: Drain
    report: dict[Any, Any]
    unsent: int


def measure(root: Path | None, factor: float, busy: int = 0) -> Outcome:
    """One outbox built and drained against a fresh fake, with `busy` spinning processes."""
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'outbox.db'}")
        try:
            Base.metadata.create_all(engine)
            factory = make_session_factory(engine)
            build_outbox(factory, datetime.now(UTC))
            with FakeProcess(factor=factor) as fake:
                if busy:
                    with busy_machine(busy):
                        result = drain(fake, factory, factor)
                else:
                    result = drain(fake, factory, factor)
                report = fake.report()
            unsent = _check_rows(factory)
        finally:
            engine.dispose()
    return Outcome(result, report, unsent)


def run(root: Path | None = None, factor: float | None = None) -> list[str]:
    """Measure the fake, choose the factor (unless given), drain the outbox, check it; then
    again with two spinning processes per core, where a 429 would come from calls a busy
    machine sent late."""
    probe = unlimited_rate()
    if factor is None:
        factor = choose_factor(probe.calls_per_s)
    floor = floor_seconds(factor)
    quiet = measure(root, factor)
    spinners = 2 * (os.cpu_count() or 1)
    busy = measure(root, factor, busy=spinners)
    result, report, unsent = quiet.result, quiet.report, quiet.unsent
    overall = BASE.overall_per_second * factor
    start_kb, end_kb = result.rss_kb[0], result.rss_kb[-1]
    middle_kb = result.rss_kb[len(result.rss_kb) // 2]
    refusals = sum(count for status, count in report.items() if isinstance(status, int))
    busy_refusals = sum(count for status, count in busy.report.items() if isinstance(status, int))
    return [
        f"bot_delivery_messages: {MESSAGES}",
        f"bot_delivery_chats: {CHATS}",
        f"bot_delivery_limit_factor: {factor:g}",
        f"bot_fake_server_unlimited_calls_per_s: {probe.calls_per_s:.0f} "
        f"(CPU per call: fake {probe.server_cpu_ms:.2f} ms, bot side {probe.client_cpu_ms:.2f} ms)",
        f"bot_delivery_scaled_overall_per_s: {overall:g} "
        f"({overall / probe.calls_per_s:.0%} of the fake's unlimited rate)",
        f"bot_delivery_floor_s: {floor:.2f}",
        f"bot_delivery_wall_s: {result.seconds:.2f}",
        f"bot_delivery_ratio_to_floor: {result.seconds / floor:.2f}",
        f"bot_delivery_cpu_busy: fake {result.server_cpu / result.seconds:.0%}, "
        f"sender {result.client_cpu / result.seconds:.0%} (of one core, while draining)",
        f"bot_delivery_peak_rss_mb: {result.peak_kb / 1024:.1f}",
        f"bot_delivery_rss_growth_mb: {(end_kb - start_kb) / 1024:.1f} "
        f"(start {start_kb / 1024:.1f}, max {max(result.rss_kb) / 1024:.1f}, "
        f"end {end_kb / 1024:.1f}; second half {(end_kb - middle_kb) / 1024:+.1f}; "
        f"{len(result.rss_kb)} samples)",
        f"bot_delivery_429s: {report.get(429, 0)}",
        f"bot_delivery_other_refusals: {refusals - report.get(429, 0)}",
        f"bot_delivery_delivered: {result.delivered}",
        f"bot_delivery_fake_received: {report['sent']}",
        f"bot_delivery_rows_not_sent: {unsent}",
        f"bot_delivery_chats_in_order: {_chats_in_order(report['texts'])}",
        f"bot_delivery_busy_spinning_processes: {spinners}",
        f"bot_delivery_busy_wall_s: {busy.result.seconds:.2f}",
        f"bot_delivery_busy_ratio_to_floor: {busy.result.seconds / floor:.2f}",
        f"bot_delivery_busy_429s: {busy.report.get(429, 0)} (floor 0)",
        f"bot_delivery_busy_other_refusals: {busy_refusals - busy.report.get(429, 0)}",
        f"bot_delivery_busy_rows_not_sent: {busy.unsent}",
        f"bot_delivery_busy_chats_in_order: {_chats_in_order(busy.report['texts'])}",
    ]


if __name__ == "__main__":
    print("\n".join(run()))
