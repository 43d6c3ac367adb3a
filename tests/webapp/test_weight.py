"""Pages for the field are light: under 20 KB compressed with everything they load."""

from __future__ import annotations

import gzip
import re
from datetime import timedelta

import brotli
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models.clock import SettableClock
from tests.conftest import Auth
from tests.factories import EXTINGUISHER_OK, detailed_jpeg, make_asset, make_person, make_school
from tests.webapp.helpers import submit_form

LIMIT = 20 * 1024
RESOURCE_RE = re.compile(r'(?:src|href|action)="([^"]+)"')


def _weight(client: FlaskClient, path: str) -> tuple[int, list[str]]:
    """Bytes on the wire for the page (compressed) and every image and script it loads."""
    response = client.get(path, headers={"Accept-Encoding": "br, gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] in ("br", "gzip")
    total = len(response.data)
    body = response.get_data()
    encoding = response.headers["Content-Encoding"]
    text = (brotli.decompress(body) if encoding == "br" else gzip.decompress(body)).decode()
    urls = RESOURCE_RE.findall(text)
    for img in re.findall(r'<img[^>]+src="([^"]+)"', text):
        total += len(client.get(img, buffered=True).data)
    for script in re.findall(r'<script[^>]+src="([^"]+)"', text):
        total += len(client.get(script, headers={"Accept-Encoding": "br, gzip"}).data)
    return total, urls


def test_the_asset_page_and_form_weigh_under_20_kb_with_detailed_photos(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    inspector = make_person(session, clock, school)
    asset = make_asset(
        session, clock, school, responsible=inspector, agent="ABC干粉", capacity_kg=4
    )
    session.commit()
    token = asset.current_label.token
    auth.login("inspector")
    for n in range(6):
        clock.advance(timedelta(days=1))
        submit_form(
            client, token, "extinguisher_monthly", EXTINGUISHER_OK, {"photo": detailed_jpeg(n)}
        )

    for path in (f"/s/{token}", f"/s/{token}/record/extinguisher_monthly"):
        weight, urls = _weight(client, path)
        assert weight < LIMIT, f"{path} weighs {weight} bytes"
        outside = [u for u in urls if u.startswith(("http:", "https:", "//"))]
        assert outside == [], f"{path} loads from outside the app: {outside}"


def test_pages_forbid_loading_anything_from_elsewhere(client: FlaskClient) -> None:
    response = client.get("/login")

    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "img-src 'self' data:" in policy
    assert response.headers["Referrer-Policy"] == "same-origin"
