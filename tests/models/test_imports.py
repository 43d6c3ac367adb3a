"""Spreadsheet imports: files read as Excel and WPS write them, rows checked, all or nothing."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.assets import Asset, find_asset_by_token
from models.clock import SettableClock
from models.import_kinds import Column, ImportContext, ImportKind
from models.imports import (
    IMPORT_KINDS,
    ImportFiles,
    RowsRefused,
    import_kinds_for,
    preview_import,
    register_import_kind,
    run_import,
    save_import,
)
from models.messages import Message, SubmissionInvalid
from models.org import Location, School
from models.people import Person, Role, authenticate
from models.photos import LocalPhotoStore
from models.spreadsheets import ImportRefused
from models.suppliers import Supplier, suppliers_for
from tests.factories import make_asset, make_person, make_school, make_supplier

ASSET_HEADER = ["编号", "名称", "类型", "楼栋", "楼层", "房间", "责任人", "座位数", "车牌", "司机"]


def xlsx(rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    return "\r\n".join(",".join(row) for row in rows).encode(encoding)


def _count(session: Session, entity: type) -> int:
    return session.scalar(select(func.count()).select_from(entity))


def _problems(session: Session, school: School, actor: Person, kind: str, data: bytes, now):
    preview = preview_import(session, kind, school=school, actor=actor, data=data, now=now)
    return [(p.row, p.column, p.message.msgid) for r in preview.refused for p in r.problems]


@pytest.fixture
def school(session: Session) -> School:
    return make_school(session)


@pytest.fixture
def admin(session: Session, clock: SettableClock, school: School) -> Person:
    return make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin", phone="13800000001")


def test_missing_and_doubled_columns_are_named(
    session: Session, clock: SettableClock, school: School, admin: Person
) -> None:
    def preview(header: list[str]) -> ImportRefused:
        with pytest.raises(ImportRefused) as refused:
            preview_import(
                session,
                "assets",
                school=school,
                actor=admin,
                data=csv_bytes([header, ["x"] * len(header)]),
                now=clock.now(),
            )
        return refused.value

    assert preview(["编号"]).message.params == {
        "columns": {"zh_CN": "名称、类型", "en": "名称, 类型"}
    }
    assert preview(["编号", "code", "名称", "类型"]).message.params == {"column": "code"}


# --- asset rows -------------------------------------------------------------------------


def test_headers_in_english_or_chinese_with_notes_and_kinds_by_either_name(
    session: Session, clock: SettableClock, school: School, admin: Person
) -> None:
    data = csv_bytes(
        [
            ["Code", "NAME", "kind", "楼栋", "Floor", "容量（千克）", "备注"],
            ["MHQ-001", "一楼灭火器", "灭火器", "教学楼", "1层", "4", "新购"],
            ["MHQ-002", "二楼灭火器", "extinguisher", "教学楼", "2层", "4kg", ""],
            ["YSJ-001", "饮水机", "Water dispenser", "", "", "", ""],
        ]
    )

    preview = preview_import(
        session, "assets", school=school, actor=admin, data=data, now=clock.now()
    )

    assert preview.refused == []
    assert [r.checked.kind for r in preview.good] == [
        "extinguisher",
        "extinguisher",
        "water_dispenser",
    ]
    assert preview.good[1].checked.attributes == {"capacity_kg": 4}
    assert preview.ignored_columns == ["备注"]


def test_each_refused_asset_row_says_where_and_why_and_nothing_is_written(
    session: Session, clock: SettableClock, school: School, admin: Person
) -> None:
    make_asset(session, clock, school, code="MHQ-009")
    elsewhere = make_school(session, "S2", "第二中学")
    make_person(session, clock, elsewhere, Role.TEACHER, "stranger")
    make_person(session, clock, school, Role.TEACHER, "teacher")
    before = _count(session, Location)
    data = csv_bytes(
        [
            ASSET_HEADER,
            ["XC-01", "1号校车", "校车", "停车场", "", "", "teacher", "19", "辽A·1", "马师傅"],
            ["XC-01", "又一辆", "校车", "", "", "", "", "36", "", ""],
            ["MHQ-009", "灭火器", "灭火器", "", "", "", "", "", "", ""],
            ["", "无编号", "灭火器", "", "", "", "", "", "", ""],
            ["Q-1", "怪东西", "火箭", "", "", "", "", "", "", ""],
            ["XC-02", "2号校车", "bus", "", "", "", "stranger", "2.5", "", ""],
            ["MHQ-010", "灭火器", "灭火器", "", "3层", "", "", "19", "", ""],
            ["SS-101", "101室", "宿舍", "学生公寓", "1层", "101", "13800000001", "", "", ""],
        ]
    )

    problems = _problems(session, school, admin, "assets", data, clock.now())

    assert problems == [
        (3, "编号", "%(value)s is also on row %(row)d."),
        (4, "编号", "The code %(code)s is already used at this school."),
        (5, "编号", "Fill this in."),
        (6, "类型", "Unknown kind %(value)s. Use one of: %(choices)s."),
        (7, "责任人", "No one with a role at this school has the username or phone %(value)s."),
        (7, "座位数", "Enter a whole number greater than zero."),
        (8, "楼栋", "Give the building too."),
        (8, "座位数", "Leave this empty: it does not apply to this kind."),
    ]
    assert _count(session, Asset) == 1
    assert _count(session, Location) == before


def test_a_file_with_any_refused_row_imports_nothing(
    session: Session, clock: SettableClock, school: School, admin: Person
) -> None:
    data = csv_bytes(
        [
            ASSET_HEADER,
            ["XC-01", "1号校车", "校车", "停车场", "", "", "", "19", "", ""],
            ["XC-02", "2号校车", "校车", "停车场", "", "", "", "", "", ""],
        ]
    )

    with pytest.raises(RowsRefused) as refused:
        run_import(session, "assets", school=school, actor=admin, data=data, now=clock.now())

    assert [(p.row, p.column) for r in refused.value.preview.refused for p in r.problems] == [
        (3, "座位数")
    ]
    assert _count(session, Asset) == 0
    assert _count(session, Location) == 0


def test_a_good_file_imports_every_row_with_labels_and_places_made_once(
    session: Session, clock: SettableClock, school: School, admin: Person
) -> None:
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher", phone="13900000009")
    data = xlsx(
        [
            [*ASSET_HEADER, "表计类型", "表号"],
            ["XC-01", "1号校车", "校车", "停车场", None, None, 13900000009, 19, "辽A·1", "马师傅"],
            ["XC-02", "2号校车", "校车", "停车场", None, None, "admin", 36, None, None],
            ["DB-01", "总电表", "水电表", "配电房", None, None, None, None, None, None, "电", 1001],
        ]
    )

    count = run_import(session, "assets", school=school, actor=admin, data=data, now=clock.now())

    assets = list(session.scalars(select(Asset).order_by(Asset.code)))
    assert count == 3
    assert [a.code for a in assets] == ["DB-01", "XC-01", "XC-02"]
    assert all(find_asset_by_token(session, a.current_label.token) is a for a in assets)
    assert assets[1].attributes == {"plate": "辽A·1", "seats": 19, "driver": "马师傅"}
    assert assets[0].attributes == {"meter_type": "electricity", "meter_number": "1001"}
    assert assets[1].responsible is teacher and assets[2].responsible is admin
    assert assets[1].location is assets[2].location
    assert _count(session, Location) == 2


def test_an_existing_place_is_reused(
    session: Session, clock: SettableClock, school: School, admin: Person
) -> None:
    place = Location(school=school, building="停车场", floor="", room="")
    session.add(place)
    session.flush()
    data = csv_bytes(
        [ASSET_HEADER, ["XC-01", "1号校车", "校车", "停车场", "", "", "", "19", "", ""]]
    )

    run_import(session, "assets", school=school, actor=admin, data=data, now=clock.now())

    assert session.scalar(select(Asset)).location is place


# --- people rows ------------------------------------------------------------------------

PEOPLE_HEADER = ["用户名", "姓名", "手机", "角色", "初始密码"]


def test_people_are_imported_with_their_role_and_can_log_in(
    session: Session, clock: SettableClock, school: School, admin: Person
) -> None:
    data = csv_bytes(
        [
            ["username", "name", "phone", "role", "password"],
            ["wang", "王师傅", "139 0000 0001", "食堂从业人员", "initial-pass"],
            ["li", "李老师", "", "teacher", "initial-pass"],
        ],
        "gb18030",
    )

    assert (
        run_import(session, "people", school=school, actor=admin, data=data, now=clock.now()) == 2
    )

    wang = authenticate(session, "13900000001", "initial-pass", now=clock.now())
    assert wang is not None and wang.display_name == "王师傅"
    assert [(g.role, g.school_id) for g in wang.grants] == [(Role.CANTEEN_STAFF, school.id)]


def test_each_refused_person_row_says_why(
    session: Session, clock: SettableClock, school: School, admin: Person
) -> None:
    data = csv_bytes(
        [
            PEOPLE_HEADER,
            ["wang", "王师傅", "13900000001", "食堂从业人员", "initial-pass"],
            ["Wang", "另一个王", "13900000001", "厨师", "short"],
            ["admin", "", "phone?", "区级管理员", "initial-pass"],
            ["zhao", "赵", "138-0000-0001", "", "initial-pass"],
        ]
    )

    problems = _problems(session, school, admin, "people", data, clock.now())

    assert problems == [
        (3, "用户名", "%(value)s is also on row %(row)d."),
        (3, "手机", "%(value)s is also on row %(row)d."),
        (3, "角色", "Unknown role %(value)s. Use one of: %(choices)s."),
        (3, "初始密码", "A password needs at least %(count)d characters."),
        (4, "用户名", "The username %(value)s is taken."),
        (4, "姓名", "Fill this in."),
        (4, "手机", "Enter a mobile number: 11 digits starting with 1 (+86 may go in front)."),
        (4, "角色", "Only district administrators can grant this role."),
        (5, "手机", "The phone number %(value)s is taken."),
        (5, "角色", "Fill this in."),
    ]
    assert _count(session, Person) == 1


def test_a_district_admin_may_import_district_admins(
    session: Session, clock: SettableClock, school: School
) -> None:
    district = make_person(session, clock, school, Role.DISTRICT_ADMIN, "district")
    data = csv_bytes([PEOPLE_HEADER, ["zhou", "周主任", "", "区级管理员", "initial-pass"]])

    run_import(session, "people", school=school, actor=district, data=data, now=clock.now())

    zhou = session.scalar(select(Person).where(Person.username == "zhou"))
    assert zhou.is_district_admin


# --- suppliers ---------------------------------------------------------------------------

SUPPLIER_HEADER = ["名称", "准入品类", "指定品牌", "联系人", "电话"]


def test_a_district_admin_imports_suppliers_with_categories_in_chinese(
    session: Session, clock: SettableClock, school: School
) -> None:
    district = make_person(session, clock, school, Role.DISTRICT_ADMIN, "district")
    data = xlsx(
        [
            SUPPLIER_HEADER,
            ["绿源粮油有限公司", "大米、面粉，食用油", "绿源", "王经理", "024-8888 6666"],
            ["放心肉联厂", "肉类", "放心牌; 福字牌", "", ""],
            ["清泉桶装水公司", "Drinking water", "", "", ""],
        ]
    )

    run_import(session, "suppliers", school=school, actor=district, data=data, now=clock.now())

    (grain,) = suppliers_for(session, school.district_id, "flour")
    assert grain.name == "绿源粮油有限公司"
    assert grain.categories == ["rice", "flour", "oil"]
    assert grain.phone == "024-88886666"
    (meat,) = suppliers_for(session, school.district_id, "meat")
    assert meat.designated_brands == ["放心牌", "福字牌"]
    assert [s.name for s in suppliers_for(session, school.district_id, "water")] == [
        "清泉桶装水公司"
    ]


def test_each_refused_supplier_row_says_why_and_nothing_is_imported(
    session: Session, clock: SettableClock, school: School
) -> None:
    district = make_person(session, clock, school, Role.DISTRICT_ADMIN, "district")
    make_supplier(session, clock, school, name="鲜达蔬菜配送中心")
    data = csv_bytes(
        [
            SUPPLIER_HEADER,
            ["好味调料厂", "酱油、醋", "", "", ""],
            ["鲜达蔬菜配送中心", "蔬菜", "", "", ""],
            ["海鲜行", "海鲜", "", "", ""],
            ["好味调料厂", "醋", "", "", "电话待定"],
            ["", "大米", "", "", ""],
        ]
    )

    problems = _problems(session, school, district, "suppliers", data, clock.now())
    with pytest.raises(RowsRefused):
        run_import(session, "suppliers", school=school, actor=district, data=data, now=clock.now())

    assert problems == [
        (3, "名称", "A supplier with this name is already registered."),
        (4, "准入品类", "Unknown category %(value)s. Use one of: %(choices)s."),
        (5, "名称", "%(value)s is also on row %(row)d."),
        (
            5,
            "电话",
            "Enter a mobile number (11 digits starting with 1) "
            "or a landline with its area code, like 024-23456789.",
        ),
        (6, "名称", "Enter the supplier's name."),
    ]
    assert _count(session, Supplier) == 1


def test_only_a_district_admin_may_import_suppliers(
    session: Session, clock: SettableClock, school: School, admin: Person
) -> None:
    data = csv_bytes([SUPPLIER_HEADER, ["好味调料厂", "酱油", "", "", ""]])

    assert "suppliers" not in import_kinds_for(admin, school)
    with pytest.raises(ImportRefused) as refused:
        preview_import(session, "suppliers", school=school, actor=admin, data=data, now=clock.now())

    assert refused.value.message.msgid == "Only a district administrator can manage suppliers."
    assert _count(session, Supplier) == 0


# --- more kinds, and atomicity ------------------------------------------------------------


def _place_row(session: Session, context: ImportContext, row: int, values: Any) -> str:
    if not values.get("building"):
        raise SubmissionInvalid({"building": Message("Fill this in.")})
    return values["building"]


def _save_place(session: Session, context: ImportContext, building: str) -> None:
    # No duplicate check on purpose: the database's unique constraint is what stops it.
    session.add(Location(school=context.school, building=building, floor="", room=""))
    session.flush()


PLACES = ImportKind(
    key="places",
    label="Places",
    columns=(Column("building", ("楼栋", "building"), required=True),),
    check_row=_place_row,
    save_row=_save_place,
)


def test_a_new_kind_of_import_plugs_in_with_its_own_row_handlers(
    session: Session, clock: SettableClock, school: School, admin: Person, monkeypatch
) -> None:
    monkeypatch.setitem(IMPORT_KINDS, "places", PLACES)

    count = run_import(
        session,
        "places",
        school=school,
        actor=admin,
        data=csv_bytes([["building"], ["教学楼"], ["食堂"]]),
        now=clock.now(),
    )

    assert count == 2
    assert PLACES.template_csv() == "楼栋\r\n".encode("utf-8-sig")
    with pytest.raises(ValueError):
        register_import_kind(IMPORT_KINDS["assets"])


def test_a_failure_while_saving_rolls_back_every_row_of_the_file(
    session: Session, clock: SettableClock, school: School, admin: Person, monkeypatch
) -> None:
    monkeypatch.setitem(IMPORT_KINDS, "places", PLACES)
    session.add(Location(school=school, building="车库", floor="", room=""))
    session.flush()

    with pytest.raises(ImportRefused):
        run_import(
            session,
            "places",
            school=school,
            actor=admin,
            data=csv_bytes([["楼栋"], ["教学楼"], ["食堂"], ["车库"]]),
            now=clock.now(),
        )

    assert [loc.building for loc in session.scalars(select(Location))] == ["车库"]


# --- the files between preview and confirmation -------------------------------------------


def test_kept_files_come_back_only_by_their_exact_hash(tmp_path: Path) -> None:
    files = ImportFiles(LocalPhotoStore(tmp_path))
    digest = files.put(b"code,name\r\n")

    assert files.get(digest) == b"code,name\r\n"
    assert files.get("../" + digest) is None
    assert files.get(digest.upper()) is None
    (tmp_path / "imports" / digest).write_bytes(b"changed")
    assert files.get(digest) is None
    files.discard(digest)
    assert list((tmp_path / "imports").iterdir()) == []


def test_people_without_a_password_get_sign_in_codes_and_no_slow_hash(
    session: Session, clock: SettableClock, school: School, admin: Person
) -> None:
    rows = [["username", "name", "role", "password"], ["li", "李老师", "teacher", "initial-pass"]]
    rows += [[f"staff{n}", f"员工{n}", "teacher", ""] for n in range(3)]
    data = csv_bytes(rows)
    preview = preview_import(
        session, "people", school=school, actor=admin, data=data, now=clock.now()
    )

    done = save_import(session, preview, school=school, actor=admin, now=clock.now())

    assert done.count == 4
    assert [slip.username for slip in done.sign_in] == ["staff0", "staff1", "staff2"]
    staff = authenticate(session, "staff1", done.sign_in[1].code, now=clock.now())
    assert staff is not None and staff.must_change_password
    li = authenticate(session, "li", "initial-pass", now=clock.now())
    assert li is not None and li.must_change_password
    assert li.password_hash.startswith("pbkdf2:sha256:1$")
