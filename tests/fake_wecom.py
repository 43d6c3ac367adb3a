"""A fake WeCom (企业微信) API on 127.0.0.1: gettoken and application messages over real HTTP.

It hands out access tokens (one can be expired at will: the next send answers 42001), checks
the corp id and secret, the agent id and the 2,048 bytes of a text's content, answers unknown
users with `invaliduser` as WeCom does, and enforces 30 messages a minute per member (the
minute scaled by a factor) with 45009. `limited` queues 45009 answers for the next sends;
`stop()` takes the server away, and `start()` brings it back on the same port.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TEXT_LIMIT = 2048


@dataclass
class Message:
    user: str
    content: str


@dataclass
class FakeWeCom:
    corp_id: str = "corp1"
    secret: str = "s3cret"
    agent_id: int = 1000002
    users: set[str] = field(default_factory=lambda: {"ZhangSan", "LiSi"})
    per_user_per_minute: int = 30
    factor: float = 1.0
    port: int = 0
    monotonic: Callable[[], float] = time.monotonic  # a test may move the minute on
    messages: list[Message] = field(default_factory=list)
    token_fetches: int = 0
    limited: int = 0  # this many next sends are answered 45009
    limited_after: int = 0  # ...once this many more were accepted (a long notice's next piece)
    refusals: list[int] = field(default_factory=list)  # error codes answered so far
    _token: str = ""
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _sent_at: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def expire_token(self) -> None:
        with self._lock:
            self._token = f"expired-{self._token}"

    def start(self) -> FakeWeCom:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path != "/cgi-bin/gettoken":
                    return self._answer({"errcode": 404, "errmsg": "no such api"})
                self._answer(fake._gettoken(query))

            def do_POST(self) -> None:
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if url.path != "/cgi-bin/message/send":
                    return self._answer({"errcode": 404, "errmsg": "no such api"})
                self._answer(fake._send(query.get("access_token", ""), body))

            def _answer(self, answer: dict[str, Any]) -> None:
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        # shutdown() waits for the loop's next poll: 10 ms, not the default half second.
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _gettoken(self, query: dict[str, str]) -> dict[str, Any]:
        if query.get("corpid") != self.corp_id or query.get("corpsecret") != self.secret:
            return {"errcode": 40001, "errmsg": "invalid credential"}
        with self._lock:
            self.token_fetches += 1
            self._token = f"token-{self.token_fetches}"
            return {"errcode": 0, "errmsg": "ok", "access_token": self._token, "expires_in": 7200}

    def _send(self, token: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if token.startswith("expired-") or (token and token == f"expired-{self._token}"):
                return self._refuse(42001, "access_token expired")
            if token != self._token or not token:
                return self._refuse(42001 if token.startswith("token-") else 40014, "invalid")
            if body.get("agentid") != self.agent_id:
                return self._refuse(40056, "invalid agentid")
            content = body.get("text", {}).get("content", "")
            if len(content.encode()) > TEXT_LIMIT:
                return self._refuse(44004, "content size out of limit")
            if self.limited and not self.limited_after:
                self.limited -= 1
                return self._refuse(45009, "api freq out of limit")
            user = body.get("touser", "")
            if user not in self.users:
                return {"errcode": 0, "errmsg": "ok", "invaliduser": user, "msgid": ""}
            now = self.monotonic()
            sent = self._sent_at[user]
            while sent and sent[0] <= now - 60 / self.factor:
                sent.popleft()
            if len(sent) >= self.per_user_per_minute:
                return self._refuse(45033, "api concurrent out of limit")
            sent.append(now)
            self.limited_after = max(0, self.limited_after - 1)
            self.messages.append(Message(user, content))
            return {"errcode": 0, "errmsg": "ok", "msgid": f"msg{len(self.messages)}"}

    def _refuse(self, code: int, message: str) -> dict[str, Any]:
        self.refusals.append(code)
        return {"errcode": code, "errmsg": message}
