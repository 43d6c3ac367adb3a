"""The WeCom application-message sender: each notice once, in order per user, within limits.

The access token is fetched once and shared in the process until shortly before WeCom says
it expires; an answer that it is invalid (40014) or expired (42001) fetches a new one once.
WeCom lets an app send a member at most 30 messages a minute: a user at that pace keeps their
later notices for the next drain. A frequency limit (45009, 45033) is waited out with growing
waits; an unknown user (invaliduser, 81013) or a refused server address (60020) fails the
notice for good, with the reason in the log and on the delivery, for the reach page. A
service that cannot be reached stops the drain (channels.ServiceDown): nothing is marked,
so everything is sent later, once, in order.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from channels import ServiceDown, sender_id
from channels.pacing import RecipientPacing
from channels.wecom import CHANNEL
from models.catalogue import translate
from models.clock import Clock
from models.leases import release_rows
from models.messages import N_, Message
from models.notifications import Delivery
from models.outbox import (
    LEASE,
    Outgoing,
    claim_deliveries,
    mark_delivered,
    mark_failed,
    mark_piece_sent,
    skip_unaddressed,
)
from models.unit_of_work import unit_of_work
from settings import WeComSettings

log = logging.getLogger(__name__)

TEXT_LIMIT = 2048  # bytes of UTF-8, WeCom's limit for a text message's content
MAX_PIECES = 3
TOKEN_INVALID = (40014, 42001)
FREQUENCY_LIMITED = (45009, 45033)
USER_NOT_FOUND = 81013
IP_NOT_ALLOWED = 60020
# Why a notice did not reach its member, as an administrator reads it on the reach page.
UNKNOWN_USER = N_("WeCom has no member with the user id %(user)s: check it in the address book.")
SERVER_NOT_ALLOWED = N_(
    "WeCom does not accept messages from this server's IP address: add it to the app's "
    "trusted IPs (60020)."
)
REFUSED = N_("WeCom refused the message: %(code)s %(answer)s")
TOO_FAST = N_("WeCom kept answering that messages go too fast; it will be tried again.")


@dataclass(frozen=True)
class RateLimits:
    """WeCom's per-member limit, scaled by `factor` only where a test runs faster than life."""

    per_user_per_minute: int = 30
    factor: float = 1.0

    @property
    def window(self) -> float:
        return 60.0 / self.factor


def _cut(text: str, limit: int) -> int:
    """Where to cut `text` so the first part is at most `limit` bytes: after the last line
    break that fits, else at the last character that fits."""
    encoded = text.encode()
    if len(encoded) <= limit:
        return len(text)
    fitting = len(encoded[:limit].decode(errors="ignore"))
    newline = text.rfind("\n", 0, fitting) + 1
    return newline if newline > fitting // 2 else fitting


def split_bytes(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Pieces of at most `limit` bytes that join back into the text, cut at line breaks."""
    pieces = []
    while len(text.encode()) > limit:
        cut = _cut(text, limit)
        pieces.append(text[:cut])
        text = text[cut:]
    return [*pieces, text]


def pieces_for(text: str, url: str | None, limit: int = TEXT_LIMIT) -> list[str]:
    """The notice with its link, in pieces; one that would need more than three is shortened
    to three, the last ending with the link to the full notice."""
    full = f"{text}\n{url}" if url else text
    pieces = split_bytes(full, limit)
    if len(pieces) <= MAX_PIECES or not url:
        return pieces[:MAX_PIECES]
    tail = f"…\n{url}"
    kept = split_bytes(text, limit)[: MAX_PIECES - 1]
    last = split_bytes(text[len("".join(kept)) :], limit - len(tail.encode()))[0]
    return [*kept, last.rstrip("\n") + tail]


@dataclass
class _Token:
    value: str = ""
    expires_at: float = 0.0


class TokenCache:
    """The access token per corp and app, shared by every sender in the process."""

    _lock = threading.Lock()
    _tokens: dict[tuple[str, str, str], _Token] = defaultdict(_Token)
    margin = 300.0  # seconds before WeCom's expiry that a new token is fetched

    def __init__(self, client: httpx.Client, settings: WeComSettings) -> None:
        self.client = client
        self.settings = settings
        self.key = (settings.base_url, settings.corp_id, settings.secret)

    def get(self, *, fresh: bool = False) -> str:
        with self._lock:
            token = self._tokens[self.key]
            if fresh or not token.value or time.monotonic() >= token.expires_at:
                self._fetch(token)
            return token.value

    def _fetch(self, token: _Token) -> None:
        try:
            response = self.client.get(
                f"{self.settings.base_url}/cgi-bin/gettoken",
                params={"corpid": self.settings.corp_id, "corpsecret": self.settings.secret},
            )
        except httpx.TransportError as failed:
            raise ServiceDown(str(failed) or type(failed).__name__) from failed
        answer = _json(response)
        if answer.get("errcode", 0) != 0 or not answer.get("access_token"):
            raise ServiceDown(f"gettoken: {answer.get('errcode')} {answer.get('errmsg', '')}")
        token.value = answer["access_token"]
        lifetime = float(answer.get("expires_in", 7200))
        token.expires_at = time.monotonic() + max(lifetime - self.margin, lifetime / 2)

    @classmethod
    def forget(cls) -> None:
        with cls._lock:
            cls._tokens.clear()


def _json(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 500:
        raise ServiceDown(f"HTTP {response.status_code}")
    try:
        answer = response.json()
    except ValueError as bad:
        raise ServiceDown(f"HTTP {response.status_code}: not JSON") from bad
    if not isinstance(answer, dict):
        raise ServiceDown("answer is not a JSON object")
    return answer


@dataclass
class _Outcome:
    """What became of one notice: delivered (with WeCom's msgid), failed for good with a
    reason, or waiting (retry at a time, or just held for the next drain)."""

    delivered: str | None = None
    reason: Message | None = None
    retry_after: float | None = None
    held: bool = False


class WeComSender:
    name = CHANNEL

    def __init__(
        self,
        settings: WeComSettings,
        factory: sessionmaker[Session],
        clock: Clock,
        limits: RateLimits | None = None,
        *,
        base_url: str = "",
        max_tries: int = 5,
        first_backoff: float = 1.0,
        batch: int = 500,
        timeout: float = 10.0,
        sleep: Callable[[float], object] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        sender: str | None = None,
        lease: timedelta = LEASE,
    ) -> None:
        self.sender = sender or sender_id()
        self.lease = lease
        self.settings = settings
        self.factory = factory
        self.clock = clock
        self.limits = limits or RateLimits()
        self.base_url = base_url.rstrip("/")
        self.max_tries = max_tries
        self.first_backoff = first_backoff
        self.batch = batch
        self.timeout = timeout
        self.sleep = sleep
        self.monotonic = monotonic
        # Read at each call, so a test can move the sender's clock after building it.
        self.pacing: RecipientPacing[str] = RecipientPacing(
            self.limits.per_user_per_minute,
            self.limits.window,
            monotonic=lambda: self.monotonic(),
        )
        self._ip_refused_logged = False

    def drain(self) -> int:
        """Send everything deliverable now; how many notices were delivered."""
        with unit_of_work(self.factory) as session:
            skip_unaddressed(session, CHANNEL, now=self.clock.now())
        delivered = 0
        after = 0
        held: set[str] = set()
        try:
            with httpx.Client(timeout=self.timeout) as client:
                tokens = TokenCache(client, self.settings)
                while True:
                    with unit_of_work(self.factory) as session:
                        pending = claim_deliveries(
                            session,
                            CHANNEL,
                            now=self.clock.now(),
                            after_id=after,
                            limit=self.batch,
                            sender=self.sender,
                            lease=self.lease,
                        )
                    if not pending:
                        return delivered
                    after = pending[-1].delivery_id
                    for item in pending:
                        if item.address in held:
                            continue
                        outcome = self._send(client, tokens, item)
                        self._record(item, outcome)
                        if outcome.delivered is not None:
                            delivered += 1
                        elif outcome.reason is None:
                            held.add(item.address)  # later notices wait, to arrive in order
        finally:
            self._release()

    def _release(self) -> None:
        """Hand back what this pass claimed and did not send (a held member's later notices)."""
        with unit_of_work(self.factory) as session:
            release_rows(session, Delivery, self.sender)

    def _record(self, item: Outgoing, outcome: _Outcome) -> None:
        if outcome.held:
            return
        now = self.clock.now()
        with unit_of_work(self.factory) as session:
            if outcome.delivered is not None:
                mark_delivered(session, item.delivery_id, outcome.delivered, now=now)
            elif outcome.reason is not None:
                log.warning(
                    "WeCom notice %d to %s failed for good: %s",
                    item.delivery_id,
                    item.address,
                    translate("en", outcome.reason.msgid, **outcome.reason.params),
                )
                mark_failed(
                    session, item.delivery_id, now=now, retry_at=None, reason=outcome.reason
                )
            else:
                retry_at = now + timedelta(seconds=outcome.retry_after or 60)
                mark_failed(
                    session, item.delivery_id, now=now, retry_at=retry_at, reason=Message(TOO_FAST)
                )

    def _send(self, client: httpx.Client, tokens: TokenCache, item: Outgoing) -> _Outcome:
        url = f"{self.base_url}{item.link}" if self.base_url and item.link else None
        pieces = pieces_for(item.text, url)
        # Pieces WeCom accepted before a retry or a crash are not sent again.
        left = pieces[item.pieces_sent :]
        recent = self.pacing.recent(item.address)
        if recent and recent + len(left) > self.limits.per_user_per_minute:
            return _Outcome(held=True)  # the user's minute is full: the next drain sends it
        msgid = ""
        for number, piece in enumerate(left, start=item.pieces_sent + 1):
            outcome = self._send_piece(client, tokens, item.address, piece)
            if outcome.delivered is None:
                return outcome
            msgid = outcome.delivered
            if number < len(pieces):
                with unit_of_work(self.factory) as session:
                    mark_piece_sent(session, item.delivery_id, number, msgid, self.clock.now())
        return _Outcome(delivered=msgid)

    def _send_piece(
        self, client: httpx.Client, tokens: TokenCache, user: str, text: str
    ) -> _Outcome:
        backoff = self.first_backoff
        renewed = False
        for _ in range(self.max_tries):
            answer = self._post(client, tokens.get(fresh=False), user, text)
            code = answer.get("errcode", 0)
            if code in TOKEN_INVALID and not renewed:
                tokens.get(fresh=True)
                renewed = True
                continue
            if code in FREQUENCY_LIMITED:
                log.info("WeCom frequency limit (%d); waiting %.1fs", code, backoff)
                self.sleep(backoff)
                backoff = min(backoff * 2, 60.0)
                continue
            if code == 0 and answer.get("invaliduser"):
                return _Outcome(reason=Message(UNKNOWN_USER, {"user": str(answer["invaliduser"])}))
            if code == USER_NOT_FOUND:
                return _Outcome(reason=Message(UNKNOWN_USER, {"user": user}))
            if code == IP_NOT_ALLOWED:
                if not self._ip_refused_logged:
                    log.error("WeCom refuses this server's IP address (60020): add it to the app")
                    self._ip_refused_logged = True
                return _Outcome(reason=Message(SERVER_NOT_ALLOWED))
            if code != 0:
                return _Outcome(
                    reason=Message(REFUSED, {"code": str(code), "answer": answer.get("errmsg", "")})
                )
            self.pacing.sent(user)
            return _Outcome(delivered=str(answer.get("msgid") or ""))
        return _Outcome(retry_after=backoff)

    def _post(self, client: httpx.Client, token: str, user: str, text: str) -> dict[str, Any]:
        try:
            response = client.post(
                f"{self.settings.base_url}/cgi-bin/message/send",
                params={"access_token": token},
                json={
                    "touser": user,
                    "msgtype": "text",
                    "agentid": self.settings.agent_id,
                    "text": {"content": text},
                },
            )
        except httpx.TransportError as failed:
            raise ServiceDown(str(failed) or type(failed).__name__) from failed
        return _json(response)
