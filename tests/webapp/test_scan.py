"""Scanning a label: log in, land on the asset, file a record."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.assets import AssetKind, issue_label
from models.clock import SettableClock
from models.duties import Task, open_task_keys
from models.notifications import Notification
from models.org import District
from models.people import Role
from models.photos import Photo
from models.records import Record
from models.sweep import sweep
from tests.conftest import Auth
from tests.factories import (
    EXTINGUISHER_OK,
    jpeg_bytes,
    make_asset,
    make_person,
    make_school,
    make_supplier,
)
from tests.webapp.helpers import KEY_RE, open_form, submit_form


def _setup(session: Session, clock: SettableClock):
    school = make_school(session)
    inspector = make_person(session, clock, school, phone="13800000007")
    asset = make_asset(session, clock, school, responsible=inspector)
    session.commit()
    return school, inspector, asset, asset.current_label.token


def _count(session: Session, model: type) -> int:
    """Rows now, read in a transaction of its own so the app is not kept waiting."""
    session.rollback()
    count = session.scalar(select(func.count()).select_from(model)) or 0
    session.rollback()
    return count


def test_a_scan_when_logged_out_offers_the_login_and_back_to_the_asset(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _, _, asset, token = _setup(session, clock)

    response = client.get(f"/s/{token}")
    assert response.status_code == 200
    login_link = re.search(r'href="(/login\?next=[^"]+)"', response.get_data(as_text=True))
    assert login_link is not None

    login_page = client.get(html.unescape(login_link.group(1))).get_data(as_text=True)
    assert "登录" in login_page
    from tests.conftest import csrf_token

    back = client.post(
        "/login",
        data={
            "csrf_token": csrf_token(login_page),
            "login": "138 0000 0007",
            "password": "secret-pass",
            "next": f"/s/{token}",
        },
    )
    assert back.headers["Location"] == f"/s/{token}"
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert asset.name in page
    assert "MHQ-001" in page
    assert "灭火器月度检查" in page
    assert "Inspector" in page  # the responsible person's name


def test_login_stays_for_90_days(client: FlaskClient, auth: Auth, session: Session, clock) -> None:
    _setup(session, clock)
    auth.login("inspector")

    cookie = client.get_cookie("remember_token")
    assert cookie is not None
    assert cookie.max_age is None or cookie.max_age >= 89 * 86400
    assert cookie.expires is not None


def test_an_unknown_or_revoked_label_is_a_friendly_404_that_names_nothing(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _, _, asset, token = _setup(session, clock)
    issue_label(session, asset, now=clock.now())
    session.commit()
    auth.login("inspector")

    for bad in (token, "A" * 32, "not-a-token"):
        response = client.get(f"/s/{bad}")
        html = response.get_data(as_text=True)
        assert response.status_code == 404
        assert "标签" in html
        assert asset.name not in html and "MHQ" not in html


def test_an_asset_of_another_school_looks_like_an_unknown_label(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _setup(session, clock)
    other = make_school(session, "S2", "第二中学")
    foreign = make_asset(session, clock, other, code="MHQ-999", name="别校灭火器")
    session.commit()
    auth.login("inspector")

    response = client.get(f"/s/{foreign.current_label.token}")

    assert response.status_code == 404
    assert "别校灭火器" not in response.get_data(as_text=True)


def test_filing_a_record_with_a_photo_shows_a_confirmation_and_lands_in_the_ledger(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _, _, _, token = _setup(session, clock)
    auth.login("inspector")

    response = submit_form(
        client, token, "extinguisher_monthly", EXTINGUISHER_OK, {"photo": jpeg_bytes()}
    )

    assert response.status_code == 302
    done = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已提交" in done
    ledger = client.get("/ledger/S1?kind=extinguisher").get_data(as_text=True)
    assert "MHQ-001" in ledger
    assert "/thumb.jpg" in ledger
    assert _count(session, Record) == 1


def test_a_double_tap_files_one_record(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _, _, _, token = _setup(session, clock)
    auth.login("inspector")
    form = open_form(client, token, "extinguisher_monthly")
    photo = {"photo": jpeg_bytes()}

    first = submit_form(client, token, "extinguisher_monthly", EXTINGUISHER_OK, photo, form)
    second = submit_form(client, token, "extinguisher_monthly", EXTINGUISHER_OK, photo, form)

    assert first.headers["Location"] == second.headers["Location"]
    assert _count(session, Record) == 1


def test_a_missing_answer_comes_back_next_to_the_field_and_keeps_the_others(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _, _, _, token = _setup(session, clock)
    auth.login("inspector")
    answers = {**EXTINGUISHER_OK}
    del answers["hose_clear"]

    response = submit_form(client, token, "extinguisher_monthly", answers, {"photo": jpeg_bytes()})

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    field = html.split('id="f-hose_clear"')[1].split("</fieldset>")[0]
    assert "此项必填" in field
    gauge = html.split('id="f-gauge_green"')[1].split("</fieldset>")[0]
    assert 'value="pass" checked' in gauge
    assert _count(session, Record) == 0


def test_a_file_that_is_not_an_image_comes_back_with_a_message_and_stores_nothing(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, settings
) -> None:
    _, _, _, token = _setup(session, clock)
    auth.login("inspector")

    response = submit_form(
        client, token, "extinguisher_monthly", EXTINGUISHER_OK, {"photo": b"MZ\x90\x00 an exe"}
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "不是可识别的照片" in html.split('id="f-photo"')[1]
    assert _count(session, Record) == 0
    assert _count(session, Photo) == 0
    from pathlib import Path

    data = Path(settings.storage.data_dir)
    assert not data.exists() or not any(p.is_file() for p in data.rglob("*"))


def test_a_photo_over_20_mb_comes_back_with_a_message(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _, _, _, token = _setup(session, clock)
    auth.login("inspector")

    response = submit_form(
        client,
        token,
        "extinguisher_monthly",
        EXTINGUISHER_OK,
        {"photo": b"\xff" * (21 * 1024 * 1024)},
    )

    assert response.status_code == 422
    assert "照片超过 20 MB" in response.get_data(as_text=True)
    assert _count(session, Record) == 0


def test_an_overloaded_bus_is_refused_with_the_seat_count_and_the_office_alerted(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.TEACHER, "teacher")
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车", seats=19)
    session.commit()
    auth.login("teacher")

    response = submit_form(
        client,
        bus.current_label.token,
        "bus_trip",
        {"teacher_on_board": "yes", "children_boarded": "23", "children_got_off": "23"},
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    field = html.split('id="f-children_boarded"')[1].split("</fieldset>")[0]
    assert "上车 23 人，但本车核载仅 19 座" in field
    assert "本车核载座位：19" in html
    assert _count(session, Record) == 0
    alerts = session.scalars(
        select(Notification).where(Notification.recipient_id == admin.id)
    ).all()
    assert [(n.severity, n.params["children"]) for n in alerts] == [("critical", 23)]


def test_a_delivery_from_a_supplier_not_approved_for_it_is_refused_next_to_the_supplier(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.CANTEEN_STAFF, "cook")
    canteen = make_asset(session, clock, school, AssetKind.CANTEEN, "ST-01", "学生食堂")
    butcher = make_supplier(session, clock, school, name="放心肉联厂", categories=("meat",))
    make_supplier(session, clock, make_school(session, code="S9"), name="外区粮油")
    session.commit()
    auth.login("cook")
    token = canteen.current_label.token

    form = client.get(f"/s/{token}/record/canteen_receiving_check").get_data(as_text=True)
    assert "放心肉联厂" in form
    assert "外区粮油" not in form

    answers = {
        "category": "vegetables",
        "supplier": str(butcher.id),
        "product": "小白菜",
        "specification": "散装",
        "quantity": "30 千克",
        "batch": "2026-03-02",
        "shelf_life": "3 天",
        "delivered_on": "2026-03-02",
        "certificate_seen": "yes",
        "quality_ok": "pass",
        "decision": "accepted",
    }
    response = submit_form(
        client, token, "canteen_receiving_check", answers, {"delivery_note": jpeg_bytes()}
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    field = html.split('id="f-supplier"')[1].split("</fieldset>")[0]
    assert "放心肉联厂未获准供应蔬菜" in field
    assert 'value="vegetables" checked' in html
    assert _count(session, Record) == 0
    assert _count(session, Photo) == 0


def test_a_post_without_csrf_token_saves_nothing_and_comes_back_filled_in(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _, _, _, token = _setup(session, clock)
    auth.login("inspector")

    response = client.post(
        f"/s/{token}/record/extinguisher_monthly",
        data=EXTINGUISHER_OK,
        headers={"Origin": "http://localhost"},
    )

    assert response.status_code == 303
    assert "?draft=" in response.headers["Location"]
    assert _count(session, Record) == 0


def test_english_is_one_tap_away(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _, _, _, token = _setup(session, clock)
    auth.login("inspector")
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert "English" in page
    from tests.conftest import csrf_token

    client.post(
        "/language", data={"csrf_token": csrf_token(page), "lang": "en", "next": f"/s/{token}"}
    )
    english = client.get(f"/s/{token}").get_data(as_text=True)

    assert "Extinguisher monthly inspection" in english
    assert "Responsible" in english
    assert "中文" in english


def test_sending_an_old_form_again_with_changed_answers_asks_to_confirm_it_as_new(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _, _, _, token = _setup(session, clock)
    auth.login("inspector")
    form = open_form(client, token, "extinguisher_monthly")
    photo = {"photo": jpeg_bytes()}
    submit_form(client, token, "extinguisher_monthly", EXTINGUISHER_OK, photo, form)

    changed = {**EXTINGUISHER_OK, "hose_clear": "fail"}
    again = submit_form(client, token, "extinguisher_monthly", changed, photo, form)

    html = again.get_data(as_text=True)
    assert again.status_code == 422
    assert "此表单已提交过" in html
    assert f'value="{form[1]}"' not in html  # a fresh key: sending it now files a new record
    assert _count(session, Record) == 1
    fresh = (form[0], KEY_RE.search(html)[1])
    resent = submit_form(client, token, "extinguisher_monthly", changed, photo, fresh)
    assert "仍要再提交一次吗" in resent.get_data(as_text=True)  # the same check, the same day
    confirmed = {**changed, "confirm_repeat": "y"}
    resent = submit_form(client, token, "extinguisher_monthly", confirmed, photo, fresh)
    assert resent.status_code == 302
    assert _count(session, Record) == 2


def test_the_form_says_when_the_asset_was_last_recorded(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _, _, _, token = _setup(session, clock)
    auth.login("inspector")
    submit_form(client, token, "extinguisher_monthly", EXTINGUISHER_OK, {"photo": jpeg_bytes()})

    page = client.get(f"/s/{token}/record/extinguisher_monthly").get_data(as_text=True)

    assert "上一条记录：03-02 08:30，Inspector。" in page


def test_a_failed_check_is_not_greeted_with_a_plain_thank_you(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.TEACHER, "teacher")
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车", seats=36)
    session.commit()
    auth.login("teacher")

    response = submit_form(
        client,
        bus.current_label.token,
        "bus_trip",
        {"teacher_on_board": "yes", "children_boarded": "30", "children_got_off": "29"},
    )

    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已提交，发现以下问题" in html
    assert "下车人数与上车人数不符" in html.split("已提交，发现以下问题")[1].split("</ul>")[0]
    assert "已提交，谢谢" not in html


def test_a_failed_item_is_named_by_its_failure_on_the_result_page(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _, _, _, token = _setup(session, clock)
    auth.login("inspector")

    response = submit_form(
        client,
        token,
        "extinguisher_monthly",
        {**EXTINGUISHER_OK, "gauge_green": "fail"},
        {"photo": jpeg_bytes()},
    )

    html = client.get(response.headers["Location"]).get_data(as_text=True)
    problems = html.split("已提交，发现以下问题")[1].split("</ul>")[0]
    assert "压力表指针不在绿区" in problems
    assert "压力表指针在绿区" not in problems


def test_reading_a_page_does_not_wait_for_someone_else_writing(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock, session_factory
) -> None:
    _, _, _, token = _setup(session, clock)
    auth.login("inspector")
    writer = session_factory()
    writer.add(District(code="BUSY", name="写入中"))
    writer.flush()  # holds SQLite's write lock until it ends

    try:
        assert client.get(f"/s/{token}").status_code == 200
        assert client.get("/ledger/S1").status_code == 200
    finally:
        writer.rollback()
        writer.close()


def _first_button(page: str) -> str:
    return page.split('<a class="btn" href="')[1].split('"')[0]


def test_a_form_names_the_last_record_of_its_own_checklist_only(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _, _, _, token = _setup(session, clock)
    auth.login("inspector")
    submit_form(client, token, "extinguisher_monthly", EXTINGUISHER_OK, {"photo": jpeg_bytes()})

    monthly = client.get(f"/s/{token}/record/extinguisher_monthly").get_data(as_text=True)
    annual = client.get(f"/s/{token}/record/extinguisher_annual_maintenance").get_data(as_text=True)

    assert "上一条记录：03-02 08:30" in monthly
    assert "上一条记录" not in annual


def test_the_asset_page_offers_the_checklist_that_is_due_first(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _, _, asset, token = _setup(session, clock)
    sweep(session, now=clock.now())
    session.commit()
    [first, *_] = open_task_keys(session, asset.id, now=clock.now())
    session.rollback()
    auth.login("inspector")

    page = client.get(f"/s/{token}").get_data(as_text=True)

    assert first == "extinguisher_monthly"
    assert _first_button(page) == f"/s/{token}/record/extinguisher_monthly"


def test_an_overdue_annual_maintenance_comes_before_the_monthly_check(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _, _, asset, token = _setup(session, clock)
    sweep(session, now=clock.now())
    annual = select(Task).where(
        Task.asset_id == asset.id,
        Task.current.is_(True),
        Task.template_key == "extinguisher_annual_maintenance",
    )
    for task in session.scalars(annual):
        task.opens_at = clock.now() - timedelta(days=30)
        task.due_at = clock.now() - timedelta(days=1)
    session.commit()
    auth.login("inspector")

    page = client.get(f"/s/{token}").get_data(as_text=True)

    assert _first_button(page) == f"/s/{token}/record/extinguisher_annual_maintenance"


def test_all_ok_marks_every_item_passed_keeps_the_note_and_saves_nothing(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _, _, _, token = _setup(session, clock)
    auth.login("inspector")
    csrf, key = open_form(client, token, "extinguisher_monthly")

    response = client.post(
        f"/s/{token}/record/extinguisher_monthly",
        data={
            "csrf_token": csrf,
            "submission_key": key,
            "hose_clear": "fail",
            "note": "新放的",
            "all_pass": "1",
        },
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    # Enter in a text field presses the form's first button: that must be Submit.
    assert page.index('<button class="btn" type="submit">') < page.index('name="all_pass"')
    for item in ("gauge_green", "pin_seal", "body_intact", "hose_clear", "accessible_signed"):
        assert f'name="{item}" value="pass" checked' in page
        assert f'name="{item}" value="fail" checked' not in page
    assert ">新放的</textarea>" in page and f'value="{key}"' in page
    assert _count(session, Record) == 0
    filed = submit_form(
        client, token, "extinguisher_monthly", EXTINGUISHER_OK, {"photo": jpeg_bytes()}, (csrf, key)
    )
    assert filed.status_code == 302 and _count(session, Record) == 1


def test_all_ok_answers_yes_no_items_with_their_expected_answer(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.INSPECTOR, "inspector")
    dispenser = make_asset(session, clock, school, AssetKind.WATER_DISPENSER, "YSJ-01", "饮水机")
    session.commit()
    auth.login("inspector")
    token = dispenser.current_label.token
    csrf, key = open_form(client, token, "water_dispenser_disinfection")

    page = client.post(
        f"/s/{token}/record/water_dispenser_disinfection",
        data={"csrf_token": csrf, "submission_key": key, "all_pass": "1"},
    ).get_data(as_text=True)

    for item in ("inner_cleaned", "outlet_cleaned", "bottle_in_date"):
        assert f'name="{item}" value="yes" checked' in page


def test_all_ok_leaves_the_escorts_own_statement_to_them_and_answers_each_cook_well(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "head")
    cook = make_person(session, clock, school, Role.CANTEEN_STAFF, "cook")
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车")
    canteen = make_asset(session, clock, school, AssetKind.CANTEEN, "ST-01", "食堂")
    session.commit()
    auth.login("head")

    def all_ok(token: str, key: str) -> str:
        csrf, submission = open_form(client, token, key)
        return client.post(
            f"/s/{token}/record/{key}",
            data={"csrf_token": csrf, "submission_key": submission, "all_pass": "1"},
        ).get_data(as_text=True)

    departure = all_ok(bus.current_label.token, "bus_departure")
    health = all_ok(canteen.current_label.token, "canteen_morning_health_check")

    assert 'name="seatbelts_on" value="yes" checked' in departure
    assert 'name="teacher_on_board" value="yes" checked' not in departure
    assert f'name="staff.{cook.id}.healthy" value="yes" checked' in health


def test_an_asset_attribute_value_shows_in_the_readers_language(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.INSPECTOR, "inspector")
    meter = make_asset(
        session, clock, school, AssetKind.METER, "DB-01", "总电表", meter_type="electricity"
    )
    session.commit()
    auth.login("inspector")
    token = meter.current_label.token

    chinese = client.get(f"/s/{token}").get_data(as_text=True)
    client.set_cookie("houqin_lang", "en")
    english = client.get(f"/s/{token}").get_data(as_text=True)

    assert "<dt>表计类型</dt><dd>电</dd>" in chinese and "electricity" not in chinese
    assert "<dd>Electricity</dd>" in english


def test_what_a_logged_in_person_sees_is_cached_by_no_one_but_their_own_browser(
    app, client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _, _, _, token = _setup(session, clock)
    stranger = client.get(f"/s/{token}")  # the public page of a label holds nothing private
    auth.login("inspector")
    response = submit_form(
        client, token, "extinguisher_monthly", EXTINGUISHER_OK, {"photo": jpeg_bytes()}
    )
    done = client.get(response.headers["Location"])
    thumb = re.search(r'src="(/photos/\d+/thumb\.jpg)"', done.get_data(as_text=True))

    assert "no-store" not in stranger.headers.get("Cache-Control", "")
    assert done.headers["Cache-Control"] == "private, no-store"
    assert client.get("/inbox").headers["Cache-Control"] == "private, no-store"
    assert thumb is not None
    served = client.get(thumb.group(1))
    photo = served.headers["Cache-Control"]
    served.close()
    assert "private" in photo and "public" not in photo
    assert "Strict-Transport-Security" not in done.headers  # served over plain HTTP here


def test_behind_https_browsers_are_told_to_come_back_only_over_https(
    settings, session_factory, clock: SettableClock
) -> None:
    from webapp import create_app

    settings.server.base_url = "https://houqin.example.edu.cn"
    secure = create_app(settings, session_factory=session_factory, clock=clock).test_client()

    page = secure.get("/login", base_url="https://houqin.example.edu.cn")

    assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "; Secure" in page.headers["Set-Cookie"]


def test_the_latest_records_show_newest_first_with_checklist_filer_result_and_photos(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _, _, _, token = _setup(session, clock)
    auth.login("inspector")
    passed = submit_form(
        client, token, "extinguisher_monthly", EXTINGUISHER_OK, {"photo": jpeg_bytes()}
    )
    clock.advance(timedelta(days=31))
    failing = {**EXTINGUISHER_OK, "hose_clear": "fail"}
    failed = submit_form(
        client, token, "extinguisher_monthly", failing, {"photo": jpeg_bytes((320, 240))}
    )
    assert passed.status_code == failed.status_code == 302
    session.rollback()
    first, second = session.scalars(select(Record).order_by(Record.submitted_at)).all()

    chinese = client.get(f"/s/{token}").get_data(as_text=True)
    latest = chinese[chinese.index("最近记录") :]
    newer, older = (latest.index(f'href="/records/{r.id}"') for r in (second, first))
    assert newer < older
    item = latest[newer:older]
    assert "不合格" in item and "灭火器月度检查 · Inspector" in item
    assert f"/photos/{second.photos[0].photo_id}/thumb.jpg" in item
    assert f"/photos/{first.photos[0].photo_id}/thumb.jpg" in latest[older:]
    client.set_cookie("houqin_lang", "en")
    english = client.get(f"/s/{token}").get_data(as_text=True)
    assert "Extinguisher monthly inspection · Inspector" in english


def test_a_form_says_when_and_by_whom_its_checklist_was_last_filed_here(
    client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    _, _, _, token = _setup(session, clock)
    auth.login("inspector")
    first = client.get(f"/s/{token}/record/extinguisher_monthly").get_data(as_text=True)
    filed_at = clock.now().astimezone(ZoneInfo("Asia/Shanghai"))
    filed = submit_form(
        client, token, "extinguisher_monthly", EXTINGUISHER_OK, {"photo": jpeg_bytes()}
    )
    clock.advance(timedelta(days=31, hours=2))
    again = client.get(f"/s/{token}/record/extinguisher_monthly").get_data(as_text=True)

    assert filed.status_code == 302
    assert "上一条记录" not in first
    assert f"上一条记录：{filed_at:%m-%d %H:%M}，Inspector。" in again
    assert f'href="{filed.headers["Location"].split("?")[0]}"' in again
