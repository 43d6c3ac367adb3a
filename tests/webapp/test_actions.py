"""Corrective actions and the inbox in the browser's terms: lists, close with a photo, reopen."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.org import School
from models.people import Role
from tests.conftest import Auth, csrf_token
from tests.factories import EXTINGUISHER_OK, jpeg_bytes, make_asset, make_person, make_school
from tests.webapp.helpers import submit_form


def _failed_check(client: FlaskClient, auth: Auth, session: Session, clock: SettableClock) -> str:
    """An inspector fails the hose; the keeper is responsible. Returns the label token."""
    school = make_school(session)
    make_person(session, clock, school, Role.INSPECTOR, "inspector")
    keeper = make_person(session, clock, school, Role.DORM_STAFF, "keeper")
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    asset = make_asset(session, clock, school, responsible=keeper)
    session.commit()
    token = asset.current_label.token
    auth.login("inspector")
    submit_form(
        client,
        token,
        "extinguisher_monthly",
        {**EXTINGUISHER_OK, "hose_clear": "fail"},
        {"photo": jpeg_bytes()},
    )
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))})
    return token


def _action_url(html: str) -> str:
    return re.search(r'href="(/actions/\d+)"', html).group(1)


def test_the_responsible_person_sees_what_to_fix_on_the_asset_and_in_their_list(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    token = _failed_check(client, auth, session, clock)
    auth.login("keeper")

    asset_page = client.get(f"/s/{token}").get_data(as_text=True)
    mine = client.get("/actions").get_data(as_text=True)

    assert "待整改" in asset_page and "喷管损坏或堵塞" in asset_page
    assert "喷管损坏或堵塞" in mine and "整改期限 " in mine
    assert '<span class="count">1</span>' in mine  # the unread notice in the header


def test_closing_with_a_note_and_photo_then_an_admin_reopens(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    token = _failed_check(client, auth, session, clock)
    auth.login("keeper")
    url = _action_url(client.get(f"/s/{token}").get_data(as_text=True))
    page = client.get(url).get_data(as_text=True)

    missing = client.post(
        url, data={"csrf_token": csrf_token(page), "do": "close", "close-note": ""}
    )
    assert missing.status_code == 422
    assert "请说明处理情况" in missing.get_data(as_text=True)

    from io import BytesIO

    from werkzeug.datastructures import FileStorage

    closed = client.post(
        url,
        data={
            "csrf_token": csrf_token(page),
            "do": "close",
            "close-note": "已更换喷管",
            "photo": FileStorage(
                BytesIO(jpeg_bytes(color="green")), "fix.jpg", "photo", "image/jpeg"
            ),
        },
        content_type="multipart/form-data",
    )
    assert closed.status_code == 302
    done = client.get(url).get_data(as_text=True)
    assert "已关闭" in done and "已更换喷管" in done and "/thumb.jpg" in done
    assert (
        "待整改"
        not in client.get(f"/s/{token}").get_data(as_text=True).split("<main>")[1].split("</h1>")[0]
    )

    client.post("/logout", data={"csrf_token": csrf_token(done)})
    auth.login("admin")
    admin_page = client.get(url).get_data(as_text=True)
    reopened = client.post(
        url, data={"csrf_token": csrf_token(admin_page), "do": "reopen", "reopen-note": "仍漏水"}
    )
    assert reopened.status_code == 302
    assert "重新打开" in client.get(url).get_data(as_text=True)


def test_the_inbox_opens_a_notice_and_marks_it_read(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _failed_check(client, auth, session, clock)
    auth.login("keeper")
    page = client.get("/inbox").get_data(as_text=True)
    assert "喷管损坏或堵塞" in page and "notice unread" in page
    notice_id = re.search(r'action="/inbox/(\d+)"', page).group(1)

    opened = client.post(f"/inbox/{notice_id}", data={"csrf_token": csrf_token(page)})

    assert opened.headers["Location"].startswith("/actions/")
    assert "notice unread" not in client.get("/inbox").get_data(as_text=True)


def test_nobody_opens_another_persons_notice(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _failed_check(client, auth, session, clock)
    auth.login("keeper")
    page = client.get("/inbox").get_data(as_text=True)
    notice_id = re.search(r'action="/inbox/(\d+)"', page).group(1)
    client.post("/logout", data={"csrf_token": csrf_token(page)})
    auth.login("inspector")

    response = client.post(
        f"/inbox/{notice_id}",
        data={"csrf_token": csrf_token(client.get("/").get_data(as_text=True))},
    )

    assert response.status_code == 404


def test_an_administrator_opens_to_fix_on_all_of_their_schools_actions(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _failed_check(client, auth, session, clock)
    school = session.scalars(select(School)).one()
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "head")
    session.commit()
    auth.login("head")

    landing = client.get("/actions").get_data(as_text=True)
    own = client.get("/actions?all=0").get_data(as_text=True)

    assert "喷管损坏或堵塞" in landing
    assert "喷管损坏或堵塞" not in own
