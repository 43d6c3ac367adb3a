"""A checklist sent after the page or the login expired comes back filled in, photo kept."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import unquote

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from models.clock import SettableClock
from models.photos import RecordPhoto
from models.records import Record
from tests.conftest import Auth, csrf_token
from tests.factories import (
    EXTINGUISHER_OK,
    PASSWORD,
    jpeg_bytes,
    make_asset,
    make_person,
    make_school,
)
from tests.webapp.helpers import open_form

CHECKLIST = "extinguisher_monthly"


def _setup(session: Session, clock: SettableClock) -> str:
    school = make_school(session)
    inspector = make_person(session, clock, school)
    asset = make_asset(session, clock, school, responsible=inspector)
    session.commit()
    return asset.current_label.token


def _send(client: FlaskClient, url: str, fields: dict[str, Any]) -> TestResponse:
    data = {**fields, "photo": FileStorage(io.BytesIO(jpeg_bytes()), "gauge.jpg", "image/jpeg")}
    boundary, body = encode_multipart(data)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _counts(session: Session) -> tuple[int, int]:
    session.rollback()
    counts = (
        session.scalar(select(func.count()).select_from(Record)) or 0,
        session.scalar(select(func.count()).select_from(RecordPhoto)) or 0,
    )
    session.rollback()
    return counts


def test_an_expired_page_comes_back_filled_in_and_files_with_the_kept_photo(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    token = _setup(session, clock)
    auth.login("inspector")
    _, key = open_form(client, token, CHECKLIST)
    url = f"/s/{token}/record/{CHECKLIST}"
    answers = {**EXTINGUISHER_OK, "hose_clear": "fail"}

    sent = _send(client, url, {"csrf_token": "expired", "submission_key": key, **answers})

    assert sent.status_code == 303
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "您填写的内容已保留" in page
    assert 'name="hose_clear" value="fail" checked' in page
    assert "已保留之前的 1 张照片" in page
    assert _counts(session) == (0, 0)
    draft = sent.headers["Location"].split("draft=")[1]
    data = {"csrf_token": csrf_token(page), "submission_key": key, "draft": draft, **answers}
    boundary, body = encode_multipart(data)
    filed = client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert filed.status_code == 302, filed.get_data(as_text=True)
    assert _counts(session) == (1, 1)


def test_a_form_sent_logged_out_comes_back_filled_in_after_logging_in(
    app: Flask, session: Session, clock: SettableClock
) -> None:
    token = _setup(session, clock)
    phone = app.test_client()
    url = f"/s/{token}/record/{CHECKLIST}"

    # The login ended while the form was open: no session, so no valid token either.
    sent = _send(phone, url, {"csrf_token": "x", "submission_key": "k" * 32, **EXTINGUISHER_OK})
    to_form = phone.get(sent.headers["Location"])
    assert to_form.headers["Location"].startswith("/login?next=")
    login = phone.get(to_form.headers["Location"]).get_data(as_text=True)
    back = phone.post(
        "/login",
        data={
            "csrf_token": csrf_token(login),
            "login": "inspector",
            "password": PASSWORD,
            "next": unquote(to_form.headers["Location"].split("next=")[1]),
        },
    )

    assert back.headers["Location"].startswith(url + "?draft=")
    page = phone.get(back.headers["Location"]).get_data(as_text=True)
    assert 'name="pin_seal" value="pass" checked' in page
    assert "k" * 32 in page


def test_nothing_is_kept_for_a_label_that_does_not_exist(
    app: Flask, session: Session, clock: SettableClock
) -> None:
    _setup(session, clock)
    phone = app.test_client()

    sent = _send(phone, f"/s/{'x' * 32}/record/{CHECKLIST}", {"csrf_token": "x"})

    assert sent.status_code == 400
    assert "draft" not in sent.headers.get("Location", "")
