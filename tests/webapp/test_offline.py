"""Without a browser: what the offline queue and the service worker are served with."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.people import Role
from tests.conftest import Auth
from tests.factories import make_asset, make_person, make_school


def test_the_service_worker_is_served_at_the_root_and_checked_on_every_visit(
    client: FlaskClient,
) -> None:
    served = client.get("/sw.js")
    assert served.status_code == 200
    assert served.mimetype == "text/javascript"
    assert served.headers["Cache-Control"] == "no-cache"
    assert "script-src 'self'" in served.headers["Content-Security-Policy"]


def test_without_javascript_the_pending_page_says_nothing_is_kept(client: FlaskClient) -> None:
    html = client.get("/pending").get_data(as_text=True)
    assert "这台手机上没有保存待发送的记录。" in html
    # The texts the script fills the list with, from the catalogue.
    assert 'data-scanned="扫码于 {time}，联网后填写"' in html
    assert 'data-discard="放弃"' in html


def test_every_page_carries_the_queue_with_its_texts_and_whose_records_it_sends(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    inspector = make_person(session, clock, school, Role.INSPECTOR, "inspector")
    token = make_asset(session, clock, school).current_label.token
    session.commit()
    auth.login("inspector")
    html = client.get(f"/s/{token}/record/extinguisher_monthly").get_data(as_text=True)
    assert 'data-pending="等待发送（{n}）"' in html
    assert 'data-saved="已保存在手机上，联网后自动发送。"' in html
    assert f'data-person="{inspector.id}"' in html
    assert 'id="pending-link" href="/pending" hidden' in html
    assert 'data-asset="MHQ-001 · 一楼东侧灭火器"' in html


def test_the_offline_page_for_an_unseen_label_says_the_scan_is_kept(client: FlaskClient) -> None:
    html = client.get("/offline").get_data(as_text=True)
    assert "没有网络" in html
    assert "data-offline-scan" in html
