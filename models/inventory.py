"""A school's assets: adding, changing and listing them, by form or spreadsheet."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from models.asset_attributes import all_attribute_names, attribute_specs, clean_attributes
from models.assets import KIND_LABELS, Asset, AssetKind, create_asset
from models.audit import audit, differences, fields_of
from models.fields import REQUIRED, clean_text
from models.import_kinds import Column, ImportContext, ImportKind, Row
from models.messages import N_, Message, SubmissionInvalid
from models.org import Location, School
from models.paging import PAGE_SIZE, Page, page_of
from models.people import Person, normalise_login
from models.places import clean_place, school_locations
from models.spreadsheets import alias_choices, aliases, header_key
from models.staff import is_at_school, people_at_school

CODE_MAX = 32
NAME_MAX = 200


def code_taken(session: Session, school: School, code: str) -> bool:
    return (
        session.scalar(select(Asset.id).where(Asset.school_id == school.id, Asset.code == code))
        is not None
    )


def clean_code(session: Session, school: School, code: str, errors: dict[str, Message]) -> str:
    """An asset code: given, short enough, and not yet used at this school."""
    code = clean_text(code, "code", CODE_MAX, errors)
    if "code" not in errors and code_taken(session, school, code):
        errors["code"] = code_in_use(code)
    return code


def code_in_use(code: str) -> Message:
    return Message(N_("The code %(code)s is already used at this school."), {"code": code})


def clean_name(name: str, errors: dict[str, Message]) -> str:
    return clean_text(name, "name", NAME_MAX, errors)


def asset_page(
    session: Session,
    school: School,
    kind: str | None = None,
    *,
    search: str = "",
    page: Any = 1,
    size: int = PAGE_SIZE,
) -> Page[Asset]:
    """One page of a school's assets in kind and code order; `search` finds a part of the code
    or the name, whatever the case."""
    query = (
        select(Asset)
        .where(Asset.school_id == school.id)
        .options(
            selectinload(Asset.location),
            selectinload(Asset.responsible),
            selectinload(Asset.labels),
        )
        .order_by(Asset.kind, Asset.code)
    )
    if kind:
        query = query.where(Asset.kind == kind)
    words = search.strip()[:100]
    if words:
        pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(
                Asset.code.ilike(pattern, escape="\\"),
                Asset.name.ilike(pattern, escape="\\"),
            )
        )
    return page_of(session, query, page, size)


def school_asset(session: Session, school: School, asset_id: int) -> Asset | None:
    return session.scalar(select(Asset).where(Asset.id == asset_id, Asset.school_id == school.id))


def _school_location(
    session: Session, school: School, location_id: int | None, errors: dict[str, Message]
) -> Location | None:
    if location_id is None:
        return None
    location = session.get(Location, location_id)
    if location is None or location.school_id != school.id:
        errors["location"] = Message(N_("Choose a place at this school."))
        return None
    return location


def _school_person(
    session: Session, school: School, person_id: int | None, errors: dict[str, Message]
) -> Person | None:
    if person_id is None:
        return None
    person = session.get(Person, person_id)
    if person is None or not is_at_school(person, school):
        errors["responsible"] = Message(N_("Choose someone with a role at this school."))
        return None
    return person


def add_asset(
    session: Session,
    school: School,
    *,
    kind: AssetKind,
    code: str,
    name: str,
    location_id: int | None,
    responsible_id: int | None,
    attributes: Mapping[str, str],
    now: datetime,
    actor: Person | None = None,
) -> Asset:
    """A new asset at the school, with its label issued; refused field by field."""
    errors: dict[str, Message] = {}
    code = clean_code(session, school, code, errors)
    name = clean_name(name, errors)
    location = _school_location(session, school, location_id, errors)
    responsible = _school_person(session, school, responsible_id, errors)
    cleaned = clean_attributes(kind, attributes, errors)
    if errors:
        raise SubmissionInvalid(errors)
    asset = create_asset(
        session,
        school=school,
        kind=kind,
        code=code,
        name=name,
        location=location,
        responsible=responsible,
        attributes=cleaned,
        now=now,
    )
    audit(session, actor, "asset.created", asset, {}, _asset_fields(asset), now=now)
    return asset


def update_asset(
    session: Session,
    asset: Asset,
    *,
    name: str,
    location_id: int | None,
    responsible_id: int | None,
    attributes: Mapping[str, str],
    actor: Person | None = None,
    now: datetime | None = None,
) -> Asset:
    """Change what an asset is called, where it is, who answers for it and its attributes.

    The code stays: it is printed on the label and named in every record.
    """
    errors: dict[str, Message] = {}
    name = clean_name(name, errors)
    location = _school_location(session, asset.school, location_id, errors)
    if responsible_id is not None and responsible_id == asset.responsible_id:
        # Unchanged: someone since deactivated stays named until the asset is handed on.
        responsible = asset.responsible
    else:
        responsible = _school_person(session, asset.school, responsible_id, errors)
    cleaned = clean_attributes(asset.kind, attributes, errors, keep=asset.attributes)
    if errors:
        raise SubmissionInvalid(errors)
    was = _asset_fields(asset)
    asset.name = name
    asset.location = location
    asset.responsible = responsible
    asset.attributes = cleaned
    session.flush()
    before, after = differences(was, _asset_fields(asset))
    if before or after:
        audit(session, actor, "asset.edited", asset, before, after, now=now or datetime.now(UTC))
    return asset


def _asset_fields(asset: Asset) -> dict[str, Any]:
    """An asset as its audit entries compare it: names rather than ids, read later."""
    return {
        "code": asset.code,
        "name": asset.name,
        "location": asset.location.label if asset.location is not None else "",
        "responsible": asset.responsible.display_name if asset.responsible is not None else "",
        **fields_of(asset, ("attributes",)),
    }


# --- importing assets from a spreadsheet ------------------------------------------------


ASSET_KIND_ALIASES: dict[str, AssetKind] = aliases(
    {
        "灭火器": AssetKind.EXTINGUISHER,
        "饮水机": AssetKind.WATER_DISPENSER,
        "校车": AssetKind.BUS,
        "宿舍": AssetKind.DORM_ROOM,
        "宿舍房间": AssetKind.DORM_ROOM,
        "午休室": AssetKind.DORM_ROOM,
        "食堂": AssetKind.CANTEEN,
        "水电表": AssetKind.METER,
        "表计": AssetKind.METER,
        "广播设备": AssetKind.BROADCAST,
        "广播": AssetKind.BROADCAST,
        "后勤办公室": AssetKind.SCHOOL_OFFICE,
        **{kind.value: kind for kind in AssetKind},
        **{label: kind for kind, label in KIND_LABELS.items()},
    }
)

ASSET_COLUMNS = (
    Column(
        "code", ("编号", "code", "资产编号"), required=True, example="MHQ-001", note="本校内不重复"
    ),
    Column("name", ("名称", "name"), required=True, example="教学楼一楼东侧灭火器"),
    Column(
        "kind",
        ("类型", "kind", "种类"),
        required=True,
        example="灭火器",
        choices=("灭火器", "饮水机", "校车", "宿舍", "食堂", "水电表", "广播设备", "后勤办公室"),
    ),
    Column("building", ("楼栋", "building", "建筑"), example="教学楼"),
    Column("floor", ("楼层", "floor"), example="1"),
    Column("room", ("房间", "room"), example="东侧走廊"),
    Column(
        "responsible",
        ("责任人(用户名或手机)", "responsible", "责任人"),
        note="在本校有角色的人员的用户名或手机号",
    ),
    Column("agent", ("灭火剂", "agent"), example="干粉", note="仅灭火器"),
    Column(
        "capacity_kg",
        ("容量(千克)", "capacity_kg", "容量", "capacity"),
        example="4",
        note="仅灭火器，大于 0 的数",
    ),
    Column(
        "production_date",
        ("生产日期", "production_date", "出厂日期"),
        example="2021-03",
        note="仅灭火器，年-月或年-月-日；据此算维修和报废日期",
    ),
    Column("plate", ("车牌", "plate", "车牌号"), note="仅校车"),
    Column("seats", ("座位数", "seats", "核载座位", "核载人数"), note="校车必填，整数"),
    Column("driver", ("司机", "driver", "驾驶员"), note="仅校车"),
    Column("beds", ("床位数", "beds", "床位"), note="仅宿舍，整数"),
    Column(
        "meter_type",
        ("表计类型", "meter_type", "表类型"),
        choices=("电表", "水表"),
        note="水电表必填",
    ),
    Column("meter_number", ("表号", "meter_number"), note="仅水电表"),
)


@dataclass(frozen=True)
class AssetRow:
    kind: AssetKind
    code: str
    name: str
    place: tuple[str, str, str] | None
    responsible: Person | None
    attributes: dict[str, Any]


def _school_codes(session: Session, context: ImportContext) -> set[str]:
    if "codes" not in context.cache:
        context.cache["codes"] = set(
            session.scalars(select(Asset.code).where(Asset.school_id == context.school.id))
        )
    return context.cache["codes"]


def _school_logins(session: Session, context: ImportContext) -> dict[str, Person]:
    """Who can answer for an asset here, by username and by phone: the people at the school."""
    if "logins" not in context.cache:
        logins: dict[str, Person] = {}
        for person in people_at_school(session, context.school):
            logins[person.username] = person
            if person.phone:
                logins[person.phone] = person
        context.cache["logins"] = logins
    return context.cache["logins"]


def check_asset_row(session: Session, context: ImportContext, row: int, values: Row) -> AssetRow:
    """One asset row: known kind, new code, a responsible person with a role at the school."""
    errors: dict[str, Message] = {}
    kind_text = values.get("kind", "")
    kind = ASSET_KIND_ALIASES.get(header_key(kind_text))
    if not kind_text:
        errors["kind"] = Message(REQUIRED)
    elif kind is None:
        errors["kind"] = Message(
            N_("Unknown kind %(value)s. Use one of: %(choices)s."),
            {"value": kind_text, "choices": alias_choices(ASSET_KIND_ALIASES)},
        )
    code = clean_text(values.get("code", ""), "code", CODE_MAX, errors)
    if "code" not in errors:
        repeated = context.repeated("code", code, row)
        if repeated is not None:
            errors["code"] = repeated
        elif code in _school_codes(session, context):
            errors["code"] = code_in_use(code)
    name = clean_name(values.get("name", ""), errors)
    place = None
    if any(values.get(key) for key in ("building", "floor", "room")):
        place = clean_place(
            values.get("building", ""), values.get("floor", ""), values.get("room", ""), errors
        )
    responsible = None
    login = values.get("responsible", "")
    if login:
        responsible = _school_logins(session, context).get(normalise_login(login))
        if responsible is None:
            errors["responsible"] = Message(
                N_("No one with a role at this school has the username or phone %(value)s."),
                {"value": login},
            )
    attributes: dict[str, Any] = {}
    if kind is not None:
        attributes = clean_attributes(kind, values, errors)
        own = {spec.name for spec in attribute_specs(kind)}
        for other in all_attribute_names():
            if other not in own and values.get(other):
                errors[other] = Message(N_("Leave this empty: it does not apply to this kind."))
    if errors:
        raise SubmissionInvalid(errors)
    assert kind is not None
    return AssetRow(
        kind=kind,
        code=code,
        name=name,
        place=place,
        responsible=responsible,
        attributes=attributes,
    )


def save_asset_row(session: Session, context: ImportContext, row: AssetRow) -> None:
    save_asset_rows(session, context, [row])


def save_asset_rows(session: Session, context: ImportContext, rows: list[AssetRow]) -> None:
    """Create the assets, their labels and, the first time one is named, their places, all
    in one flush at the end, so the write lock is held briefly."""
    if "places" not in context.cache:
        # Every place of the school read once, not one query per row.
        context.cache["places"] = {
            (place.building, place.floor, place.room): place
            for place in school_locations(session, context.school)
        }
    places: dict[tuple[str, str, str], Location] = context.cache["places"]
    with session.no_autoflush:
        for row in rows:
            location = None
            if row.place is not None:
                location = places.get(row.place)
                if location is None:
                    building, floor, room = row.place
                    location = Location(
                        school=context.school, building=building, floor=floor, room=room
                    )
                    session.add(location)
                    places[row.place] = location
            create_asset(
                session,
                school=context.school,
                kind=row.kind,
                code=row.code,
                name=row.name,
                location=location,
                responsible=row.responsible,
                attributes=row.attributes,
                now=context.now,
                flush=False,
            )


ASSET_IMPORT = ImportKind(
    key="assets",
    label=N_("Assets"),
    columns=ASSET_COLUMNS,
    check_row=check_asset_row,
    save_row=save_asset_row,
    save_rows=save_asset_rows,
)
