"""Helpers for driving the web app the way a phone does."""

from __future__ import annotations

import io
import re
from typing import Any

from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from tests.conftest import csrf_token

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
