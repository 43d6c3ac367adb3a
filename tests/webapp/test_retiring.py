"""Retiring an asset in the browser: the admin gives a reason, a scan of its label says it is
retired and shows its records, nothing more is filed; it can be brought back."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models.assets import Asset
from models.clock import SettableClock
from models.org import School
from models.people import Role
from models.sweep import sweep
from tests.conftest import Auth, csrf_token
from tests.factories import EXTINGUISHER_OK, jpeg_bytes, make_asset, make_person, make_school
from tests.webapp.helpers import submit_form


def _switch(client: FlaskClient, auth: Auth, login: str) -> None:
    """Log out whoever is in, and in as someone else."""
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})
    auth.login(login)


def _world(session: Session, clock: SettableClock) -> tuple[School, Asset, str]:
    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    make_person(session, clock, school, Role.INSPECTOR, "staff")
    asset = make_asset(session, clock, school)
    sweep(session, now=clock.now())
    session.commit()
    return school, asset, asset.current_label.token


def test_an_admin_retires_an_asset_and_its_label_then_says_so_over_its_records(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _, asset, token = _world(session, clock)
    auth.login("staff")
    assert (
        submit_form(
            client, token, "extinguisher_monthly", EXTINGUISHER_OK, {"photo": jpeg_bytes()}
        ).status_code
        == 302
    )
    _switch(client, auth, "admin")
    edit = f"/admin/S1/assets/{asset.id}"
    page = client.get(edit).get_data(as_text=True)
    assert "停用此设备" in page

    missing = client.post(f"{edit}/retire", data={"csrf_token": csrf_token(page), "reason": " "})
    assert missing.status_code == 422 and "请说明停用原因。" in missing.get_data(as_text=True)
    response = client.post(
        f"{edit}/retire", data={"csrf_token": csrf_token(page), "reason": "筒体锈蚀报废"}
    )

    assert response.status_code == 302
    scanned = client.get(f"/s/{token}").get_data(as_text=True)
    notice = scanned.split('id="retired"')[1].split("</div>")[0]
    assert "此设备已停用" in notice and "筒体锈蚀报废" in notice
    assert f"/s/{token}/record/extinguisher_monthly" not in scanned
    assert "/records/" in scanned  # its history stays
    assert "已停用" in client.get("/admin/S1/assets").get_data(as_text=True)
    assert "灭火器月度检查" not in client.get("/tasks?all=1").get_data(as_text=True)
    form = client.get(f"/s/{token}/record/extinguisher_monthly")
    assert form.status_code == 302 and form.headers["Location"] == f"/s/{token}"


def test_staff_cannot_retire_and_an_admin_brings_the_asset_back(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _, asset, token = _world(session, clock)
    auth.login("admin")
    edit = f"/admin/S1/assets/{asset.id}"
    csrf = csrf_token(client.get(edit).get_data(as_text=True))
    client.post(f"{edit}/retire", data={"csrf_token": csrf, "reason": "送修"})
    _switch(client, auth, "staff")
    staff_csrf = csrf_token(client.get(f"/s/{token}").get_data(as_text=True))
    refused = client.post(f"{edit}/retire", data={"csrf_token": staff_csrf, "do": "reactivate"})
    assert refused.status_code == 404

    _switch(client, auth, "admin")
    page = client.get(edit).get_data(as_text=True)
    assert "恢复使用" in page and "送修" in page
    back = client.post(f"{edit}/retire", data={"csrf_token": csrf_token(page), "do": "reactivate"})

    assert back.status_code == 302
    assert 'id="retired"' not in client.get(f"/s/{token}").get_data(as_text=True)
    assert client.get(f"/s/{token}/record/extinguisher_monthly").status_code == 200
