"""The ledger and its photos, seen only by the people who may see them."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models.clock import SettableClock
from models.org import School
from models.people import Role
from models.records import Channel, Upload, submit_record
from settings import Settings
from tests.conftest import Auth
from tests.factories import (
    EXTINGUISHER_OK,
    distinct_jpeg,
    file_check,
    jpeg_bytes,
    make_asset,
    make_person,
    make_school,
    template_for,
)
from tests.webapp.helpers import submit_form
from webapp import create_app


def _filed(client: FlaskClient, auth: Auth, session: Session, clock: SettableClock) -> str:
    """An inspector at S1 files one check with a photo; returns the record page's HTML."""
    school = make_school(session, "S1")
    make_school(session, "S2", "第二中学", district=school.district)
    make_person(session, clock, school)
    asset = make_asset(session, clock, school)
    session.commit()
    auth.login("inspector")
    response = submit_form(
        client,
        asset.current_label.token,
        "extinguisher_monthly",
        EXTINGUISHER_OK,
        {"photo": jpeg_bytes((3000, 2000))},
    )
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    client.post(
        "/logout",
        data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)},
    )
    return html


def _photo_urls(html: str) -> tuple[str, str]:
    full = re.search(r'href="(/photos/\d+\.jpg)"', html).group(1)
    thumb = re.search(r'src="(/photos/\d+/thumb\.jpg)"', html).group(1)
    return full, thumb


def test_the_ledger_shows_a_thumbnail_and_a_tap_opens_the_full_photo(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    html = _filed(client, auth, session, clock)
    full, thumb = _photo_urls(html)
    auth.login("inspector")

    small = client.get(thumb, buffered=True)
    large = client.get(full, buffered=True)

    assert small.mimetype == large.mimetype == "image/jpeg"
    assert len(small.data) < 8 * 1024
    assert max(Image.open(io.BytesIO(large.data)).size) == 1600
    assert "private" in small.headers["Cache-Control"]


def test_photos_are_hidden_from_other_schools_and_from_strangers(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    html = _filed(client, auth, session, clock)
    full, thumb = _photo_urls(html)
    other = session.scalar(select(School).where(School.code == "S2"))
    make_person(session, clock, other, Role.SCHOOL_ADMIN, "other-admin")
    session.commit()

    assert client.get(full).status_code == 302  # logged out: to the login page
    auth.login("other-admin")
    assert client.get(full).status_code == 404
    assert client.get(thumb).status_code == 404
    assert client.get("/ledger/S1").status_code == 404
    assert client.get("/records/1").status_code == 404


def test_a_district_admin_reads_every_school_ledger(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _filed(client, auth, session, clock)
    school = session.scalar(select(School).where(School.code == "S2"))
    make_person(session, clock, school, Role.DISTRICT_ADMIN, "district")
    session.commit()
    auth.login("district")

    home = client.get("/").get_data(as_text=True)
    ledger = client.get("/ledger/S1?kind=extinguisher").get_data(as_text=True)

    assert "实验小学" in home and "第二中学" in home
    assert "MHQ-001" in ledger
    assert "/thumb.jpg" in ledger


def test_the_ledger_pages_through_many_records(
    app: Flask, client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    inspector = make_person(session, clock, school)
    asset = make_asset(session, clock, school)
    template = template_for(session, "extinguisher_monthly")
    store = app.extensions["houqin.photos"]
    for n in range(60):
        clock.advance(timedelta(hours=1))
        submit_record(
            session,
            actor=inspector,
            asset=asset,
            template=template,
            answers=EXTINGUISHER_OK,
            uploads=[Upload("photo", distinct_jpeg(f"bulk-{n}", (200, 150)))],
            key=f"bulk-{n:04d}",
            channel=Channel.WEB,
            clock=clock,
            store=store,
            repeat_confirmed=True,  # a history of checks, as if each had been meant
        )
    session.commit()
    auth.login("inspector")

    first = client.get("/ledger/S1").get_data(as_text=True)
    second = client.get("/ledger/S1?page=2").get_data(as_text=True)

    assert "共 60 条记录" in first
    assert first.count("/records/") == 50
    assert second.count("/records/") == 10
    assert "1 / 2" in first


def test_photos_show_when_the_data_folder_is_a_relative_path(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    session: Session,
) -> None:
    monkeypatch.chdir(tmp_path)
    settings.storage.data_dir = "var/data"
    app = create_app(settings, session_factory=session_factory, clock=clock)
    client = app.test_client()
    html = _filed(client, Auth(client), session, clock)
    full, thumb = _photo_urls(html)
    Auth(client).login("inspector")

    assert client.get(thumb, buffered=True).status_code == 200
    assert client.get(full, buffered=True).status_code == 200
    assert any((tmp_path / "var" / "data").rglob("*.jpg"))


def test_the_record_page_says_when_its_photo_was_taken_long_before_or_has_no_time(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session, "S1")
    make_person(session, clock, school)
    old = make_asset(session, clock, school)
    untimed = make_asset(session, clock, school, code="MHQ-002", name="二楼西侧灭火器")
    session.commit()
    auth.login("inspector")
    taken = (clock.now() - timedelta(hours=3)).isoformat()

    pages = []
    for asset, more in ((old, {"photo__taken_at": taken}), (untimed, {})):
        response = submit_form(
            client,
            asset.current_label.token,
            "extinguisher_monthly",
            {**EXTINGUISHER_OK, **more},
            {"photo": jpeg_bytes((300, 200))},
        )
        pages.append(client.get(response.headers["Location"]).get_data(as_text=True))

    assert re.search(r"照片拍摄于 3 小时前（\d\d:\d\d）", pages[0])
    assert "照片没有拍摄时间（可能来自相册或截图）" in pages[1]
    assert "照片没有拍摄时间" not in pages[0]


def test_the_record_page_says_the_same_label_was_filed_a_moment_ago_with_other_answers(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session, "S1")
    make_person(session, clock, school)
    asset = make_asset(session, clock, school)
    session.commit()
    auth.login("inspector")

    pages = []
    for answers in ({**EXTINGUISHER_OK, "gauge_green": "fail"}, EXTINGUISHER_OK):
        response = submit_form(
            client,
            asset.current_label.token,
            "extinguisher_monthly",
            answers,
            {"photo": jpeg_bytes((300, 200), color="red" if pages else "blue")},
        )
        pages.append(client.get(response.headers["Location"]).get_data(as_text=True))
        clock.advance(timedelta(seconds=20))

    assert "提交过不同的答案" not in pages[0]
    assert re.search(r"同一人 20 秒前在此标签提交过不同的答案（\d\d:\d\d:\d\d）", pages[1])


def test_the_record_page_shows_the_time_and_walk_since_the_same_persons_previous_record(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session, "S1")
    make_person(session, clock, school)
    first = make_asset(session, clock, school)
    upstairs = make_asset(session, clock, school, code="MHQ-002", name="二楼西侧灭火器")
    assert upstairs.location is not None
    upstairs.location.floor = "2层"
    session.commit()
    auth.login("inspector")

    pages = []
    for n, asset in enumerate((first, upstairs)):
        response = submit_form(
            client,
            asset.current_label.token,
            "extinguisher_monthly",
            EXTINGUISHER_OK,
            {"photo": jpeg_bytes((300, 200), color=("red", "blue")[n])},
        )
        pages.append(client.get(response.headers["Location"]).get_data(as_text=True))
        clock.advance(timedelta(seconds=45))

    assert 'id="previous"' not in pages[0]
    assert "45 秒前，在一楼东侧灭火器 MHQ-001（不同楼层）" in pages[1]
    assert "距同一人上一条记录（一楼东侧灭火器 MHQ-001，不同楼层）仅 45 秒" in pages[1]


def test_the_phone_time_shows_beside_the_servers_when_they_differ_by_minutes(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session, "S1")
    make_person(session, clock, school)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    kept = make_asset(session, clock, school)
    live = make_asset(session, clock, school, code="MHQ-002", name="二楼西侧灭火器")
    session.commit()
    auth.login("inspector")
    form_page = client.get(f"/s/{kept.current_label.token}/record/extinguisher_monthly")

    pages = []
    for n, (asset, ago) in enumerate(((kept, timedelta(hours=2)), (live, timedelta(minutes=3)))):
        response = submit_form(
            client,
            asset.current_label.token,
            "extinguisher_monthly",
            {**EXTINGUISHER_OK, "phone_time": (clock.now() - ago).isoformat()},
            {"photo": jpeg_bytes((300, 200), color=("red", "blue")[n])},
        )
        pages.append(client.get(response.headers["Location"]).get_data(as_text=True))
    client.post(
        "/logout",
        data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', pages[1]).group(1)},
    )
    auth.login("admin")
    ledger = client.get("/ledger/S1").get_data(as_text=True)
    sheet = load_workbook(io.BytesIO(client.get("/ledger/S1/excel").data)).worksheets[0]

    assert 'name="phone_time"' in form_page.get_data(as_text=True)
    assert 'id="phone-time"' in pages[0] and "手机上的时间" in pages[0]
    assert 'id="phone-time"' not in pages[1]  # three minutes apart: one time is enough
    assert ledger.count("手机时间：") == 1
    # The workbook has the phone's time beside the server's, as a date Excel sorts by.
    assert [c.value for c in sheet[2]][:2] == ["日期时间", "手机上的时间"]
    rows = list(sheet.iter_rows(min_row=3, max_col=2, values_only=True))
    assert [phone for _, phone in rows] == [rows[0][0] - timedelta(hours=2), None]
    assert sheet["B3"].number_format == "yyyy-mm-dd hh:mm"


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_an_administrator_marks_a_flag_explained_and_sees_flags_per_person(
    app: Flask, client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    store = app.extensions["houqin.photos"]
    school = make_school(session, "S1")
    desk = make_person(session, clock, school, username="desk")
    other = make_person(session, clock, school, username="other")
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    first = make_asset(session, clock, school)
    second = make_asset(session, clock, school, code="MHQ-002", name="二楼西侧灭火器")
    for person, prefix in ((desk, "desk"), (other, "other")):
        file_check(session, clock, store, person, first, f"{prefix}-0001")
        clock.advance(timedelta(seconds=5))
        quick = file_check(session, clock, store, person, second, f"{prefix}-0002")
        clock.advance(timedelta(minutes=5))
    session.commit()

    auth.login("desk")
    own = client.get(f"/records/{quick.id - 2}")
    refused = client.post(
        f"/records/{quick.id - 2}",
        data={"csrf_token": _csrf(own.get_data(as_text=True)), "note": "我"},
    )
    client.post("/logout", data={"csrf_token": _csrf(own.get_data(as_text=True))})
    auth.login("admin")
    page = client.get(f"/records/{quick.id}").get_data(as_text=True)
    blank = client.post(f"/records/{quick.id}", data={"csrf_token": _csrf(page), "note": " "})
    done = client.post(
        f"/records/{quick.id}", data={"csrf_token": _csrf(page), "note": "柱子两侧各一个"}
    )
    explained = client.get(done.headers["Location"]).get_data(as_text=True)
    per_person = client.get(f"/ledger/S1?flagged=1&person={other.id}").get_data(as_text=True)

    assert "标为已说明" not in own.get_data(as_text=True) and refused.status_code == 403
    assert "标为已说明" in page
    assert blank.status_code == 422 and 'id="note-error"' in blank.get_data(as_text=True)
    assert "仅 5 秒" in explained and "已说明：柱子两侧各一个（Admin，" in explained
    assert "共 1 条记录" in per_person and "已说明：柱子两侧各一个" in per_person


def test_the_record_keeps_the_phones_location_and_flags_one_far_from_the_school(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session, "S1")
    school.latitude, school.longitude = 31.2304, 121.4737
    make_person(session, clock, school)
    assets = [
        make_asset(session, clock, school, code=f"MHQ-00{n}", name=f"灭火器{n}") for n in (1, 2, 3)
    ]
    session.commit()
    auth.login("inspector")
    form_page = client.get(f"/s/{assets[0].current_label.token}/record/extinguisher_monthly")

    given = (
        {"lat": str(31.2304 + 120 / 111_195), "lon": "121.4737", "accuracy_m": "15"},
        {"lat": str(31.2304 + 2300 / 111_195), "lon": "121.4737", "accuracy_m": "20"},
        {"lat": "north", "lon": "999", "accuracy_m": "-3"},  # junk: kept without a location
    )
    pages = []
    for n, (asset, location) in enumerate(zip(assets, given, strict=True)):
        response = submit_form(
            client,
            asset.current_label.token,
            "extinguisher_monthly",
            {**EXTINGUISHER_OK, **location},
            {"photo": jpeg_bytes((300, 200), color=("red", "blue", "green")[n])},
        )
        assert response.status_code == 302
        pages.append(client.get(response.headers["Location"]).get_data(as_text=True))
        clock.advance(timedelta(minutes=5))

    assert 'name="lat"' in form_page.get_data(as_text=True)
    assert "距学校约 120 米（精度 15 米）" in pages[0] and "提交位置" not in pages[0]
    assert "距学校约 2.3 公里（精度 20 米）" in pages[1]
    assert "提交位置距学校约 2.3 公里" in pages[1]
    assert 'id="location"' not in pages[2] and "提交位置" not in pages[2]
