"""Running a school in the browser: assets, places, people, and importing a spreadsheet."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from models.assets import Asset, AssetKind, find_asset_by_token
from models.clock import SettableClock
from models.notifications import Severity, notify
from models.org import Location, School
from models.people import Person, Role, authenticate
from models.suppliers import Supplier
from settings import Settings
from tests.conftest import Auth, csrf_token
from tests.factories import make_asset, make_chat, make_person, make_school

ASSET_HEADER = "编号,名称,类型,楼栋,楼层,房间,责任人,座位数,车牌,司机"


@pytest.fixture
def app(app: Flask) -> Flask:
    """The app with the admin pages, until create_app registers them itself."""
    from webapp import admin

    if "admin" not in app.blueprints:
        app.register_blueprint(admin.bp)
    return app


@pytest.fixture
def school(session: Session, clock: SettableClock) -> School:
    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    make_person(session, clock, school, Role.TEACHER, "teacher", phone="13900000009")
    session.commit()
    return school


def _count(session: Session, entity: type) -> int:
    """Rows as the app left them; the read ends at once, so the app can write again."""
    session.expire_all()
    count = session.scalar(select(func.count()).select_from(entity))
    session.commit()
    return count


def _person(session: Session, username: str) -> Person:
    person = session.scalar(select(Person).where(Person.username == username))
    session.commit()
    return person


def _english(client: FlaskClient) -> None:
    """Pages in English, so tests read the same until the catalogue has the new texts."""
    page = client.get("/admin/S1").get_data(as_text=True)
    client.post("/language", data={"csrf_token": csrf_token(page), "lang": "en", "next": "/"})


def _as_admin(client: FlaskClient, auth: Auth) -> None:
    auth.login("admin")
    _english(client)


def _post(client: FlaskClient, url: str, data: dict[str, Any]) -> TestResponse:
    """Post a form the way the browser does: with the token from the page it came from."""
    page = client.get(url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token(page), **data})


def _upload(
    client: FlaskClient, kind: str, content: bytes, filename: str = "import.csv"
) -> TestResponse:
    page = client.get("/admin/S1/import").get_data(as_text=True)
    # Encoded here, in memory: werkzeug's own builder spools big bodies to a file it never closes.
    boundary, body = encode_multipart(
        {
            "csrf_token": csrf_token(page),
            "kind": kind,
            "file": FileStorage(io.BytesIO(content), filename),
        }
    )
    return client.post(
        "/admin/S1/import/preview",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def _confirm(client: FlaskClient, preview: str) -> TestResponse:
    fields = dict(re.findall(r'name="(kind|sha256)" type="hidden" value="([^"]*)"', preview))
    return client.post(
        "/admin/S1/import/confirm", data={"csrf_token": csrf_token(preview), **fields}
    )


# --- who may -----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["teacher", "other_admin"])
@pytest.mark.parametrize(
    "url",
    [
        "/admin/S1",
        "/admin/S1/assets",
        "/admin/S1/assets/new/bus",
        "/admin/S1/locations",
        "/admin/S1/people",
        "/admin/S1/people/new",
        "/admin/S1/import",
        "/admin/S1/import/assets.csv",
    ],
)
def test_everyone_but_the_schools_admins_gets_nothing_here(
    client: FlaskClient,
    auth: Auth,
    session: Session,
    clock: SettableClock,
    school: School,
    who: str,
    url: str,
) -> None:
    other = make_school(session, "S2", "第二中学")
    make_person(session, clock, other, Role.SCHOOL_ADMIN, "other_admin")
    session.commit()
    auth.login(who)

    assert client.get(url).status_code == 404


def test_posts_from_non_admins_change_nothing(
    client: FlaskClient, auth: Auth, session: Session, school: School
) -> None:
    auth.login("teacher")
    token = csrf_token(client.get("/inbox").get_data(as_text=True))

    admin = _person(session, "admin")
    posts = {
        "/admin/S1/assets/new/extinguisher": {"code": "MHQ-001", "name": "灭火器"},
        "/admin/S1/locations": {"building": "教学楼"},
        f"/admin/S1/people/{admin.id}": {"do": "password", "password": "taken-over!"},
        "/admin/S1/import/confirm": {"kind": "assets", "sha256": "0" * 64},
    }

    for url, data in posts.items():
        assert client.post(url, data={"csrf_token": token, **data}).status_code == 404, url
    assert _count(session, Asset) == 0 and _count(session, Location) == 0
    session.refresh(admin)
    assert admin.check_password("secret-pass")


def test_a_district_admin_manages_every_school_of_the_district(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, school: School
) -> None:
    make_person(session, clock, school, Role.DISTRICT_ADMIN, "district")
    make_school(session, "S2", "第二中学", district=school.district)
    session.commit()
    auth.login("district")

    assert client.get("/admin/S1/people").status_code == 200
    assert client.get("/admin/S2/assets").status_code == 200


def test_anonymous_visitors_are_sent_to_log_in(client: FlaskClient, school: School) -> None:
    response = client.get("/admin/S1/assets")

    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_every_post_needs_its_csrf_token(
    client: FlaskClient, auth: Auth, session: Session, school: School
) -> None:
    teacher = _person(session, "teacher")
    _as_admin(client, auth)
    posts = {
        "/admin/S1/assets/new/extinguisher": {"code": "MHQ-001", "name": "灭火器"},
        "/admin/S1/locations": {"building": "教学楼"},
        "/admin/S1/people/new": {"username": "x", "display_name": "X", "role": "teacher"},
        f"/admin/S1/people/{teacher.id}": {"do": "deactivate"},
        "/admin/S1/import/confirm": {"kind": "assets", "sha256": "0" * 64},
    }

    for url, data in posts.items():
        assert client.post(url, data=data).status_code == 400, url
    preview = client.post(
        "/admin/S1/import/preview",
        data={"kind": "assets", "file": FileStorage(io.BytesIO(b"code\r\n"), "a.csv")},
        content_type="multipart/form-data",
    )

    assert preview.status_code == 400
    assert _count(session, Asset) == 0 and _count(session, Location) == 0
    assert _count(session, Person) == 2
    assert _person(session, "teacher").active


# --- assets and places --------------------------------------------------------------------


def test_an_admin_adds_a_bus_which_gets_its_label(
    client: FlaskClient, auth: Auth, session: Session, school: School
) -> None:
    _as_admin(client, auth)
    _post(client, "/admin/S1/locations", {"building": "校车停车场"})
    place = session.scalar(select(Location))
    teacher = _person(session, "teacher")

    response = _post(
        client,
        "/admin/S1/assets/new/bus",
        {
            "code": "XC-01",
            "name": "1号校车",
            "location": str(place.id),
            "responsible": str(teacher.id),
            "plate": "辽A·12345",
            "seats": "19",
            "driver": "马师傅",
        },
    )

    assert response.status_code == 302
    bus = session.scalar(select(Asset).where(Asset.code == "XC-01"))
    assert bus.attributes == {"plate": "辽A·12345", "seats": 19, "driver": "马师傅"}
    assert find_asset_by_token(session, bus.current_label.token) is bus
    listing = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "XC-01" in listing and "Label issued" in listing and "校车停车场" in listing


def test_a_taken_code_and_a_bad_seat_count_come_back_next_to_their_fields(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, school: School
) -> None:
    make_asset(session, clock, school, AssetKind.BUS, code="XC-01")
    session.commit()
    _as_admin(client, auth)

    response = _post(
        client, "/admin/S1/assets/new/bus", {"code": "XC-01", "name": "又一辆", "seats": "0"}
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The code XC-01 is already used at this school." in page
    assert "Enter a whole number greater than zero." in page
    assert 'value="又一辆"' in page
    assert _count(session, Asset) == 1


def test_an_admin_edits_an_asset_but_not_its_code(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, school: School
) -> None:
    asset = make_asset(session, clock, school, agent="ABC干粉")
    session.commit()
    _as_admin(client, auth)
    url = f"/admin/S1/assets/{asset.id}"
    assert "ABC干粉" in client.get(url).get_data(as_text=True)

    response = _post(
        client, url, {"code": "HACKED", "name": "二楼灭火器", "agent": "CO2", "capacity_kg": "3"}
    )

    assert response.status_code == 302
    session.expire_all()
    assert (asset.code, asset.name) == ("MHQ-001", "二楼灭火器")
    assert asset.attributes == {"agent": "CO2", "capacity_kg": 3}


def test_an_asset_of_another_school_cannot_be_edited_through_this_one(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, school: School
) -> None:
    other = make_school(session, "S2", "第二中学")
    asset = make_asset(session, clock, other)
    session.commit()
    _as_admin(client, auth)

    assert client.get(f"/admin/S1/assets/{asset.id}").status_code == 404


def test_a_place_listed_twice_is_refused(
    client: FlaskClient, auth: Auth, session: Session, school: School
) -> None:
    _as_admin(client, auth)
    _post(client, "/admin/S1/locations", {"building": "教学楼", "floor": "1层"})

    again = _post(client, "/admin/S1/locations", {"building": "教学楼", "floor": "1层"})

    assert again.status_code == 422
    assert "This place is already listed at this school." in again.get_data(as_text=True)
    assert _count(session, Location) == 1


# --- people -------------------------------------------------------------------------------


def test_an_admin_adds_a_person_who_then_logs_in(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, school: School
) -> None:
    _as_admin(client, auth)

    response = _post(
        client,
        "/admin/S1/people/new",
        {
            "username": "wang",
            "display_name": "王师傅",
            "phone": "138 0000 0002",
            "password": "initial-pass",
            "role": "canteen_staff",
        },
    )

    assert response.status_code == 302
    listing = client.get("/admin/S1/people").get_data(as_text=True)
    assert "王师傅" in listing and "13800000002" in listing
    assert authenticate(session, "13800000002", "initial-pass", now=clock.now()) is not None


def test_a_school_admin_is_not_offered_and_cannot_grant_district_admin(
    client: FlaskClient, auth: Auth, session: Session, school: School
) -> None:
    _as_admin(client, auth)
    form = client.get("/admin/S1/people/new").get_data(as_text=True)

    response = _post(
        client,
        "/admin/S1/people/new",
        {
            "username": "boss",
            "display_name": "Boss",
            "password": "initial-pass",
            "role": "district_admin",
        },
    )

    assert 'value="district_admin"' not in form
    assert response.status_code == 422
    assert "Only district administrators can grant this role." in response.get_data(as_text=True)
    assert _count(session, Person) == 2


def test_roles_logins_and_passwords_from_the_person_page(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, school: School
) -> None:
    teacher = _person(session, "teacher")
    _as_admin(client, auth)
    url = f"/admin/S1/people/{teacher.id}"

    assert _post(client, url, {"do": "grant", "role": "inspector"}).status_code == 302
    assert _post(client, url, {"do": "revoke", "role": "teacher"}).status_code == 302
    short = _post(client, url, {"do": "password", "password": "short"})
    assert _post(client, url, {"do": "password", "password": "brand-new-pass"}).status_code == 302
    assert _post(client, url, {"do": "deactivate"}).status_code == 302

    assert short.status_code == 422
    assert "A password needs at least 8 characters." in short.get_data(as_text=True)
    session.expire_all()
    assert [g.role for g in teacher.grants] == [Role.INSPECTOR]
    assert not teacher.active
    assert "Login off" in client.get("/admin/S1/people").get_data(as_text=True)
    teacher.active = True
    assert authenticate(session, "teacher", "brand-new-pass", now=clock.now()) is teacher


def test_an_admin_cannot_switch_off_their_own_login(
    client: FlaskClient, auth: Auth, session: Session, school: School
) -> None:
    admin = _person(session, "admin")
    _as_admin(client, auth)

    response = _post(client, f"/admin/S1/people/{admin.id}", {"do": "deactivate"})

    assert response.status_code == 422
    assert "You cannot switch off your own login." in response.get_data(as_text=True)
    session.expire_all()
    assert admin.active


# --- import -------------------------------------------------------------------------------


def test_a_preview_shows_every_refused_row_and_why_and_stores_nothing(
    client: FlaskClient, auth: Auth, session: Session, school: School, settings: Settings
) -> None:
    _as_admin(client, auth)
    content = "\r\n".join(
        [
            ASSET_HEADER,
            "XC-01,1号校车,校车,停车场,,,teacher,19,辽A·1,马师傅",
            "XC-01,2号校车,校车,停车场,,,,36,,",
            "MHQ-001,灭火器,火箭,,,,,,,",
        ]
    ).encode("utf-8-sig")

    response = _upload(client, "assets", content)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Row 3" in page and "XC-01 is also on row 2." in page
    assert "Row 4" in page and "Unknown kind 火箭." in page
    assert "Fix or remove the refused rows in the file" in page
    assert 'action="/admin/S1/import/confirm"' not in page
    assert _count(session, Asset) == 0 and _count(session, Location) == 0
    assert not (Path(settings.storage.data_dir) / "imports").exists()  # nothing kept either


def test_the_fixed_file_is_confirmed_and_every_asset_gets_its_label(
    client: FlaskClient, auth: Auth, session: Session, school: School
) -> None:
    _as_admin(client, auth)
    content = "\r\n".join(
        [
            ASSET_HEADER,
            "XC-01,1号校车,校车,停车场,,,teacher,19,辽A·1,马师傅",
            "XC-02,2号校车,校车,停车场,,,13900000009,36,,",
        ]
    ).encode("gb18030")

    preview = _upload(client, "assets", content).get_data(as_text=True)
    assert _count(session, Asset) == 0
    done = _confirm(client, preview)

    assert done.status_code == 302
    assert "Imported 2 rows." in client.get(done.headers["Location"]).get_data(as_text=True)
    buses = list(session.scalars(select(Asset).order_by(Asset.code)))
    assert [b.code for b in buses] == ["XC-01", "XC-02"]
    assert all(find_asset_by_token(session, b.current_label.token) is b for b in buses)
    assert buses[0].location is buses[1].location
    session.commit()
    assert _confirm(client, preview).status_code == 422  # the kept file is gone


def test_an_xlsx_file_of_people_is_imported(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, school: School
) -> None:
    book = openpyxl.Workbook()
    book.active.append(["用户名", "姓名", "手机", "角色", "初始密码"])
    book.active.append(["wang", "王师傅", 13800000002, "食堂从业人员", "initial-pass"])
    out = io.BytesIO()
    book.save(out)
    _as_admin(client, auth)

    preview = _upload(client, "people", out.getvalue(), "people.xlsx").get_data(as_text=True)
    done = _confirm(client, preview)

    assert done.status_code == 302
    assert authenticate(session, "13800000002", "initial-pass", now=clock.now()) is not None


def test_a_row_refused_between_preview_and_confirm_imports_nothing(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, school: School
) -> None:
    _as_admin(client, auth)
    content = "\r\n".join(
        [ASSET_HEADER, "XC-01,1号校车,校车,停车场,,,,19,,", "XC-02,2号校车,校车,停车场,,,,36,,"]
    ).encode()
    preview = _upload(client, "assets", content).get_data(as_text=True)
    make_asset(session, clock, school, AssetKind.BUS, code="XC-02")
    session.commit()

    response = _confirm(client, preview)

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nothing was imported: the file has refused rows (1)." in page
    assert "The code XC-02 is already used at this school." in page
    assert [a.code for a in session.scalars(select(Asset))] == ["XC-02"]


def test_a_forged_or_unknown_file_hash_imports_nothing(
    client: FlaskClient, auth: Auth, session: Session, school: School
) -> None:
    _as_admin(client, auth)
    token = csrf_token(client.get("/admin/S1/import").get_data(as_text=True))

    for sha256 in ["0" * 64, "../../houqin.db", ""]:
        response = client.post(
            "/admin/S1/import/confirm",
            data={"csrf_token": token, "kind": "assets", "sha256": sha256},
        )
        assert response.status_code == 422
        assert "Upload it again." in response.get_data(as_text=True)


def test_files_that_cannot_be_read_are_refused_on_the_upload_page(
    client: FlaskClient, auth: Auth, school: School
) -> None:
    _as_admin(client, auth)

    old_excel = _upload(client, "assets", b"\xd0\xcf\x11\xe0" + b"\x00" * 64, "old.xls")
    missing = _upload(client, "assets", "编号,名称\r\nA,B\r\n".encode(), "a.csv")
    too_big = _upload(client, "assets", b"x" * (5 * 1024 * 1024 + 1), "big.csv")

    assert old_excel.status_code == missing.status_code == too_big.status_code == 422
    assert "save it as .xlsx first" in old_excel.get_data(as_text=True)
    assert "Columns missing: 类型." in missing.get_data(as_text=True)
    assert "at most 5 MB" in too_big.get_data(as_text=True)


def test_a_district_admin_imports_suppliers_from_the_supplier_register(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, school: School
) -> None:
    make_person(session, clock, school, Role.DISTRICT_ADMIN, "district")
    session.commit()
    auth.login("district")
    register = client.get("/registers/S1?tab=suppliers").get_data(as_text=True)
    assert 'href="/admin/S1/import?kind=suppliers"' in register
    page = client.get("/admin/S1/import?kind=suppliers").get_data(as_text=True)
    assert 'value="suppliers" checked' in page

    content = "名称,准入品类,指定品牌\r\n放心肉联厂,肉类,放心牌\r\n".encode("utf-8-sig")
    preview = _upload(client, "suppliers", content).get_data(as_text=True)
    done = _confirm(client, preview)

    assert done.headers["Location"] == "/registers/S1?tab=suppliers"
    assert "放心肉联厂" in client.get("/registers/S1?tab=suppliers&category=meat").get_data(
        as_text=True
    )


def test_a_school_admin_is_not_offered_supplier_import_and_cannot_post_one(
    client: FlaskClient, auth: Auth, session: Session, school: School
) -> None:
    auth.login("admin")

    assert 'value="suppliers"' not in client.get("/admin/S1/import").get_data(as_text=True)
    assert client.get("/admin/S1/import/suppliers.csv").status_code == 404
    response = _upload(client, "suppliers", "名称,准入品类\r\n好味调料厂,酱油\r\n".encode())

    assert response.status_code == 422
    assert _count(session, Supplier) == 0


def test_the_template_has_the_chinese_headers_for_excel(
    client: FlaskClient, auth: Auth, school: School
) -> None:
    _as_admin(client, auth)

    response = client.get("/admin/S1/import/people.csv")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.data == "用户名,姓名,手机,角色,初始密码\r\n".encode("utf-8-sig")


def test_the_district_sets_the_schools_position_with_bad_values_named_by_their_fields(
    client: FlaskClient, auth: Auth, school: School, session: Session, clock: SettableClock
) -> None:
    from tests.factories import make_district_admin

    make_district_admin(session, clock, school)
    session.commit()
    auth.login("admin")
    own = client.get(f"/admin/{school.code}").get_data(as_text=True)
    assert 'name="radius_m"' not in own
    client.post("/logout", data={"csrf_token": csrf_token(own)})
    auth.login("district")

    home = client.get(f"/admin/{school.code}").get_data(as_text=True)
    url = f"/admin/{school.code}/position"
    bad = client.post(
        url,
        data={
            "csrf_token": csrf_token(home),
            "latitude": "123",
            "longitude": "abc",
            "radius_m": "10",
        },
    )
    saved = client.post(
        url,
        data={
            "csrf_token": csrf_token(home),
            "latitude": "31.2304",
            "longitude": "121.4737",
            "radius_m": "500",
        },
    )
    after = client.get(f"/admin/{school.code}").get_data(as_text=True)
    session.expire_all()
    kept = session.get(School, school.id)

    assert "学校位置" in home and 'value="300"' in home
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert "请填写 -90 到 90 之间的纬度。" in page and "请填写 -180 到 180 之间的经度。" in page
    assert "请填写 50 到 5000 之间的整数半径（米）。" in page and 'value="abc"' in page
    assert saved.status_code == 302
    assert kept is not None and (kept.latitude, kept.longitude, kept.radius_m) == (
        31.2304,
        121.4737,
        500,
    )
    assert 'value="31.2304"' in after and 'value="500"' in after


def test_switching_a_login_off_says_how_many_queued_notices_will_not_be_sent(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, school: School
) -> None:
    teacher = _person(session, "teacher")
    make_chat(session, teacher, 8801, clock.now())
    for n in range(2):
        notify(
            session,
            [teacher],
            message="Due soon: %(tasks)s",
            params={"tasks": f"#{n}"},
            severity=Severity.INFO,
            dedup_key=f"due:{n}",
            now=clock.now(),
        )
    session.commit()
    _as_admin(client, auth)

    switched = _post(client, f"/admin/S1/people/{teacher.id}", {"do": "deactivate"})

    page = client.get(switched.headers["Location"]).get_data(as_text=True)
    assert "Login switched off: 2 notices still queued for them will not be sent." in page
