"""A fake of WeCom's group robot and DingTalk's custom robot on 127.0.0.1, over real HTTP.

It serves both send endpoints, knows each robot's key (WeCom) or token and signing secret
(DingTalk), checks DingTalk's signature and that its timestamp is within an hour, the
services' size limits (WeCom text 2048 bytes and markdown 4096; DingTalk kept at 4000
characters here, text or markdown, which needs its title), and 20
messages a minute per robot (the minute scaled by `factor`), answering with the documented
error codes: 45009 / 130101 too fast, 93000 bad key, 300001 bad token, 310000 bad sign,
40008 / 460101 too long.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PER_MINUTE = 20
WECOM_TEXT_BYTES = 2048
WECOM_MARKDOWN_BYTES = 4096
DINGTALK_TEXT_CHARS = 4000


def content(body: dict[str, Any]) -> str:
    """A message's words: a text's content, WeCom's markdown content or DingTalk's text."""
    if body.get("msgtype") == "markdown":
        markdown = body["markdown"]
        return str(markdown.get("content", markdown.get("text", "")))
    return str(body.get("text", {}).get("content", ""))


@dataclass
class Received:
    service: str
    robot: str
    body: dict[str, Any]


@dataclass
class FakeRobots:
    factor: float = 1.0
    now_ms: Callable[[], int] = field(default=lambda: int(time.time() * 1000))
    wecom_keys: set[str] = field(default_factory=set)
    dingtalk_secrets: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    breaches: int = 0
    _sent_at: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                address = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(address.query).items()}
                if address.path == "/cgi-bin/webhook/send":
                    answer = fake._wecom(query, body)
                elif address.path == "/robot/send":
                    answer = fake._dingtalk(query, body)
                else:
                    self.send_error(404)
                    return
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # shutdown() waits for the loop's next poll: 10 ms, not the default half second.
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        ).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def texts(self, robot: str) -> list[str]:
        """What each message to the robot said: its text, or its markdown."""
        return [content(r.body) for r in self.received if r.robot == robot]

    def _too_fast(self, robot: str) -> bool:
        window = 60.0 / self.factor
        now = time.monotonic()
        with self._lock:
            times = self._sent_at[robot]
            while times and times[0] <= now - window:
                times.popleft()
            if len(times) >= PER_MINUTE:
                self.breaches += 1
                return True
            times.append(now)
            return False

    def _wecom(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        key = query.get("key", "")
        if key not in self.wecom_keys:
            return {"errcode": 93000, "errmsg": "invalid webhook url"}
        kind = body.get("msgtype")
        if kind not in ("text", "markdown") or "content" not in body.get(kind, {}):
            return {"errcode": 40008, "errmsg": "invalid message type"}
        limit = WECOM_TEXT_BYTES if kind == "text" else WECOM_MARKDOWN_BYTES
        if len(body[kind]["content"].encode("utf-8")) > limit:
            return {"errcode": 40058, "errmsg": f"content exceed max length {limit}"}
        if self._too_fast(key):
            return {"errcode": 45009, "errmsg": "api freq out of limit"}
        self.received.append(Received("wecom", key, body))
        return {"errcode": 0, "errmsg": "ok"}

    def _dingtalk(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        token = query.get("access_token", "")
        if token not in self.dingtalk_secrets:
            return {"errcode": 300001, "errmsg": "token is not exist"}
        secret = self.dingtalk_secrets[token]
        timestamp = int(query.get("timestamp", "0"))
        if abs(self.now_ms() - timestamp) > 3600_000:
            return {"errcode": 310000, "errmsg": "timestamp invalid"}
        expected = base64.b64encode(
            hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
        ).decode()
        if not hmac.compare_digest(query.get("sign", ""), expected):
            return {"errcode": 310000, "errmsg": "sign not match"}
        kind = body.get("msgtype")
        if kind == "markdown" and not body["markdown"].get("title"):
            return {"errcode": 400003, "errmsg": "markdown title is empty"}
        if kind not in ("text", "markdown"):
            return {"errcode": 400002, "errmsg": "invalid msgtype"}
        if len(content(body)) > DINGTALK_TEXT_CHARS:
            return {"errcode": 460101, "errmsg": "message too long"}
        if self._too_fast(token):
            return {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}
        self.received.append(Received("dingtalk", token, body))
        return {"errcode": 0, "errmsg": "ok"}
