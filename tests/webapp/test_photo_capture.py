"""Photo inputs offer camera and album, load the app's own sizing script, and the capture time
sent beside a photo is kept when believable and ignored otherwise, never refused."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from models.clock import SettableClock
from models.people import Role
from models.photos import Photo
from tests.conftest import Auth, csrf_token
from tests.factories import EXTINGUISHER_OK, distinct_jpeg, make_asset, make_person, make_school
from tests.webapp.helpers import submit_form

FILE_INPUT_RE = re.compile(r'<input type="file"[^>]*>')


def _asset_token(session: Session, clock: SettableClock) -> str:
    school = make_school(session)
    make_person(session, clock, school, Role.INSPECTOR, "inspector")
    token = make_asset(session, clock, school).current_label.token
    session.commit()
    return token


def test_photo_inputs_offer_camera_and_album_in_wechat_and_load_only_the_apps_script(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    token = _asset_token(session, clock)
    auth.login("inspector")
    html = client.get(f"/s/{token}/record/extinguisher_monthly").get_data(as_text=True)

    (photo_input,) = FILE_INPUT_RE.findall(html)
    # WeChat's webview opens the camera alone for capture=; accept="image/*" alone lets the
    # person choose 拍照 or 从相册选择 there, and in every other browser.
    assert 'accept="image/*"' in photo_input
    assert "capture" not in photo_input
    assert re.search(r"<form [^>]*data-photos", html)
    # The offline queue (on every page), its sender, the photos' script; nothing from elsewhere.
    offline, queue, script = re.findall(r'<script src="([^"]+)"', html)
    assert offline.startswith("/js/offline.js?v=")
    assert queue.startswith("/js/queue.js?v=")
    assert script.startswith("/js/photos.js?v=")
    served = client.get(script, headers={"Accept-Encoding": "br"})
    assert served.status_code == 200
    assert served.mimetype == "text/javascript"
    assert "immutable" in served.headers["Cache-Control"]
    assert "script-src 'self'" in served.headers["Content-Security-Policy"]
    # Its texts come from the catalogue, in the person's language.
    assert 'data-preparing="准备照片…"' in html
    assert 'data-uploading="正在上传 {p}"' in html


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("2026-03-02T07:45:00+08:00", datetime(2026, 3, 1, 23, 45, tzinfo=UTC)),
        ("2026-03-01T23:45:00.000Z", datetime(2026, 3, 1, 23, 45, tzinfo=UTC)),
        ("yesterday", None),
        ("2026-03-02T07:45:00", None),  # no offset: whose 07:45?
        ("2099-01-01T00:00:00+08:00", None),  # a clock far ahead
        ("1970-01-01T00:00:00Z", None),
        ("", None),
        ("9" * 5000, None),
    ],
)
def test_a_capture_time_sent_beside_a_photo_is_kept_when_believable_and_ignored_otherwise(
    client: FlaskClient,
    auth: Auth,
    session: Session,
    clock: SettableClock,
    sent: str,
    kept: datetime | None,
) -> None:
    token = _asset_token(session, clock)
    auth.login("inspector")
    response = submit_form(
        client,
        token,
        "extinguisher_monthly",
        {**EXTINGUISHER_OK, "photo__taken_at": sent},
        {"photo": distinct_jpeg("capture")},
    )

    assert response.status_code == 302
    session.rollback()
    assert session.scalars(select(Photo)).one().taken_at == kept
    record_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert ("拍摄于 2026-03-02 07:45" in record_page) == (kept is not None)


def test_closing_an_action_keeps_the_capture_time_of_its_photo(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.INSPECTOR, "inspector")
    keeper = make_person(session, clock, school, Role.DORM_STAFF, "keeper")
    asset = make_asset(session, clock, school, responsible=keeper)
    session.commit()
    token = asset.current_label.token
    auth.login("inspector")
    failed = {**EXTINGUISHER_OK, "hose_clear": "fail"}
    submit_form(client, token, "extinguisher_monthly", failed, {"photo": distinct_jpeg("hose")})
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})
    auth.login("keeper")
    url = re.search(r'href="(/actions/\d+)"', client.get(f"/s/{token}").get_data(as_text=True))
    assert url
    page = client.get(url.group(1)).get_data(as_text=True)
    assert 'accept="image/*" required>' in page
    assert "data-photos" in page

    closed = client.post(
        url.group(1),
        data={
            "csrf_token": csrf_token(page),
            "do": "close",
            "close-note": "换了新软管",
            "photo": FileStorage(io.BytesIO(distinct_jpeg("fixed")), "fix.jpg", "image/jpeg"),
            "photo__taken_at": "2026-03-02T07:45:00+08:00",
        },
    )

    assert closed.status_code == 302
    assert "拍摄于 2026-03-02 07:45" in client.get(url.group(1)).get_data(as_text=True)
