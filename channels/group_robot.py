"""What WeCom's and DingTalk's group robots share: claim posts, pace them per group, split
long texts into pieces, record each piece as it is accepted, mark sent or failed.

A robot takes about 20 messages a minute; each group's posts go one after another, an
interval apart, oldest first. A "too fast" answer waits and retries with growing waits; a bad
key or a refused message fails the post for good, with the service's reason; a network error
or one that keeps coming leaves the post for a later drain, the group's newer posts behind it.
"""

from __future__ import annotations

import itertools
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from channels.pacing import RecipientPacing
from models.clock import Clock
from models.robot_groups import (
    OutgoingPost,
    claim_posts,
    mark_post_failed,
    mark_post_sent,
    record_piece,
    release_posts,
)
from models.unit_of_work import unit_of_work

log = logging.getLogger(__name__)

SAFETY = 0.95


@dataclass(frozen=True)
class Answer:
    """What the service said to one piece: accepted, wait and retry, or refused for good."""

    kind: str  # "ok", "retry", "fail"
    reason: str = ""


def split_pieces(text: str, limit: int, measure: Callable[[str], int], suffix: str) -> list[str]:
    """Pieces within `limit` (as `measure` counts), cut at line breaks where there are any;
    every piece ends with `suffix` (the link to the whole notice), a short text's one too."""
    if measure(text + suffix) <= limit:
        return [text + suffix]
    budget = limit - measure(suffix)
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        if measure(current + line) > budget and current:
            pieces.append(current)
            current = ""
        while measure(line) > budget:  # a line too long for a piece: cut it where it fits
            cut = _longest_fit(line, budget, measure)
            pieces.append(line[:cut])
            line = line[cut:]
        current += line
    if current:
        pieces.append(current)
    return [piece.rstrip("\n") + suffix for piece in pieces if piece]


def _longest_fit(line: str, budget: int, measure: Callable[[str], int]) -> int:
    """How many characters of `line` fit in `budget`, found by halving."""
    low, high = 1, len(line)
    while low < high:
        middle = (low + high + 1) // 2
        if measure(line[:middle]) <= budget:
            low = middle
        else:
            high = middle - 1
    return low


@dataclass
class RobotSender:
    """Drains one robot channel's posts; `payload` and `answer` are the service's own."""

    channel: str
    url: Callable[[OutgoingPost], str]
    payload: Callable[[OutgoingPost, str, bool], dict[str, Any]]
    answer: Callable[[dict[str, Any]], Answer]
    limit: int
    measure: Callable[[str], int]
    factory: sessionmaker[Session]
    clock: Clock
    base_url: str = ""
    per_minute: float = 20.0
    factor: float = 1.0
    lease: timedelta = timedelta(seconds=120)
    max_tries: int = 5
    first_backoff: float = 1.0
    batch: int = 20
    client: httpx.Client | None = None
    sleep: Callable[[float], object] = time.sleep
    sender_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    _pacing: RecipientPacing[int] = field(init=False)

    def __post_init__(self) -> None:
        """Each group's posts an interval apart: one post per interval, a rolling window."""
        self._pacing = RecipientPacing(1, self.interval)

    @property
    def name(self) -> str:
        return self.channel

    @property
    def interval(self) -> float:
        return 60.0 / (self.per_minute * self.factor * SAFETY)

    def drain(self) -> int:
        """Send every post that may go now; returns how many were sent."""
        client = self.client or httpx.Client(timeout=10.0)
        sent = 0
        held: set[int] = set()
        try:
            while True:
                with unit_of_work(self.factory) as session:
                    posts = claim_posts(
                        session,
                        self.channel,
                        sender=self.sender_id,
                        now=self.clock.now(),
                        lease=self.lease,
                        limit=self.batch,
                    )
                queues: dict[int, deque[OutgoingPost]] = {}
                turns: dict[int, int] = {}  # when each group was last posted to, in turns
                turn = itertools.count()
                for post in posts:
                    if post.group_id not in held:
                        queues.setdefault(post.group_id, deque()).append(post)
                if not queues:
                    return sent
                while queues:
                    # The group that may be posted to soonest, and of those ready the one
                    # posted to longest ago, so one busy group's posts never keep the others
                    # waiting; each group's own posts stay in order.
                    group_id = min(queues, key=lambda g: (self._pacing.wait(g), turns.get(g, -1)))
                    turns[group_id] = next(turn)
                    post = queues[group_id].popleft()
                    outcome = self._send(client, post)
                    if outcome is None:
                        held.add(group_id)
                        later = [p.post_id for p in queues[group_id]]
                        self._write(release_posts, later, self.sender_id)
                        queues[group_id].clear()
                    if not queues[group_id]:
                        del queues[group_id]
                    sent += outcome or 0
        finally:
            if self.client is None:
                client.close()

    def _write(self, work: Callable[..., object], *args: Any, **kwargs: Any) -> None:
        """One short transaction for one outcome: what was sent is recorded at once."""
        with unit_of_work(self.factory) as session:
            work(session, *args, **kwargs)

    def _pace(self, group_id: int) -> None:
        wait = self._pacing.wait(group_id)
        if wait > 0:
            self.sleep(wait)

    def _send(self, client: httpx.Client, post: OutgoingPost) -> int | None:
        """1 when sent, 0 when failed for good, None when it must wait for a later drain."""
        suffix = f"\n{self.base_url.rstrip('/')}{post.link}" if post.link else ""
        pieces = split_pieces(post.text, self.limit, self.measure, suffix)
        done = post.pieces_sent
        backoff = self.first_backoff
        tries = 0
        external_id = ""
        while done < len(pieces):
            if tries == self.max_tries:
                self._later(post, backoff, "rate limited: trying again later")
                return None
            tries += 1
            self._pace(post.group_id)
            try:
                response = client.post(
                    self.url(post), json=self.payload(post, pieces[done], done == 0)
                )
                body = response.json()
            except (httpx.HTTPError, ValueError) as failed:
                self._pacing.sent(post.group_id)
                log.info("post %d to group %d: %s", post.post_id, post.group_id, failed)
                self._later(post, backoff, f"service unreachable: {failed}")
                return None
            self._pacing.sent(post.group_id)
            answer = self.answer(body)
            if answer.kind == "retry":
                self.sleep(backoff)
                backoff = min(backoff * 2, 60.0)
                continue
            if answer.kind == "fail":
                log.warning(
                    "post %d to group %d refused: %s", post.post_id, post.group_id, answer.reason
                )
                now = self.clock.now()
                self._write(
                    mark_post_failed, post.post_id, now=now, retry_at=None, reason=answer.reason
                )
                return 0
            done += 1
            tries = 0
            external_id = str(body.get("msgid") or body.get("errmsg") or "ok")
            if done < len(pieces):
                self._write(record_piece, post.post_id, self.sender_id, done)
        now = self.clock.now()
        self._write(mark_post_sent, post.post_id, self.sender_id, external_id, now=now)
        return 1

    def _later(self, post: OutgoingPost, backoff: float, reason: str) -> None:
        retry_at = self.clock.now() + timedelta(seconds=max(backoff, 1.0))
        now = self.clock.now()
        self._write(mark_post_failed, post.post_id, now=now, retry_at=retry_at, reason=reason)
