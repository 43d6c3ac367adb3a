"""Helpers for driving the web app the way a phone does."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from tests.conftest import Auth, csrf_token

KEY_RE = re.compile(r'name="submission_key" type="hidden" value="([^"]+)"')


def open_form(client: FlaskClient, token: str, template_key: str) -> tuple[str, str]:
    """The CSRF token and submission key of a freshly opened record form."""
    response = client.get(f"/s/{token}/record/{template_key}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    match = KEY_RE.search(html)
    assert match
    return csrf_token(html), match.group(1)


def submit_form(
    client: FlaskClient,
    token: str,
    template_key: str,
    answers: dict[str, str],
    photos: dict[str, bytes] | None = None,
    form: tuple[str, str] | None = None,
) -> TestResponse:
    csrf, key = form or open_form(client, token, template_key)
    data: dict[str, Any] = {"csrf_token": csrf, "submission_key": key, **answers}
    for item, content in (photos or {}).items():
        data[item] = FileStorage(io.BytesIO(content), "IMG_0001.jpg", content_type="image/jpeg")
    # Encoded here, in memory: werkzeug's own builder spools big bodies to a file it never closes.
    boundary, body = encode_multipart(data)
    return client.post(
        f"/s/{token}/record/{template_key}",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


class _FormReader(HTMLParser):
    """What a browser sends for the page's first form, without pressing any button."""

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[tuple[str, str]] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name", "")
        if tag == "input" and name and a.get("type", "text") not in ("submit", "file"):
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self.pairs.append((name, a.get("value", "on" if "checked" in a else "")))
        elif tag == "select":
            self._select, self._options = name, []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea":
            self._textarea, self._text = name, ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None:
            chosen = [v for v, selected in self._options if selected] or [
                v for v, _ in self._options[:1]
            ]
            self.pairs += [(self._select, v) for v in chosen]
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.pairs.append((self._textarea, self._text))
            self._textarea = None


def form_values(html: str) -> list[tuple[str, str]]:
    """The (name, value) pairs the page's form would send as it stands."""
    reader = _FormReader()
    reader.feed(html)
    return reader.pairs


def reach_page(app: Flask, client: FlaskClient, login: str, school_code: str, channel: str) -> str:
    """The school's reach page as its administrator `login` reads it, the installation
    running `channel` (as its settings would)."""
    settings = app.extensions["houqin.settings"]
    if channel == "telegram":
        settings.telegram.token = "123:abc"
    elif channel == "wecom":
        settings.wecom.corp_id, settings.wecom.agent_id, settings.wecom.secret = "ww1", 1000002, "s"
    elif channel == "email":
        settings.email.host, settings.email.sender = "127.0.0.1", "houqin@example.cn"
    Auth(client).login(login)
    response = client.get(f"/admin/{school_code}/reach")
    assert response.status_code == 200
    return response.get_data(as_text=True)
