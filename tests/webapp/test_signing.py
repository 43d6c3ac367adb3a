"""Who may sign what, on the web: the asset page, the form, the ledger, the checklist page."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.assets import AssetKind
from models.clock import SettableClock
from models.people import Role
from models.photos import PhotoStore
from models.records import Record
from tests.conftest import Auth, csrf_token
from tests.factories import (
    EXTINGUISHER_OK,
    distinct_jpeg,
    file_pre_trip_check,
    jpeg_bytes,
    make_asset,
    make_person,
    make_school,
)
from tests.webapp.helpers import open_form, submit_form

DEPARTURE = {"teacher_on_board": "yes", "children_boarded": "12", "seatbelts_on": "yes"}


def _count(session: Session, template_key: str = "extinguisher_monthly") -> int:
    session.rollback()
    count = (
        session.scalar(
            select(func.count()).select_from(Record).where(Record.template.has(key=template_key))
        )
        or 0
    )
    session.rollback()
    return count


def test_the_bus_page_offers_a_dormitory_worker_no_departure_and_the_form_refuses_her(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.DORM_STAFF, "dorm")
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车")
    file_pre_trip_check(session, clock, store, bus, teacher)
    token = bus.current_label.token
    session.commit()

    auth.login("dorm")
    page = client.get(f"/s/{token}").get_data(as_text=True)
    form = client.get(f"/s/{token}/record/bus_departure")
    posted = client.post(
        f"/s/{token}/record/bus_departure",
        data={**DEPARTURE, "csrf_token": csrf_token(page), "submission_key": "k" * 32},
    )

    assert "/record/bus_departure" not in page
    assert "校车发车确认" not in page
    assert "此设备的检查表都不由您的角色填写。" in page
    assert form.status_code == 403
    assert "“校车发车确认”由以下人员填写：教师。" in form.get_data(as_text=True)
    assert posted.status_code == 403
    assert _count(session, "bus_departure") == 0

    client.post("/logout", data={"csrf_token": csrf_token(page)})
    auth.login("teacher")
    assert "/record/bus_departure" in client.get(f"/s/{token}").get_data(as_text=True)
    filed = submit_form(client, token, "bus_departure", DEPARTURE)
    assert filed.status_code == 302


def test_back_then_submit_again_asks_keeps_the_answers_and_files_only_when_confirmed(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_person(session, clock, school)
    asset = make_asset(session, clock, school)
    token = asset.current_label.token
    session.commit()
    auth.login("inspector")
    first_form = open_form(client, token, "extinguisher_monthly")
    submit_form(client, token, "extinguisher_monthly", EXTINGUISHER_OK, {"photo": jpeg_bytes()})

    answers = {**EXTINGUISHER_OK, "hose_clear": "fail"}
    photo = {"photo": distinct_jpeg("again")}
    again = submit_form(client, token, "extinguisher_monthly", answers, photo, first_form)
    html = again.get_data(as_text=True)

    assert again.status_code == 422
    assert "已于 08:30 提交过本项检查，仍要再提交一次吗？" in html
    assert 'name="confirm_repeat" value="y"' in html
    assert 'name="hose_clear" value="fail" checked' in html
    assert "表单退回时不会保留照片，请重新拍照上传。" in html
    assert _count(session) == 1

    confirmed = {**answers, "confirm_repeat": "y"}
    filed = submit_form(client, token, "extinguisher_monthly", confirmed, photo, first_form)
    assert filed.status_code == 302
    assert _count(session) == 2


def test_a_reused_photo_shows_on_the_record_and_in_the_ledger(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_person(session, clock, school)
    first = make_asset(session, clock, school, code="MHQ-001")
    second = make_asset(session, clock, school, code="MHQ-002", name="二楼灭火器")
    session.commit()
    auth.login("inspector")
    photo = {"photo": jpeg_bytes()}
    earlier = submit_form(
        client, first.current_label.token, "extinguisher_monthly", EXTINGUISHER_OK, photo
    )
    later = submit_form(
        client, second.current_label.token, "extinguisher_monthly", EXTINGUISHER_OK, photo
    )
    earlier_id = int(earlier.headers["Location"].split("/records/")[1].split("?")[0])

    record_page = client.get(later.headers["Location"]).get_data(as_text=True)
    ledger = client.get("/ledger/S1").get_data(as_text=True)

    flag = f"与 2026-03-02 08:30 的记录 {earlier_id} 是同一张照片"
    assert flag in record_page
    # The ledger names the other record by its asset and time, as an inspector reads it.
    assert ledger.count("2026-03-02 08:30 的记录照片相同") == 1
    assert "MHQ-001" in ledger.split("的记录照片相同")[0].rsplit("与", 1)[1]


def test_a_district_administrator_chooses_who_files_a_checklist_and_a_school_one_cannot(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.DISTRICT_ADMIN, "district")
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "head")
    make_person(session, clock, school, Role.DORM_STAFF, "dorm")
    asset = make_asset(session, clock, school)
    session.commit()

    auth.login("head")
    page = client.get("/checklists/extinguisher_monthly").get_data(as_text=True)
    assert "安全检查员" in page and 'name="roles"' not in page
    refused = client.post(
        "/checklists/extinguisher_monthly/roles",
        data={"csrf_token": csrf_token(page), "roles": ["dorm_staff"]},
    )
    assert refused.status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(page)})

    auth.login("district")
    page = client.get("/checklists/extinguisher_monthly").get_data(as_text=True)
    empty = client.post(
        "/checklists/extinguisher_monthly/roles", data={"csrf_token": csrf_token(page)}
    )
    assert empty.status_code == 422 and "请至少选择一个角色。" in empty.get_data(as_text=True)
    saved = client.post(
        "/checklists/extinguisher_monthly/roles",
        data={"csrf_token": csrf_token(page), "roles": ["inspector", "dorm_staff"]},
    )
    assert saved.status_code == 302
    page = client.get("/checklists/extinguisher_monthly").get_data(as_text=True)
    assert "宿舍管理员、安全检查员" in page
    client.post("/logout", data={"csrf_token": csrf_token(page)})

    auth.login("dorm")
    filed = submit_form(
        client,
        asset.current_label.token,
        "extinguisher_monthly",
        EXTINGUISHER_OK,
        {"photo": jpeg_bytes()},
    )
    assert filed.status_code == 302
