"""Choosing labels to print: by school, kind, place, a list of codes, or only the reissued
ones; each bus's second label for its rear (车尾); a person sees only their schools."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from models.assets import AssetKind, LabelPosition, issue_label
from models.clock import SettableClock
from models.labels import LabelChoice, LabelsError, choose_labels, scan_call
from models.org import Location
from models.people import Role
from tests.factories import make_asset, make_district_admin, make_person, make_school

BASE = "https://houqin.test"


def _names(session: Session, choice: LabelChoice, actor: object = None) -> list[str]:
    infos = choose_labels(session, choice, base_url=BASE, actor=actor)  # type: ignore[arg-type]
    return [info.name for info in infos]


def test_the_sheet_prints_each_bus_rear_label_marked_after_its_front_one(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车")
    make_asset(session, clock, school)

    infos = choose_labels(session, LabelChoice(("S1",)), base_url=BASE, actor=None)

    names = [info.name for info in infos]
    assert names.count("1号校车") == 1 and names.count("1号校车（车尾）") == 1
    assert names.index("1号校车（车尾）") == names.index("1号校车") + 1
    rear = next(i for i in infos if i.name == "1号校车（车尾）")
    assert rear.url == f"{BASE}/s/{bus.rear_label.token}"
    assert len(infos) == 3  # the extinguisher has only its one label


def test_every_label_says_scan_to_record_in_chinese_and_english(
    session: Session, clock: SettableClock
) -> None:
    make_asset(session, clock, make_school(session))

    [info] = choose_labels(session, LabelChoice(), base_url=BASE, actor=None)

    assert info.call == "扫码登记 / Scan to record"
    assert info.kind == "灭火器"
    assert scan_call("en") == "Scan to record"


def test_kind_place_and_a_list_of_codes_each_narrow_the_choice(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_asset(session, clock, school, code="MHQ-001", name="一楼灭火器")
    make_asset(session, clock, school, code="MHQ-002", name="二楼灭火器")
    make_asset(session, clock, school, AssetKind.WATER_DISPENSER, "YSJ-01", "饮水机")
    canteen = make_asset(session, clock, school, AssetKind.CANTEEN, "ST-01", "食堂")
    canteen.location = Location(school=school, building="食堂楼")
    session.flush()

    assert _names(session, LabelChoice(kind="extinguisher")) == ["一楼灭火器", "二楼灭火器"]
    assert _names(session, LabelChoice(building="食堂楼")) == ["食堂"]
    assert _names(session, LabelChoice(asset_codes=("mhq-002", "YSJ-01"))) == [
        "二楼灭火器",
        "饮水机",
    ]


def test_only_the_reissued_labels_are_printed_when_asked(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    make_asset(session, clock, school, code="MHQ-001", name="一楼灭火器")
    copied = make_asset(session, clock, school, code="MHQ-002", name="二楼灭火器")
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车")
    issue_label(session, copied, now=clock.now())
    new_rear = issue_label(session, bus, now=clock.now(), position=LabelPosition.REAR)

    infos = choose_labels(session, LabelChoice(reissued_only=True), base_url=BASE, actor=None)

    assert [info.name for info in infos] == ["1号校车（车尾）", "二楼灭火器"]
    assert infos[0].url == f"{BASE}/s/{new_rear.token}"
    assert infos[1].url == f"{BASE}/s/{copied.current_label.token}"


def test_a_school_administrator_sees_only_their_school_and_others_are_unknown(
    session: Session, clock: SettableClock
) -> None:
    own = make_school(session, "S1", "实验小学")
    other = make_school(session, "S2", "第二中学", district=own.district)
    make_asset(session, clock, own, code="MHQ-001", name="本校灭火器")
    make_asset(session, clock, other, code="MHQ-009", name="外校灭火器")
    admin = make_person(session, clock, own, Role.SCHOOL_ADMIN, "principal")
    district = make_district_admin(session, clock, own)

    assert _names(session, LabelChoice(), admin) == ["本校灭火器"]
    assert _names(session, LabelChoice(), district) == ["本校灭火器", "外校灭火器"]
    with pytest.raises(LabelsError) as refused:
        choose_labels(session, LabelChoice(("S2",)), base_url=BASE, actor=admin)
    assert refused.value.field == "school"
    with pytest.raises(LabelsError) as refused:
        choose_labels(session, LabelChoice(asset_codes=("MHQ-009",)), base_url=BASE, actor=admin)
    assert refused.value.field == "assets"
    assert "MHQ-009" in str(refused.value)


def test_staff_who_manage_no_school_get_no_labels(session: Session, clock: SettableClock) -> None:
    school = make_school(session)
    make_asset(session, clock, school)
    inspector = make_person(session, clock, school)

    with pytest.raises(LabelsError, match="no labels match"):
        choose_labels(session, LabelChoice(), base_url=BASE, actor=inspector)


def test_retired_assets_are_not_printed(session: Session, clock: SettableClock) -> None:
    school = make_school(session)
    old = make_asset(session, clock, school, code="MHQ-001", name="报废灭火器")
    make_asset(session, clock, school, code="MHQ-002", name="在用灭火器")
    old.retired_at = clock.now()
    session.flush()

    assert _names(session, LabelChoice()) == ["在用灭火器"]
