"""A checklist sent after the page or the login expired comes back filled in, photo kept."""

from __future__ import annotations

import io
import json
import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from models.clock import SettableClock
from models.org import School
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
from webapp import drafts

CHECKLIST = "extinguisher_monthly"
# A browser sends its form with the page's origin (the test client's host is localhost).
HERE = {"Origin": "http://localhost"}


def _setup(session: Session, clock: SettableClock) -> str:
    school = make_school(session)
    inspector = make_person(session, clock, school)
    asset = make_asset(session, clock, school, responsible=inspector)
    session.commit()
    return asset.current_label.token


def _send(
    client: FlaskClient,
    url: str,
    fields: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> TestResponse:
    data = {**fields, "photo": FileStorage(io.BytesIO(jpeg_bytes()), "gauge.jpg", "image/jpeg")}
    boundary, body = encode_multipart(data)
    return client.post(
        url,
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=HERE if headers is None else headers,
    )


def file_from_draft(
    client: FlaskClient, sent: TestResponse, page: str, fields: dict[str, str]
) -> TestResponse:
    """Send the form shown filled in from the draft `sent` was kept as, with its kept photo."""
    draft = sent.headers["Location"].split("draft=")[1]
    data = {"csrf_token": csrf_token(page), "draft": draft, **fields}
    boundary, body = encode_multipart(data)
    return client.post(
        sent.request.path, data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def _kept(app: Flask) -> list[Path]:
    """The drafts on disk."""
    root = Path(app.extensions["houqin.settings"].storage.data_dir) / "drafts"
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.exists() else []


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
    filed = file_from_draft(client, sent, page, {"submission_key": key, **answers})
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


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://elsewhere.example"},
        {"Origin": "null"},
        {"Referer": "https://elsewhere.example/s/form"},
        {},
    ],
    ids=["other-origin", "null-origin", "other-referer", "neither"],
)
def test_a_form_another_site_sends_keeps_nothing(
    app: Flask, session: Session, clock: SettableClock, headers: dict[str, str]
) -> None:
    token = _setup(session, clock)
    victim = app.test_client()
    url = f"/s/{token}/record/{CHECKLIST}"

    # A page elsewhere posts the form into the victim's browser: the Lax cookie stays home.
    sent = _send(victim, url, {"csrf_token": "", **EXTINGUISHER_OK}, headers=headers)

    assert sent.status_code == 400
    assert "页面已过期" in sent.get_data(as_text=True)
    assert "draft" not in sent.headers.get("Location", "")
    assert _kept(app) == []
    assert victim.get_cookie(drafts.COOKIE, path="/s/") is None


def test_a_form_from_this_site_with_only_a_referer_is_kept(
    app: Flask, session: Session, clock: SettableClock
) -> None:
    token = _setup(session, clock)
    url = f"/s/{token}/record/{CHECKLIST}"

    sent = _send(app.test_client(), url, {"csrf_token": "x"}, {"Referer": f"http://localhost{url}"})

    assert sent.status_code == 303 and len(_kept(app)) == 1


def test_a_draft_opens_only_in_the_browser_that_sent_it(
    app: Flask, auth: Auth, session: Session, clock: SettableClock
) -> None:
    token = _setup(session, clock)
    url = f"/s/{token}/record/{CHECKLIST}"
    phone = app.test_client()
    sent = _send(phone, url, {"csrf_token": "x", **EXTINGUISHER_OK})
    link = sent.headers["Location"]
    cookie = phone.get_cookie(drafts.COOKIE, path="/s/")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"

    # Someone given the link, logged in on their own phone, sees an empty form.
    auth.login("inspector")
    other = auth.client.get(link)
    assert other.status_code == 200
    html = other.get_data(as_text=True)
    assert "您填写的内容已保留" not in html
    assert 'value="pass" checked' not in html
    assert "已保留之前" not in html
    # Filing through it does not take the kept photo, nor drop the draft.
    csrf, key = open_form(auth.client, token, CHECKLIST)
    data = {"csrf_token": csrf, "submission_key": key, "draft": link.split("draft=")[1]}
    boundary, body = encode_multipart({**data, **EXTINGUISHER_OK})
    auth.client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert _counts(session)[1] == 0
    assert len(_kept(app)) == 1


def test_only_the_checklists_items_are_kept_each_bounded(
    app: Flask, session: Session, clock: SettableClock
) -> None:
    token = _setup(session, clock)
    url = f"/s/{token}/record/{CHECKLIST}"
    fields: dict[str, Any] = {
        "csrf_token": "x",
        "submission_key": "k" * 32,
        **EXTINGUISHER_OK,
        "note": "压力正常",
        "made_up": "x" * 1000,
        "confirm_repeat": "y",
        "hose_clear": ["pass"] * (drafts.MAX_VALUES + 10),
    }
    fields["pin_seal"] = "p" * (drafts.MAX_VALUE_CHARS + 1)
    junk_photo = FileStorage(io.BytesIO(jpeg_bytes()), "x.jpg", "image/jpeg")
    sent = _send(app.test_client(), url, {**fields, "not_a_photo_item": junk_photo})

    assert sent.status_code == 303
    (folder,) = _kept(app)
    kept = json.loads((folder / "draft.json").read_text(encoding="utf-8"))
    keys = [key for key, _ in kept["fields"]]
    assert set(keys) == {"submission_key", "gauge_green", "body_intact", "hose_clear"} | {
        "accessible_signed",
        "note",
    }
    assert keys.count("hose_clear") == drafts.MAX_VALUES
    assert [item for item, _ in kept["photos"]] == ["photo"]
    assert len(os.listdir(folder)) == 2


@pytest.mark.parametrize("cap", ["count", "bytes"])
def test_past_the_cap_nothing_is_kept_and_the_page_says_it_expired(
    app: Flask,
    session: Session,
    clock: SettableClock,
    monkeypatch: pytest.MonkeyPatch,
    cap: str,
) -> None:
    token = _setup(session, clock)
    url = f"/s/{token}/record/{CHECKLIST}"
    if cap == "count":
        monkeypatch.setattr(drafts, "MAX_DRAFTS", 1)
    else:
        monkeypatch.setattr(drafts, "MAX_TOTAL_BYTES", drafts.FIELDS_BYTES * 3 // 2)
    assert _send(app.test_client(), url, {"csrf_token": "x"}).status_code == 303

    sent = _send(app.test_client(), url, {"csrf_token": "x", **EXTINGUISHER_OK})

    assert sent.status_code == 400
    assert "页面已过期" in sent.get_data(as_text=True)
    assert len(_kept(app)) == 1


def test_the_drafts_are_looked_through_only_now_and_then(
    app: Flask, session: Session, clock: SettableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = _setup(session, clock)
    url = f"/s/{token}/record/{CHECKLIST}"
    scans: list[Path] = []
    scan = drafts._scan
    monkeypatch.setattr(drafts, "_scan", lambda root: scans.append(root) or scan(root))
    _send(app.test_client(), url, {"csrf_token": "x"})
    old = _kept(app)[0]
    day_ago = time.time() - drafts.KEEP_SECONDS - 60
    for kept_file in old.iterdir():
        os.utime(kept_file, (day_ago, day_ago))

    _send(app.test_client(), url, {"csrf_token": "x"})
    assert len(scans) == 1 and old.exists()
    clock.advance(timedelta(seconds=drafts.SCAN_SECONDS))
    _send(app.test_client(), url, {"csrf_token": "x"})

    assert len(scans) == 2
    assert not old.exists() and len(_kept(app)) == 2


def test_the_next_person_on_a_shared_phone_finds_nothing_kept(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    token = _setup(session, clock)
    make_person(session, clock, session.scalars(select(School)).one(), username="other")
    session.commit()
    url = f"/s/{token}/record/{CHECKLIST}"
    auth.login("inspector")
    link = _send(client, url, {"csrf_token": "expired", **EXTINGUISHER_OK}).headers["Location"]

    # The inspector's login runs out; someone else logs in on the same phone.
    client.delete_cookie("session")
    client.delete_cookie("remember_token")
    auth.login("other")
    page = client.get(link)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "您填写的内容已保留" not in html
    # Logging out forgets the phone's drafts.
    assert client.get_cookie(drafts.COOKIE, path="/s/") is not None
    client.post("/logout", data={"csrf_token": csrf_token(html)})
    assert client.get_cookie(drafts.COOKIE, path="/s/") is None


class StoreAway:
    """The app's file store while its object store cannot be reached: every call fails."""

    def __getattr__(self, name: str) -> Any:
        def fails(*_: Any, **__: Any) -> Any:
            raise ConnectionError("the object store is not answering")

        return fails


def test_with_the_store_away_a_form_is_not_kept_and_the_page_says_it_expired(
    app: Flask, session: Session, clock: SettableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = _setup(session, clock)
    url = f"/s/{token}/record/{CHECKLIST}"
    monkeypatch.setitem(app.extensions, "houqin.photos", StoreAway())

    sent = _send(app.test_client(), url, {"csrf_token": "x", **EXTINGUISHER_OK})

    assert sent.status_code == 400
    assert "页面已过期" in sent.get_data(as_text=True)


def test_a_record_filed_from_a_draft_stands_when_the_draft_cannot_be_removed(
    client: FlaskClient,
    auth: Auth,
    app: Flask,
    session: Session,
    clock: SettableClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = _setup(session, clock)
    auth.login("inspector")
    _, key = open_form(client, token, CHECKLIST)
    url = f"/s/{token}/record/{CHECKLIST}"
    sent = _send(client, url, {"csrf_token": "expired", "submission_key": key, **EXTINGUISHER_OK})
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    store = app.extensions["houqin.photos"]

    def away(*_: Any) -> None:
        raise ConnectionError("the object store is not answering")

    monkeypatch.setattr(store, "delete", away)
    filed = file_from_draft(client, sent, page, {"submission_key": key, **EXTINGUISHER_OK})

    assert filed.status_code == 302, filed.get_data(as_text=True)
    assert _counts(session) == (1, 1)
