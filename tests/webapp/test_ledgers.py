"""The ledger on screen, as Excel, printed and as PDF: the same records, for those who may
see them; the files are read back as an inspector's software would."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from pdfminer.high_level import extract_text
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.actions import CorrectiveAction, close_action
from models.assets import AssetKind
from models.clock import SettableClock
from models.people import Role
from models.photos import process_photo
from tests.conftest import Auth
from tests.factories import (
    EXTINGUISHER_OK,
    distinct_jpeg,
    file_check,
    make_asset,
    make_certificate,
    make_district_admin,
    make_person,
    make_school,
)

DISPENSER_OK = {"inner_cleaned": "yes", "outlet_cleaned": "yes", "bottle_in_date": "yes"}


@pytest.fixture
def world(app: Flask, session: Session, clock: SettableClock) -> dict[str, int]:
    """S1: a passed extinguisher check with a photo, a failed one fixed the next day and a
    dispenser disinfection; S2: one check of its own."""
    store = app.extensions["houqin.photos"]
    school = make_school(session, "S1")
    other = make_school(session, "S2", "第二中学", district=school.district)
    inspector = make_person(session, clock, school)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    make_person(session, clock, other, Role.SCHOOL_ADMIN, "outsider")
    make_district_admin(session, clock, school)
    stranger = make_person(session, clock, other, username="stranger")
    first = make_asset(session, clock, school)
    second = make_asset(session, clock, school, code="MHQ-002", name="二楼西侧灭火器")
    dispenser = make_asset(session, clock, school, AssetKind.WATER_DISPENSER, "YSJ-01", "饮水机")
    theirs = make_asset(session, clock, other, code="MHQ-901", name="食堂灭火器")
    passed = file_check(session, clock, store, inspector, first, "w-pass-0001")
    clock.advance(timedelta(hours=1))
    failed = file_check(
        session,
        clock,
        store,
        inspector,
        second,
        "w-fail-0001",
        {**EXTINGUISHER_OK, "gauge_green": "fail"},
    )
    file_check(
        session,
        clock,
        store,
        inspector,
        dispenser,
        "w-disp-0001",
        DISPENSER_OK,
        "water_dispenser_disinfection",
    )
    file_check(session, clock, store, stranger, theirs, "w-other-001")
    action = session.scalars(
        select(CorrectiveAction).where(CorrectiveAction.record_id == failed.id)
    ).one()
    clock.advance(timedelta(days=1))
    close_action(
        session,
        action,
        actor=admin,
        note="更换灭火器",
        photo=process_photo(distinct_jpeg("f")),
        store=store,
        now=clock.now(),
    )
    session.commit()
    return {"passed": passed.id, "photo": passed.photos[0].photo_id}


MARCH = "period=month&on=2026-03-02"


def test_the_ledger_screen_lists_the_period_with_its_filters(
    client: FlaskClient, auth: Auth, world: dict[str, int]
) -> None:
    auth.login("admin")

    html = client.get(f"/ledger/S1?{MARCH}").get_data(as_text=True)
    failed = client.get(f"/ledger/S1?{MARCH}&result=fail").get_data(as_text=True)
    april = client.get("/ledger/S1?period=month&on=2026-04-01").get_data(as_text=True)

    assert "共 3 条记录" in html
    assert "MHQ-001" in html and "YSJ-01" in html and "MHQ-901" not in html
    assert "压力表指针不在绿区" in html and "更换灭火器" in html
    assert 'data-label="设备"' in html  # each cell names its column on a phone's card
    assert f"/photos/{world['photo']}/thumb.jpg" in html
    assert "MHQ-002" in failed and "MHQ-001" not in failed
    assert "这一期间没有记录。" in april
    assert "/ledger/S1/excel?" in html and "/ledger/S1/pdf?" in html


def test_another_schools_administrator_gets_nothing(
    client: FlaskClient, auth: Auth, world: dict[str, int]
) -> None:
    auth.login("outsider")

    for form in ("", "/excel", "/print", "/pdf"):
        assert client.get(f"/ledger/S1{form}?{MARCH}").status_code == 404
    district = client.get(f"/ledgers/district?{MARCH}").get_data(as_text=True)
    assert "MHQ-901" in district and "MHQ-001" not in district


def test_a_bad_period_is_said_and_the_month_shown(
    client: FlaskClient, auth: Auth, world: dict[str, int]
) -> None:
    auth.login("admin")

    html = client.get("/ledger/S1?period=range&from=2026-03-05&to=2026-03-01").get_data(
        as_text=True
    )

    assert "结束日期早于开始日期。" in html
    assert "MHQ-001" in html


def test_the_excel_ledger_reads_back_as_the_records_say(
    client: FlaskClient, auth: Auth, world: dict[str, int]
) -> None:
    auth.login("admin")

    response = client.get(f"/ledger/S1/excel?{MARCH}&kind=extinguisher")
    book = load_workbook(io.BytesIO(response.data))

    assert response.mimetype.endswith("spreadsheetml.sheet")
    [sheet] = book.worksheets
    assert sheet.title == "灭火器月度检查"
    assert sheet.freeze_panes == "A3"
    assert "实验小学" in sheet["A1"].value and "2026年03月" in sheet["A1"].value
    headers = [c.value for c in sheet[2]]
    assert headers[:5] == ["日期时间", "设备", "检查表", "结果", "填报人"]
    assert sheet.column_dimensions["A"].width == 17
    first, second = sheet.iter_rows(min_row=3, values_only=True)
    assert first[0] == datetime(2026, 3, 2, 8, 30)
    assert sheet["A3"].number_format == "yyyy-mm-dd hh:mm"
    assert (first[1], first[3], first[4]) == ("MHQ-001 一楼东侧灭火器", "合格", "Inspector")
    assert sheet["D3"].fill.fgColor.rgb.endswith("DCF2E3")
    assert (second[3], second[5]) == ("不合格", "压力表指针不在绿区")
    assert sheet["D4"].fill.fgColor.rgb.endswith("FDE2E1")
    assert "已关闭" in second[6] and "更换灭火器" in second[6] and "Admin" in second[6]
    assert len(sheet._images) == 2  # one thumbnail per record with a photo
    assert sheet["I3"].hyperlink.target.endswith(f"/photos/{world['photo']}.jpg")


def test_a_district_export_has_a_sheet_per_checklist_naming_each_school(
    client: FlaskClient, auth: Auth, world: dict[str, int]
) -> None:
    auth.login("district")

    book = load_workbook(io.BytesIO(client.get(f"/ledgers/district/excel?{MARCH}").data))

    assert book.sheetnames == ["灭火器月度检查", "饮水机消毒记录"]
    extinguishers = book["灭火器月度检查"]
    assert extinguishers["B2"].value == "学校"
    schools = [row[1] for row in extinguishers.iter_rows(min_row=3, values_only=True)]
    assert schools == ["实验小学", "实验小学", "第二中学"]


def test_the_print_page_and_the_pdf_hold_the_ledger_and_its_signatures(
    client: FlaskClient, auth: Auth, world: dict[str, int]
) -> None:
    auth.login("admin")

    page = client.get(f"/ledger/S1/print?{MARCH}").get_data(as_text=True)
    response = client.get(f"/ledger/S1/pdf?{MARCH}")
    text = extract_text(io.BytesIO(response.data))

    assert "@page" in page and "A4" in page
    assert "<nav" not in page and "退出" not in page  # no menus on paper
    assert "实验小学 · 全部事项台账" in page
    assert f"/photos/{world['photo']}/thumb.jpg" in page
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    for seen in (
        "实验小学",
        "2026年03月",
        "MHQ-001",
        "合格",
        "不合格",
        "压力表指针不在绿区",
        "更换灭火器",
        "填表人",
        "负责人",
        "校长",
        "1 / 1",
    ):
        assert seen in text, seen


@pytest.fixture
def staff(app: Flask, session: Session, clock: SettableClock) -> None:
    """S1: a cook with a health certificate (to 2027), the administrator with one that
    expired in February and a dorm keeper without hers; S2: a cook with one of its own."""
    from datetime import date

    store = app.extensions["houqin.photos"]
    school = make_school(session, "S1")
    other = make_school(session, "S2", "第二中学", district=school.district)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    cook = make_person(session, clock, school, Role.CANTEEN_STAFF, "cook")
    make_person(session, clock, school, Role.DORM_STAFF, "keeper")
    outsider = make_person(session, clock, other, Role.SCHOOL_ADMIN, "other")
    chef = make_person(session, clock, other, Role.CANTEEN_STAFF, "chef")
    make_district_admin(session, clock, school)
    make_certificate(session, clock, store, admin, school, cook, number="JK-001")
    make_certificate(
        session, clock, store, admin, school, admin, title="旧健康证", expires_on=date(2026, 2, 1)
    )
    make_certificate(session, clock, store, outsider, other, chef, number="JK-901")
    session.commit()


def test_the_certificates_ledger_reads_alike_on_screen_in_excel_and_in_the_pdf(
    client: FlaskClient, auth: Auth, staff: None
) -> None:
    auth.login("admin")
    path = f"/ledger/S1/registers/certificates%s?{MARCH}"

    html = client.get(path % "").get_data(as_text=True)
    book = load_workbook(io.BytesIO(client.get(path % "/excel").data))
    page = client.get(path % "/print").get_data(as_text=True)
    text = extract_text(io.BytesIO(client.get(path % "/pdf").data))

    assert "实验小学 · 人员持证台账" in html and 'data-label="人员"' in html
    assert "JK-001" in html and "JK-901" not in html
    assert "供应商台账" in html and "保险台账" in html  # the other registers, one tap away
    sheet = book.worksheets[0]
    assert sheet.title == "人员持证台账" and sheet.freeze_panes == "A3"
    assert "实验小学" in sheet["A1"].value and "2026年03月" in sheet["A1"].value
    assert [c.value for c in sheet[2]] == [
        "人员",
        "岗位",
        "证件",
        "编号",
        "发证日期",
        "到期日期",
        "状态",
        "期间内情况",
    ]
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert [(r[0], r[2], r[3], r[6], r[7]) for r in rows] == [
        ("Admin", "健康证", None, "已过期", "已于 2026-02-01 过期"),
        ("Cook", "健康证", "JK-001", "有效", "整个期间有效"),
        ("Keeper", "培训合格证", None, "缺失", "未持有"),
    ]
    assert rows[1][5] == datetime(2027, 1, 31) and sheet["F4"].number_format == "yyyy-mm-dd"
    assert sheet["G3"].fill.fgColor.rgb.endswith("FDE2E1")
    assert "<nav" not in page and "@page" in page
    for seen in (
        "实验小学",
        "人员持证台账",
        "已于 2026-02-01 过期",
        "已过期",
        "JK-001",
        "未持有",
        "校长",
        "1 / 1",
    ):
        assert seen in text, seen


def test_a_register_is_for_those_who_may_see_the_school_and_the_district_names_each(
    app: Flask, client: FlaskClient, auth: Auth, staff: None
) -> None:
    auth.login("district")

    book = load_workbook(
        io.BytesIO(client.get(f"/ledgers/district/registers/certificates/excel?{MARCH}").data)
    )
    expired = client.get(f"/ledgers/district/registers/certificates?{MARCH}&status=expired")

    sheet = book.worksheets[0]
    assert sheet["A2"].value == "学校"
    assert [(r[0], r[1]) for r in sheet.iter_rows(min_row=3, values_only=True)] == [
        ("实验小学", "Admin"),
        ("实验小学", "Cook"),
        ("实验小学", "Keeper"),
        ("第二中学", "Chef"),
        ("第二中学", "Other"),
    ]
    assert "Admin" in expired.get_data(as_text=True)
    assert "JK-001" not in expired.get_data(as_text=True)
    outsider = app.test_client()
    Auth(outsider).login("other")
    for form in ("", "/excel", "/print", "/pdf"):
        assert outsider.get(f"/ledger/S1/registers/insurance{form}").status_code == 404
    assert outsider.get("/ledger/S2/registers/unknown").status_code == 404
    theirs = outsider.get(f"/ledgers/district/registers/certificates?{MARCH}")
    assert "JK-901" in theirs.get_data(as_text=True)
    assert "JK-001" not in theirs.get_data(as_text=True)


def test_the_inspection_pack_holds_a_cover_the_actions_the_registers_and_every_ledger(
    client: FlaskClient, auth: Auth, world: dict[str, int]
) -> None:
    import zipfile

    auth.login("admin")

    text = extract_text(io.BytesIO(client.get(f"/ledger/S1/pack/pdf?{MARCH}").data))
    pack = zipfile.ZipFile(io.BytesIO(client.get(f"/ledger/S1/pack/zip?{MARCH}").data))

    for seen in (
        "迎检包",
        "实验小学",
        "2026年03月",
        "人员持证台账",
        "供应商台账",
        "保险台账",
        "其他证照台账",
        "灭火器月度检查",
        "饮水机消毒记录",
        "更换灭火器",
        "校长",
    ):
        assert seen in text, seen
    # The cover: 3 records, 1 failed, no action open, 1 closed, no drill (read as a table).
    flat = " ".join(text.split())
    assert "记录数 不合格记录 未完成整改 已完成整改 消防演练次数 3 1 0 1 0" in flat
    assert sorted(pack.namelist()) == sorted(
        [
            "灭火器月度检查.xlsx",
            "饮水机消毒记录.xlsx",
            "人员持证台账.xlsx",
            "供应商台账.xlsx",
            "保险台账.xlsx",
            "其他证照台账.xlsx",
        ]
    )
    insurance = load_workbook(io.BytesIO(pack.read("保险台账.xlsx"))).worksheets[0]
    assert [r[0] for r in insurance.iter_rows(min_row=3, values_only=True)] == [
        "学生意外伤害险",
        "校方责任险",
        "医疗保险",
    ]
    sheet = load_workbook(io.BytesIO(pack.read("饮水机消毒记录.xlsx"))).worksheets[0]
    assert sheet["B3"].value == "YSJ-01 饮水机"
    outsider = client.application.test_client()
    Auth(outsider).login("outsider")
    assert outsider.get(f"/ledger/S1/pack/pdf?{MARCH}").status_code == 404


def test_an_implausible_record_is_flagged_in_words_on_screen_in_excel_and_in_the_pdf(
    app: Flask, client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    store = app.extensions["houqin.photos"]
    school = make_school(session, "S1")
    desk = make_person(session, clock, school, username="desk")
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    first = make_asset(session, clock, school)
    second = make_asset(session, clock, school, code="MHQ-002", name="二楼西侧灭火器")
    file_check(session, clock, store, desk, first, "desk-0001")
    clock.advance(timedelta(seconds=12))
    file_check(session, clock, store, desk, second, "desk-0002")
    session.commit()
    auth.login("admin")
    words = "距同一人上一条记录（一楼东侧灭火器 MHQ-001，同一楼层）仅 12 秒"

    html = client.get(f"/ledger/S1?{MARCH}&flagged=1").get_data(as_text=True)
    sheet = load_workbook(io.BytesIO(client.get(f"/ledger/S1/excel?{MARCH}").data)).worksheets[0]
    text = " ".join(extract_text(io.BytesIO(client.get(f"/ledger/S1/pdf?{MARCH}").data)).split())
    app.extensions["houqin.settings"].ledgers.implausible_within_seconds = 10
    relaxed = client.get(f"/ledger/S1?{MARCH}&flagged=1").get_data(as_text=True)

    assert words in html and "共 1 条记录" in html
    assert [row[7] for row in sheet.iter_rows(min_row=3, values_only=True)] == [None, words]
    assert "仅 12 秒" in text
    assert "这一期间没有记录。" in relaxed  # the threshold is the config's


def test_the_screen_lists_every_checklist_together_in_the_order_things_were_done(
    app: Flask, client: FlaskClient, auth: Auth, session: Session, clock: SettableClock
) -> None:
    store = app.extensions["houqin.photos"]
    school = make_school(session, "S1")
    inspector = make_person(session, clock, school)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    dispenser = make_asset(session, clock, school, AssetKind.WATER_DISPENSER, "YSJ-01", "饮水机")
    extinguisher = make_asset(session, clock, school)
    file_check(
        session,
        clock,
        store,
        inspector,
        dispenser,
        "o-disp-0001",
        DISPENSER_OK,
        "water_dispenser_disinfection",
    )
    clock.advance(timedelta(hours=1))
    file_check(session, clock, store, inspector, extinguisher, "o-ext-0001")
    session.commit()
    auth.login("admin")

    html = client.get(f"/ledger/S1?{MARCH}").get_data(as_text=True)

    assert html.index("YSJ-01") < html.index("MHQ-001")  # the dispenser was done first
