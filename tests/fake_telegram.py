"""A fake Telegram Bot API on 127.0.0.1, spoken to over real HTTP by python-telegram-bot.

It answers the methods Houqin uses (getMe, getUpdates, sendMessage, sendPhoto,
editMessageText, editMessageReplyMarkup, answerCallbackQuery, getFile and the file download,
setWebhook, deleteWebhook, setMyCommands), feeds the updates a test queues, records what the
bot sent, and enforces Telegram's documented limits: 4,096 characters of text, 1,024 of
caption, 64 bytes of callback data, files of at most 20 MB handed out by getFile, about 30
messages a second overall, one a second per private chat and 20 a minute per group, each
answered with 429 and a retry_after when broken. `down` makes it answer 502 to everything,
as Telegram does while it is unreachable.

Limits can be scaled by a factor (`scale`), so a benchmark can run faster than real time.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

TEXT_LIMIT = 4096
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile hands bots files up to 20 MB
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
SENDING = ("sendMessage", "sendPhoto", "sendDocument")


@dataclass
class Sent:
    method: str
    params: dict[str, Any]
    at: float
    message_id: int = 0

    @property
    def chat_id(self) -> int:
        return int(self.params.get("chat_id", 0))

    @property
    def text(self) -> str:
        return str(self.params.get("text") or self.params.get("caption") or "")


# Telegram's limits scaled alike on the fake and on the bot's pacing
# (RateLimits(factor=PACE)), so a conversation of many replies does not sit out real seconds
# while the fake still refuses any call that breaks the scaled limits.
PACE = 20


@dataclass
class Limits:
    overall_per_second: float = 30.0
    per_chat_per_second: float = 1.0
    per_group_per_minute: float = 20.0

    def scaled(self, factor: float) -> Limits:
        return Limits(
            self.overall_per_second * factor,
            self.per_chat_per_second * factor,
            self.per_group_per_minute * factor,
        )


@dataclass
class FakeTelegram:
    """The server's state; `start()` serves it on a free port of 127.0.0.1."""

    token: str = "123456:TEST-TOKEN"
    username: str = "houqin_test_bot"
    limits: Limits = field(default_factory=Limits)
    enforce_limits: bool = True
    down: bool = False
    sent: list[Sent] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    refused: list[tuple[str, int, str]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    webhook: dict[str, Any] = field(default_factory=dict)
    blocked: set[int] = field(default_factory=set)  # chats whose person blocked the bot
    gone: set[int] = field(default_factory=set)  # chats Telegram no longer knows
    # chat id → how many of the next sends to it fail with 502, as in a partial outage
    fail_next: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Condition()
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._next_message_id = 1
        self._overall: deque[float] = deque()
        self._per_chat: dict[int, deque[float]] = defaultdict(deque)
        self._server: ThreadingHTTPServer | None = None

    # --- running -----------------------------------------------------------------------

    def start(self) -> FakeTelegram:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._handle(self)

            def do_POST(self) -> None:
                fake._handle(self)

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                """A client that hung up mid-answer (a long poll stopped) is no error."""

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
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

    @property
    def address(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        return f"{self.address}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.address}/file/bot"

    # --- what a test does --------------------------------------------------------------------

    def queue_update(self, update: dict[str, Any]) -> int:
        with self._lock:
            update = {"update_id": self._next_update_id, **update}
            self._next_update_id += 1
            self._updates.append(update)
            self._lock.notify_all()
            return update["update_id"]

    def user_says(
        self, chat_id: int, text: str, language: str = "zh-hans", chat_type: str = "private"
    ) -> int:
        message: dict[str, Any] = {
            "message_id": self._new_message_id(),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": chat_type},
            "from": {"id": chat_id, "is_bot": False, "first_name": "U", "language_code": language},
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return self.queue_update({"message": message})

    def user_edits(self, chat_id: int, message_id: int, text: str) -> int:
        """The person edits a message they sent before (Telegram sends it as edited_message)."""
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "edit_date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "U"},
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return self.queue_update({"edited_message": message})

    def user_sends_photo(
        self,
        chat_id: int,
        image: bytes,
        reply_to: int | None = None,
        caption: str = "",
        *,
        sent_at: datetime | None = None,
        forwarded_from: datetime | None = None,
        as_document: bool = False,
    ) -> int:
        """A photo from the chat: compressed by Telegram, or `as_document` (the file as it
        was, EXIF and all); sent at `sent_at` (now), or a forward of a message first sent at
        `forwarded_from`."""
        file_id = f"photo-{len(self.files) + 1}"
        self.files[file_id] = image
        message: dict[str, Any] = {
            "message_id": self._new_message_id(),
            "date": int(sent_at.timestamp()) if sent_at is not None else int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "U"},
        }
        if as_document:
            message["document"] = {
                "file_id": file_id,
                "file_unique_id": file_id,
                "file_name": "IMG_0001.jpg",
                "mime_type": "image/jpeg",
                "file_size": len(image),
            }
        else:
            message["photo"] = [
                {"file_id": file_id, "file_unique_id": file_id, "width": 800, "height": 600}
            ]
        if forwarded_from is not None:
            message["forward_origin"] = {
                "type": "hidden_user",
                "date": int(forwarded_from.timestamp()),
                "sender_user_name": "Someone",
            }
        if caption:
            message["caption"] = caption
        if reply_to is not None:
            message["reply_to_message"] = {
                "message_id": reply_to,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
            }
        return self.queue_update({"message": message})

    def user_presses(
        self, chat_id: int, message_id: int, data: str, markup: dict[str, Any] | None = None
    ) -> int:
        """A button pressed under a message (`markup`: that message's buttons, as sent)."""
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "text": "…",
        }
        if markup is not None:
            message["reply_markup"] = markup
        return self.queue_update(
            {
                "callback_query": {
                    "id": f"cb-{self._next_update_id}",
                    "from": {"id": chat_id, "is_bot": False, "first_name": "U"},
                    "chat_instance": str(chat_id),
                    "data": data,
                    "message": message,
                }
            }
        )

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> list[Sent]:
        """Block until the sent messages satisfy `predicate` (a real wait on a condition,
        not a sleep); returns them."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate(self.sent):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out; sent so far: {self.sent[-5:]}")
                self._lock.wait(remaining)
            return list(self.sent)

    def wait_for_call(self, method: str, timeout: float = 10.0) -> dict[str, Any]:
        """Block until the bot has called `method`; returns the first call's parameters."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [params for name, params in self.calls if name == method]
                if found:
                    return found[0]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"the bot never called {method}")
                self._lock.wait(remaining)

    def sent_to(self, chat_id: int) -> list[Sent]:
        with self._lock:
            return [s for s in self.sent if s.chat_id == chat_id]

    # --- serving -------------------------------------------------------------------------------

    def _new_message_id(self) -> int:
        with self._lock:
            self._next_message_id += 1
            return self._next_message_id

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        path = unquote(urlsplit(request.path).path)
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        if self.down:
            return self._reply(
                request, 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
            )
        if path.startswith(f"/file/bot{self.token}/"):
            file_id = path.rsplit("/", 1)[-1]
            data = self.files.get(file_id)
            if data is None:
                return self._reply(
                    request, 404, {"ok": False, "error_code": 404, "description": "Not Found"}
                )
            request.send_response(200)
            request.send_header("Content-Type", "application/octet-stream")
            request.send_header("Content-Length", str(len(data)))
            request.end_headers()
            request.wfile.write(data)
            return None
        prefix = f"/bot{self.token}/"
        if not path.startswith(prefix):
            return self._reply(
                request, 404, {"ok": False, "error_code": 404, "description": "Not Found"}
            )
        method = path[len(prefix) :]
        params = _parse(request.headers.get("Content-Type", ""), body, request.path)
        status, payload = self._call(method, params)
        return self._reply(request, status, payload)

    def _reply(self, request: BaseHTTPRequestHandler, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def _error(self, method: str, status: int, description: str, **extra: Any) -> tuple[int, Any]:
        with self._lock:
            self.refused.append((method, status, description))
        payload = {"ok": False, "error_code": status, "description": description}
        if extra:
            payload["parameters"] = extra
        return status, payload

    def _call(self, method: str, params: dict[str, Any]) -> tuple[int, Any]:
        with self._lock:
            self.calls.append((method, params))
            self._lock.notify_all()
        if method == "getMe":
            return 200, {
                "ok": True,
                "result": {
                    "id": 123456,
                    "is_bot": True,
                    "first_name": "Houqin",
                    "username": self.username,
                },
            }
        if method == "getUpdates":
            return 200, {"ok": True, "result": self._get_updates(params)}
        if method in ("setMyCommands", "deleteMyCommands"):
            return 200, {"ok": True, "result": True}
        if method in ("setWebhook", "deleteWebhook"):
            self.webhook = dict(params) if method == "setWebhook" else {}
            return 200, {"ok": True, "result": True}
        if method == "answerCallbackQuery":
            return 200, {"ok": True, "result": True}
        if method == "getFile":
            file_id = str(params.get("file_id"))
            if file_id not in self.files:
                return self._error(method, 400, "Bad Request: invalid file_id")
            if len(self.files[file_id]) > DOWNLOAD_LIMIT:
                return self._error(method, 400, "Bad Request: file is too big")
            return 200, {
                "ok": True,
                "result": {
                    "file_id": file_id,
                    "file_unique_id": file_id,
                    "file_size": len(self.files[file_id]),
                    "file_path": file_id,
                },
            }
        problem = self._check(method, params)
        if problem is not None:
            return problem
        if method in SENDING or method.startswith("edit"):
            return 200, {"ok": True, "result": self._record(method, params)}
        return self._error(method, 404, f"Not Found: method {method} is not faked")

    def _check(self, method: str, params: dict[str, Any]) -> tuple[int, Any] | None:
        text = params.get("text")
        if text is not None and len(str(text)) > TEXT_LIMIT:
            return self._error(method, 400, "Bad Request: message is too long")
        caption = params.get("caption")
        if caption is not None and len(str(caption)) > CAPTION_LIMIT:
            return self._error(method, 400, "Bad Request: message caption is too long")
        markup = params.get("reply_markup")
        if isinstance(markup, dict):
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    data = button.get("callback_data")
                    if data is not None and len(str(data).encode()) > CALLBACK_DATA_LIMIT:
                        return self._error(method, 400, "Bad Request: BUTTON_DATA_INVALID")
        chat_id = int(params.get("chat_id", 0)) if method in SENDING else 0
        if self.fail_next.get(chat_id, 0) > 0:
            self.fail_next[chat_id] -= 1
            return self._error(method, 502, "Bad Gateway")
        if method in SENDING and int(params.get("chat_id", 0)) in self.blocked:
            return self._error(method, 403, "Forbidden: bot was blocked by the user")
        if method in SENDING and int(params.get("chat_id", 0)) in self.gone:
            return self._error(method, 400, "Bad Request: chat not found")
        if method in SENDING and self.enforce_limits:
            return self._rate_limit(method, int(params.get("chat_id", 0)))
        return None

    def _rate_limit(self, method: str, chat_id: int) -> tuple[int, Any] | None:
        now = time.monotonic()
        group = chat_id < 0
        window = 60.0 if group else 1.0
        allowed = self.limits.per_group_per_minute if group else self.limits.per_chat_per_second
        with self._lock:
            overall, chat = self._overall, self._per_chat[chat_id]
            while overall and overall[0] <= now - 1.0:
                overall.popleft()
            while chat and chat[0] <= now - window:
                chat.popleft()
            if len(overall) >= math.floor(self.limits.overall_per_second):
                wait = overall[0] + 1.0 - now
            elif len(chat) >= max(1, math.floor(allowed * (window if group else 1.0))):
                wait = chat[0] + window - now
            else:
                overall.append(now)
                chat.append(now)
                return None
        return self._error(
            method,
            429,
            f"Too Many Requests: retry after {math.ceil(wait)}",
            retry_after=max(1, math.ceil(wait)),
        )

    def _record(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if method.startswith("edit"):
                message_id = int(params.get("message_id", 0))
            else:
                self._next_message_id += 1
                message_id = self._next_message_id
            self.sent.append(Sent(method, params, time.monotonic(), message_id))
            self._lock.notify_all()
        result: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": int(params.get("chat_id", 0)), "type": "private"},
        }
        if "text" in params:
            result["text"] = params["text"]
        if method == "sendPhoto":
            result["photo"] = [
                {"file_id": "sent", "file_unique_id": "sent", "width": 1, "height": 1}
            ]
            if params.get("caption"):
                result["caption"] = params["caption"]
        return result

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 2.0)
        deadline = time.monotonic() + timeout
        with self._lock:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and time.monotonic() < deadline and not self.down:
                self._lock.wait(deadline - time.monotonic())
            return list(self._updates[:100])


def _parse(content_type: str, body: bytes, path: str) -> dict[str, Any]:
    """Bot API parameters from a query string, a form, a multipart body or JSON."""
    raw: dict[str, Any] = {k: v[-1] for k, v in parse_qs(urlsplit(path).query).items()}
    if content_type.startswith("application/json") and body:
        raw.update(json.loads(body))
        return raw
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if part.get_filename():
                raw[name] = part.get_payload(decode=True)
            else:
                raw[name] = part.get_content().strip()
    elif body:
        raw.update({k: v[-1] for k, v in parse_qs(body.decode()).items()})
    parsed: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str):
            try:
                parsed[key] = json.loads(value)
            except ValueError:
                parsed[key] = value
        else:
            parsed[key] = value
    return parsed
