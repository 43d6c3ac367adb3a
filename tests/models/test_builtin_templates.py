"""The built-in checklists: each file loads in both languages and can be filled in on site."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.actions import CorrectiveAction
from models.answers import Directory, is_shown
from models.assets import Asset, AssetKind
from models.checklists import (
    BUILTIN_DIR,
    CHOICE_TYPES,
    SEVERITIES,
    ItemSpec,
    TemplateSpec,
    load_template_file,
)
from models.clock import SettableClock
from models.documents import Document, DocumentKind
from models.health import field_name, roster_for, roster_item
from models.messages import SubmissionInvalid
from models.org import School
from models.people import Person
from models.photos import Photo, PhotoStore
from models.records import Channel, Record, Submission, Upload, directory_for, submit_record
from models.suppliers import Supplier
from models.trips import ESCORT_ITEM
from tests.factories import (
    file_pre_trip_check,
    grant_filing_role,
    jpeg_bytes,
    make_asset,
    make_person,
    make_school,
    make_supplier,
    template_for,
)

PATHS = sorted(BUILTIN_DIR.glob("*.toml"))
FILES = [pytest.param(path, id=path.stem) for path in PATHS]
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
PHOTO = jpeg_bytes((800, 600))


def _texts(spec: TemplateSpec) -> Iterator[tuple[str, Mapping[str, str]]]:
    """Every text a person reads, with where it is; units are symbols, so they come apart."""
    yield "title", spec.title
    for item in spec.items:
        yield f"{item.key}.label", item.label
        if item.help:
            yield f"{item.key}.help", item.help
        if item.fail_label:
            yield f"{item.key}.fail_label", item.fail_label
        for option in item.options:
            yield f"{item.key}.{option.value}", option.label


def _can_fail(item: ItemSpec) -> bool:
    """Whether some answer to this item, on its own, fails the record."""
    return (
        item.type == "pass_fail"
        or item.expect is not None
        or bool(item.fail_values)
        or item.fail_below is not None
        or item.fail_above is not None
        or item.must_equal is not None
    )


# Checklists that only count (milk subscriptions) have no answer that fails them.
WITH_FAILURES = [
    pytest.param(path, id=path.stem)
    for path in PATHS
    if any(_can_fail(item) for item in load_template_file(path).items)
]


def _most_severe(spec: TemplateSpec) -> ItemSpec:
    # No escort teacher on board is refused rather than filed as failed (models/trips.py).
    failable = [
        item
        for item in spec.items
        if _can_fail(item) and not (spec.trip == "departure" and item.key == ESCORT_ITEM)
    ]
    return max(failable, key=lambda item: SEVERITIES.index(item.severity))


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _passing_number(item: ItemSpec, answers: Mapping[str, str], asset: Asset) -> str:
    if item.must_equal and item.must_equal in answers:
        return answers[item.must_equal]
    value = item.min if item.min is not None else 0
    if item.fail_below is not None:
        value = max(value, item.fail_below)
    if item.integer:
        value = math.ceil(value)
    for ceiling in (item.max, item.fail_above, asset.attributes.get(item.max_from_attribute or "")):
        assert ceiling is None or value <= float(ceiling), f"{item.key}: no passing number"
    return _number(value)


def _passing(item: ItemSpec, answers: Mapping[str, str], asset: Asset, directory: Directory) -> str:
    """An answer that the item accepts and that does not fail it; moments are the asset's."""
    now: datetime = asset.created_at
    if item.type == "pass_fail":
        return item.expect or "pass"
    if item.type == "yes_no":
        return item.expect or next(v for v in item.values if v not in item.fail_values)
    if item.type in CHOICE_TYPES:
        return next(v for v in item.values if v not in item.fail_values)
    if item.type == "number":
        return _passing_number(item, answers, asset)
    if item.type == "date":
        return now.date().isoformat()
    if item.type == "time":
        return now.strftime("%H:%M")
    if item.type == "datetime":
        return now.strftime("%Y-%m-%dT%H:%M")
    if item.type == "person":
        return str(next(iter(directory.people)))
    if item.type == "supplier":
        category = answers.get(item.category_from or "")
        return str(
            next(k for k, s in directory.suppliers.items() if category in (None, *s.categories))
        )
    return "已检查"


def _failing(item: ItemSpec, answers: Mapping[str, str]) -> str:
    """An answer that fails the item on its own."""
    if item.expect is not None:
        return next(v for v in item.values if v != item.expect)
    if item.fail_values:
        return item.fail_values[0]
    if item.type == "pass_fail":
        return "fail"
    if item.fail_below is not None and (item.min is None or item.fail_below - 1 >= item.min):
        return _number(item.fail_below - 1)
    if item.fail_above is not None and (item.max is None or item.fail_above + 1 <= item.max):
        return _number(item.fail_above + 1)
    assert item.must_equal, f"{item.key}: no failing answer"
    return _number(float(answers[item.must_equal]) + 1)


def _conditions_for(spec: TemplateSpec, item: ItemSpec) -> dict[str, str]:
    """Answers to the earlier items that make this item shown."""
    overrides: dict[str, str] = {}
    while item.show_if is not None:
        overrides[item.show_if.item] = item.show_if.values[0]
        item = spec.item(item.show_if.item)
    return overrides


def _fill(
    spec: TemplateSpec,
    asset: Asset,
    directory: Directory,
    overrides: Mapping[str, str] | None = None,
    fail: str | None = None,
) -> tuple[dict[str, str], list[Upload]]:
    """A passing answer for every item shown, in order, with a photo for each required photo."""
    overrides = overrides or {}
    answers: dict[str, str] = {}
    uploads: list[Upload] = []
    for item in spec.items:
        if item.type == "roster" or item.roster or not is_shown(item, answers):
            continue  # a roster's fields are asked of each person on it (_roster_answers)
        if item.type == "photo":
            if item.required:
                uploads.append(Upload(item.key, PHOTO))
        elif item.key == fail:
            answers[item.key] = _failing(item, answers)
        elif item.key in overrides:
            answers[item.key] = overrides[item.key]
        else:
            answers[item.key] = _passing(item, answers, asset, directory)
    return answers, uploads


def _roster_answers(
    session: Session, spec: TemplateSpec, asset: Asset, now: datetime, fail: str | None = None
) -> dict[str, str]:
    """Each person on the checklist's roster at work, every required field passed (or the one
    named `fail` failed)."""
    item = roster_item(spec)
    if item is None:
        return {}
    answers = {}
    for entry in roster_for(session, spec, asset, now) or []:
        for field in spec.roster_fields(item.key):
            name = field_name(item.key, entry.person_id, field.key)
            if field.key == fail:
                answers[name] = _failing(field, {})
            elif field.required:
                answers[name] = _passing(field, {}, asset, Directory())
    return answers


def _ready(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    filer: Person,
    asset: Asset,
    spec: TemplateSpec,
    answers: Mapping[str, str],
) -> None:
    """A departure needs the day's pre-trip check, an arrival a departure to end, and the
    canteen worker who files the morning health check a valid health certificate."""
    if spec.key == "canteen_morning_health_check":
        grant_filing_role(session, filer, spec.key, asset.school)
        session.add(
            Document(
                district_id=asset.school.district_id,
                school_id=asset.school_id,
                kind=DocumentKind.HEALTH_CERTIFICATE,
                title="健康证明",
                person_id=filer.id,
                expires_on=clock.now().date() + timedelta(days=300),
                created_at=clock.now(),
            )
        )
        session.flush()
    if spec.trip is None:
        return
    bus = asset
    driver = grant_filing_role(session, filer, "bus_pre_trip_check", bus.school)
    file_pre_trip_check(session, clock, store, bus, driver)
    if spec.trip == "arrival":
        departure = template_for(session, "bus_departure").spec
        boarded, _ = _fill(departure, bus, Directory())
        boarded["children_boarded"] = answers["children_got_off"]
        _submit(session, clock, store, filer, bus, departure.key, boarded, [], key="builtin-dep")


@pytest.fixture
def school(session: Session, clock: SettableClock) -> School:
    """A school whose district has a supplier approved for every category of goods."""
    school = make_school(session)
    make_supplier(session, clock, school)
    return school


@pytest.fixture
def filer(session: Session, clock: SettableClock, school: School) -> Person:
    return make_person(session, clock, school, username="filer")


def _asset(session: Session, clock: SettableClock, school: School, kind: str) -> Asset:
    """An asset of the kind a checklist applies to; a bus comes with its seats."""
    return make_asset(session, clock, school, AssetKind(kind), code="T-001", name="测试")


def _submit(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    filer: Person,
    asset: Asset,
    template_key: str,
    answers: Mapping[str, str],
    uploads: list[Upload],
    key: str = "builtin-0001",
    repeat_confirmed: bool = False,
) -> Submission:
    return submit_record(
        session,
        actor=grant_filing_role(session, filer, template_key, asset.school),
        asset=asset,
        template=template_for(session, template_key),
        answers=answers,
        uploads=uploads,
        key=key,
        channel=Channel.WEB,
        clock=clock,
        store=store,
        repeat_confirmed=repeat_confirmed,
    )


@pytest.mark.parametrize("path", FILES)
def test_every_built_in_file_loads_under_its_own_key_for_a_known_asset_kind(path: Path) -> None:
    spec = load_template_file(path)

    assert spec.key == path.stem
    assert spec.kind in set(AssetKind)
    first_line = path.read_text(encoding="utf-8").splitlines()[0]
    assert re.match(r"# Points? \d", first_line), "say which point(s) of the source it serves"


@pytest.mark.parametrize("path", FILES)
def test_every_text_is_in_simplified_chinese_and_in_plain_english(path: Path) -> None:
    spec = load_template_file(path)

    for where, text in _texts(spec):
        chinese = CJK.findall(text["zh_CN"])
        assert chinese, f"{where}: the Chinese text has no Chinese"
        for character in chinese:
            character.encode("gb2312")  # most traditional characters are not in GB 2312
        assert not CJK.search(text["en"]), f"{where}: the English text has Chinese in it"
    for item in spec.items:
        if item.unit:
            assert item.unit["zh_CN"] and item.unit["en"]
            assert not CJK.search(item.unit["en"]), f"{item.key}.unit"


@pytest.mark.parametrize("path", WITH_FAILURES)
def test_every_item_that_can_fail_names_its_failure_in_its_own_words(path: Path) -> None:
    spec = load_template_file(path)

    for item in spec.items:
        if item.can_fail(spec.trip):
            for locale in ("zh_CN", "en"):
                assert item.fail_label[locale] != item.label[locale], f"{item.key}.{locale}"


@pytest.mark.parametrize("path", FILES)
def test_conditional_items_hang_on_an_earlier_choice_the_phone_can_show_and_hide(
    path: Path,
) -> None:
    spec = load_template_file(path)

    for item in spec.items:
        if item.show_if is not None:
            source = spec.item(item.show_if.item)
            assert source.type in ("pass_fail", "yes_no", *CHOICE_TYPES), item.key


@pytest.mark.parametrize("path", FILES)
def test_a_checklist_filled_in_without_problems_is_filed_as_passed(
    path: Path,
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    school: School,
    filer: Person,
) -> None:
    spec = load_template_file(path)
    asset = _asset(session, clock, school, spec.kind)
    answers, uploads = _fill(spec, asset, directory_for(session, spec, asset))
    _ready(session, clock, store, filer, asset, spec, answers)

    roster = _roster_answers(session, spec, asset, clock.now())

    record = _submit(
        session, clock, store, filer, asset, spec.key, {**answers, **roster}, uploads
    ).record

    assert record.passed, record.failed_items
    # Besides the answers, a record may keep what it found itself ("_on_duty"), and each
    # person's answers under the roster's key.
    rosters = {i.key for i in spec.items if i.type == "roster"}
    assert {key for key in record.answers if not key.startswith("_")} == set(answers) | rosters
    assert len(record.photos) == len(uploads)


@pytest.mark.parametrize("path", FILES)
def test_an_empty_checklist_is_refused_naming_every_required_item_shown(
    path: Path,
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    school: School,
    filer: Person,
) -> None:
    spec = load_template_file(path)
    asset = _asset(session, clock, school, spec.kind)

    with pytest.raises(SubmissionInvalid) as refused:
        _submit(session, clock, store, filer, asset, spec.key, {}, [])

    # A roster names each person's fields, or, with nobody on it, the roster itself.
    shown_and_required = {
        i.key
        for i in spec.items
        if i.required and i.show_if is None and i.roster is None and i.type != "roster"
    }
    if (item := roster_item(spec)) is not None:
        people = roster_for(session, spec, asset, clock.now()) or []
        first = spec.roster_fields(item.key)[0].key
        shown_and_required |= {field_name(item.key, e.person_id, first) for e in people} or {
            item.key
        }
    assert set(refused.value.errors) == shown_and_required
    assert session.scalar(select(func.count()).select_from(Record)) == 0


@pytest.mark.parametrize("path", WITH_FAILURES)
def test_failing_the_most_severe_item_fails_the_record_at_that_severity(
    path: Path,
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    school: School,
    filer: Person,
) -> None:
    spec = load_template_file(path)
    item = _most_severe(spec)
    asset = _asset(session, clock, school, spec.kind)
    directory = directory_for(session, spec, asset)
    answers, uploads = _fill(spec, asset, directory, _conditions_for(spec, item), fail=item.key)
    _ready(session, clock, store, filer, asset, spec, answers)
    answers |= _roster_answers(session, spec, asset, clock.now(), fail=item.key)

    record = _submit(session, clock, store, filer, asset, spec.key, answers, uploads).record

    assert not record.passed
    assert item.key in record.failed_items
    assert record.template.spec.severity_of(record.failed_items) == item.severity
    action = session.scalar(
        select(CorrectiveAction).where(
            CorrectiveAction.record_id == record.id, CorrectiveAction.item_key == item.key
        )
    )
    assert action is not None
    # A roster's failure names the people it failed for after its text.
    assert action.what == item.fail_label or all(
        action.what[locale].startswith(text) for locale, text in item.fail_label.items()
    )


RECEIVING = "canteen_receiving_check"
NOTE = [Upload("delivery_note", PHOTO)]
# What 食品安全法 §53 asks a receiving record to hold.
LOGGED = {
    "product": "小白菜",
    "specification": "散装",
    "quantity": "30 千克",
    "batch": "2026-03-02",
    "shelf_life": "3 天",
    "delivered_on": "2026-03-02",
}


@pytest.fixture
def delivery(session: Session, school: School) -> dict[str, str]:
    """Vegetables from the district's supplier, seen and fine, before the decision."""
    supplier_id = session.scalar(select(Supplier.id).where(Supplier.name == "绿源蔬菜配送"))
    return {
        "category": "vegetables",
        "supplier": str(supplier_id),
        **LOGGED,
        "certificate_seen": "yes",
        "quality_ok": "pass",
    }


def test_an_accepted_delivery_needs_no_refusal_reason_and_keeps_none_sent(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    school: School,
    filer: Person,
    delivery: dict[str, str],
) -> None:
    canteen = _asset(session, clock, school, AssetKind.CANTEEN)
    accepted = {**delivery, "decision": "accepted"}

    first = _submit(session, clock, store, filer, canteen, RECEIVING, accepted, NOTE).record
    with_reason = {**accepted, "refusal_reason": "菜叶发黄", "designated_brand": "no"}
    # A second delivery of the same goods the same day: filed once the person confirms it.
    second = _submit(
        session,
        clock,
        store,
        filer,
        canteen,
        RECEIVING,
        with_reason,
        NOTE,
        key="builtin-0002",
        repeat_confirmed=True,
    ).record

    assert first.passed and second.passed
    assert "refusal_reason" not in second.answers
    assert "designated_brand" not in second.answers


def test_a_refused_delivery_must_say_why(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    school: School,
    filer: Person,
    delivery: dict[str, str],
) -> None:
    canteen = _asset(session, clock, school, AssetKind.CANTEEN)
    refused = {**delivery, "decision": "refused"}

    with pytest.raises(SubmissionInvalid) as missing:
        _submit(session, clock, store, filer, canteen, RECEIVING, refused, NOTE)
    assert set(missing.value.errors) == {"refusal_reason"}

    answers = {**refused, "quality_ok": "fail", "refusal_reason": "菜叶发黄，有异味"}
    record = _submit(session, clock, store, filer, canteen, RECEIVING, answers, NOTE).record
    assert record.answers["refusal_reason"] == "菜叶发黄，有异味"
    assert record.failed_items == ["quality_ok", "decision"]


def test_meat_must_be_of_the_designated_brand(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    school: School,
    filer: Person,
    delivery: dict[str, str],
) -> None:
    canteen = _asset(session, clock, school, AssetKind.CANTEEN)
    meat = {**delivery, "category": "meat", "decision": "refused", "refusal_reason": "非指定品牌"}

    with pytest.raises(SubmissionInvalid) as missing:
        _submit(session, clock, store, filer, canteen, RECEIVING, meat, NOTE)
    assert set(missing.value.errors) == {"designated_brand"}

    answers = {**meat, "designated_brand": "no"}
    record = _submit(session, clock, store, filer, canteen, RECEIVING, answers, NOTE).record
    assert record.template.spec.severity_of(record.failed_items) == "critical"


def test_goods_from_a_supplier_not_approved_for_their_category_are_refused_storing_nothing(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    school: School,
    filer: Person,
    delivery: dict[str, str],
) -> None:
    canteen = _asset(session, clock, school, AssetKind.CANTEEN)
    butcher = make_supplier(session, clock, school, name="放心肉联厂", categories=("meat",))
    vegetables = {**delivery, "supplier": str(butcher.id), "decision": "accepted"}

    with pytest.raises(SubmissionInvalid) as refused:
        _submit(session, clock, store, filer, canteen, RECEIVING, vegetables, NOTE)

    assert set(refused.value.errors) == {"supplier"}
    message = refused.value.errors["supplier"]
    assert "not approved" in message.msgid
    assert message.params["supplier"] == "放心肉联厂"
    assert message.params["category"]["zh_CN"] == "蔬菜"
    assert session.scalar(select(func.count()).select_from(Record)) == 0
    assert session.scalar(select(func.count()).select_from(Photo)) == 0

    meat = {**vegetables, "category": "meat", "designated_brand": "yes"}
    record = _submit(session, clock, store, filer, canteen, RECEIVING, meat, NOTE).record
    assert record.passed
    assert record.answers["supplier"] == {"id": butcher.id, "name": "放心肉联厂"}


def test_only_the_districts_active_suppliers_can_be_chosen(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    school: School,
    filer: Person,
    delivery: dict[str, str],
) -> None:
    canteen = _asset(session, clock, school, AssetKind.CANTEEN)
    elsewhere = make_supplier(session, clock, make_school(session, code="S9"), name="外区配送")
    dropped = make_supplier(session, clock, school, name="已停用配送", active=False)

    for supplier in (elsewhere, dropped):
        answers = {**delivery, "supplier": str(supplier.id), "decision": "accepted"}
        with pytest.raises(SubmissionInvalid) as refused:
            _submit(session, clock, store, filer, canteen, RECEIVING, answers, NOTE)
        assert refused.value.errors["supplier"].msgid == "Choose a supplier from the list."
    assert session.scalar(select(func.count()).select_from(Record)) == 0


# Built-in checklists that name no rule: none today. One that no rule stands behind belongs
# here, with a comment saying why.
WITHOUT_BASIS: set[str] = set()


@pytest.mark.parametrize("path", FILES)
def test_every_built_in_checklist_names_its_rule_or_is_listed_as_not_yet(path: Path) -> None:
    spec = load_template_file(path)
    if spec.key in WITHOUT_BASIS:
        assert not spec.basis, f"{spec.key} has a basis now: take it off WITHOUT_BASIS"
    else:
        assert set(spec.basis) == {"zh_CN", "en"}, f"{spec.key} names no rule (basis)"


def test_the_list_of_checklists_without_a_rule_names_only_real_files() -> None:
    assert {load_template_file(p).key for p in PATHS} >= WITHOUT_BASIS


# Rules cited without an article because the article number could not be checked against the
# rule's text (the words quoted are the rule's own): (checklist, rule).
ARTICLE_UNVERIFIED = {
    ("canteen_food_sample_retention", "学校食品安全与营养健康管理规定"),
    ("canteen_model_review", "学校食品安全与营养健康管理规定"),
    ("dorm_electrical_safety", "中小学校、幼儿园消防安全十项规定"),
    ("fire_monthly_check", "中小学校、幼儿园消防安全十项规定"),
    ("dorm_room_disinfection", "中小学校传染病预防控制工作管理规范"),
    ("extinguisher_annual_maintenance", "灭火器维修"),
    ("extinguisher_monthly", "建筑灭火器配置验收及检查规范"),
    ("meter_reading", "公共机构节能条例"),
    ("milk_delivery", "国家学生饮用奶计划推广管理办法"),
    ("milk_subscription", "国家学生饮用奶计划推广管理办法"),
    ("surroundings_patrol", "中小学幼儿园安全管理办法"),
    ("traffic_post_arrival", "国务院办公厅关于加强中小学幼儿园安全风险防控体系建设的意见"),
    ("traffic_post_dismissal", "国务院办公厅关于加强中小学幼儿园安全风险防控体系建设的意见"),
    ("uniform_delivery", "关于进一步加强中小学生校服管理工作的意见"),
}
_CITED = re.compile(r"《([^》]+)》(（[^）]*）)?(第[一二三四五六七八九十百]+条)?")


@pytest.mark.parametrize("path", FILES)
def test_a_rule_line_names_the_article_of_each_rule_it_cites(path: Path) -> None:
    spec = load_template_file(path)
    for rule, _, article in _CITED.findall(spec.basis.get("zh_CN", "")):
        if (spec.key, rule) in ARTICLE_UNVERIFIED:
            continue
        assert article, f"{spec.key} cites 《{rule}》 without an article"


def test_the_list_of_rules_cited_without_an_article_is_still_true() -> None:
    for path in PATHS:
        spec = load_template_file(path)
        cited = {
            (spec.key, rule): article
            for rule, _, article in _CITED.findall(spec.basis.get("zh_CN", ""))
        }
        for key, rule in ARTICLE_UNVERIFIED:
            if key == spec.key:
                assert (key, rule) in cited, f"{key} no longer cites 《{rule}》"
