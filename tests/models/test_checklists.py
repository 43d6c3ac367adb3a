"""Checklists are data: built-ins load, bad files are named, versions are kept."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from models.checklists import (
    TemplateError,
    builtin_specs,
    latest_template,
    load_template_file,
    save_template_version,
    spec_from_json,
    sync_builtin_templates,
)
from models.clock import SettableClock


def test_every_built_in_checklist_has_chinese_and_english_text() -> None:
    specs = {spec.key: spec for spec in builtin_specs()}

    assert {"extinguisher_monthly", "water_dispenser_disinfection", "bus_trip"} <= set(specs)
    for spec in specs.values():
        assert spec.title_text("zh_CN") != spec.title_text("en")
        for item in spec.items:
            assert item.text("zh_CN") and item.text("en")


def test_the_extinguisher_check_covers_what_an_inspector_looks_at() -> None:
    spec = next(s for s in builtin_specs() if s.key == "extinguisher_monthly")

    keys = [item.key for item in spec.items]
    assert keys[:5] == ["gauge_green", "pin_seal", "body_intact", "hose_clear", "accessible_signed"]
    assert spec.item("photo").required


def test_a_broken_template_file_is_named_with_item_and_field(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(
        'key = "x"\nkind = "bus"\ntitle = { zh_CN = "甲", en = "A" }\n'
        '[[items]]\nkey = "q1"\ntype = "slider"\nlabel = { zh_CN = "甲", en = "A" }\n',
        encoding="utf-8",
    )

    with pytest.raises(TemplateError, match=r"broken\.toml: item q1\.type: must be one of"):
        load_template_file(path)


def test_a_template_missing_english_text_is_refused() -> None:
    with pytest.raises(TemplateError, match="title: needs a text for each of zh_CN, en"):
        spec_from_json({"key": "x", "kind": "bus", "title": {"zh_CN": "甲"}, "items": []})


TEXT = {"zh_CN": "甲", "en": "A"}


def _one_item(**item: object) -> dict[str, object]:
    return {
        "key": "x",
        "kind": "bus",
        "title": TEXT,
        "items": [{"key": "q", "label": TEXT, **item}],
    }


@pytest.mark.parametrize(
    "item",
    [
        {"type": "pass_fail"},
        {"type": "yes_no", "expect": "yes"},
        {"type": "number", "fail_above": 8},
        {
            "type": "single_choice",
            "options": [{"value": "a", "label": TEXT}, {"value": "b", "label": TEXT}],
            "fail_values": ["b"],
        },
    ],
)
def test_an_item_that_can_fail_must_name_its_failure(item: dict[str, object]) -> None:
    with pytest.raises(TemplateError, match=r"item q\.fail_label: name the failure"):
        spec_from_json(_one_item(**item))


def test_a_failure_text_needs_both_languages() -> None:
    with pytest.raises(TemplateError, match=r"item q\.fail_label: needs a text for each"):
        spec_from_json(_one_item(type="pass_fail", fail_label={"zh_CN": "坏了"}))


def test_an_item_that_cannot_fail_needs_no_failure_text() -> None:
    spec = spec_from_json(_one_item(type="text"))

    assert spec.item("q").fail_label == {}


def test_a_stored_version_without_failure_texts_says_the_item_failed() -> None:
    label = {"zh_CN": "压力表指针在绿区", "en": "Gauge needle in the green zone"}
    data = _one_item(type="pass_fail")
    data["items"][0]["label"] = label  # type: ignore[index]

    item = spec_from_json(data, stored=True).item("q")

    assert item.fail_text("zh_CN") == "未通过：压力表指针在绿区"
    assert item.fail_text("en") == "Failed: Gauge needle in the green zone"


def test_a_failure_text_is_kept_with_the_version() -> None:
    fail_label = {"zh_CN": "坏了", "en": "Broken"}
    spec = spec_from_json(_one_item(type="pass_fail", fail_label=fail_label))

    again = spec_from_json(spec.to_json(), stored=True)

    assert again.item("q").fail_text("en") == "Broken"
    assert again.content_hash() == spec.content_hash()


def _with_supplier(category: dict[str, object], supplier: dict[str, object]) -> dict[str, object]:
    return {
        "key": "x",
        "kind": "canteen",
        "title": TEXT,
        "items": [
            {"key": "category", "label": TEXT, **category},
            {"key": "supplier", "type": "supplier", "label": TEXT, **supplier},
        ],
    }


@pytest.mark.parametrize(
    ("category", "supplier", "problem"),
    [
        ({"type": "text"}, {"category_from": "category"}, "no earlier single_choice 'category'"),
        (
            {
                "type": "single_choice",
                "options": [{"value": "meat", "label": TEXT}, {"value": "seafood", "label": TEXT}],
            },
            {"category_from": "category"},
            "seafood is not a supply category",
        ),
        ({"type": "text"}, {"category_from": "nothing"}, "no earlier single_choice 'nothing'"),
    ],
)
def test_a_supplier_item_is_judged_against_a_category_the_register_knows(
    category: dict[str, object], supplier: dict[str, object], problem: str
) -> None:
    with pytest.raises(TemplateError, match=rf"item supplier\.category_from: {re.escape(problem)}"):
        spec_from_json(_with_supplier(category, supplier))


def test_only_a_supplier_item_takes_its_category_from_another() -> None:
    data = _with_supplier({"type": "text"}, {})
    data["items"][1] = {"key": "note", "type": "text", "label": TEXT, "category_from": "category"}

    with pytest.raises(TemplateError, match=r"item note\.category_from: only supplier items"):
        spec_from_json(data)


def test_syncing_twice_adds_no_version(session: Session, clock: SettableClock) -> None:
    sync_builtin_templates(session, now=clock.now())

    assert latest_template(session, "bus_trip").version == 1


def test_a_changed_template_becomes_a_new_version_and_the_old_one_stays(
    session: Session, clock: SettableClock
) -> None:
    first = latest_template(session, "bus_trip")
    data = first.spec.to_json()
    data["title"] = {"zh_CN": "校车随车确认（新）", "en": "Bus trip (new)"}

    second = save_template_version(session, spec_from_json(data), now=clock.now())

    assert second.version == 2
    assert latest_template(session, "bus_trip") is second
    assert first.spec.title_text("en") == "School bus trip confirmation"


def test_only_a_district_administrator_saves_a_checklist_keeping_its_key_and_a_known_kind(
    session: Session, clock: SettableClock
) -> None:
    from models.checklists import ChecklistsRefused, save_checklist
    from models.people import Role
    from tests.factories import make_person, make_school

    school = make_school(session)
    head = make_person(session, clock, school, Role.SCHOOL_ADMIN, "head")
    district = make_person(session, clock, school, Role.DISTRICT_ADMIN, "district")
    data = latest_template(session, "bus_trip").spec.to_json()
    data["title"] = {"zh_CN": "校车随车确认（新）", "en": "Bus trip (new)"}
    now = clock.now()

    with pytest.raises(ChecklistsRefused):
        save_checklist(session, head, spec_from_json(data), editing="bus_trip", now=now)
    with pytest.raises(TemplateError, match="key: keep it as bus_arrival"):
        save_checklist(session, district, spec_from_json(data), editing="bus_arrival", now=now)
    with pytest.raises(TemplateError, match="key: bus_trip is taken"):
        save_checklist(session, district, spec_from_json(data), editing=None, now=now)
    with pytest.raises(TemplateError, match="kind: must be one of"):
        save_checklist(
            session, district, spec_from_json({**data, "kind": "boat"}), editing="bus_trip", now=now
        )
    saved = save_checklist(session, district, spec_from_json(data), editing="bus_trip", now=now)

    assert saved.version == 2


def test_a_checklist_names_its_basis_and_minimum_frequency_and_keeps_them_through_storage() -> None:
    basis = {"zh_CN": "公安部令第61号 第二十五条", "en": "MPS Order No. 61, art. 25"}
    data = {**_one_item(type="text"), "basis": basis, "minimum_frequency": "daily"}

    spec = spec_from_json(data)
    again = spec_from_json(spec.to_json(), stored=True)

    assert (again.basis, again.minimum_frequency) == (basis, "daily")
    assert (
        spec_from_json(_one_item(type="text")).content_hash()
        == spec_from_json(spec_from_json(_one_item(type="text")).to_json()).content_hash()
    )


def test_a_basis_needs_both_languages_and_a_frequency_must_be_one_the_format_knows() -> None:
    with pytest.raises(TemplateError, match=r"basis: needs a text for each"):
        spec_from_json({**_one_item(type="text"), "basis": {"zh_CN": "第61号令"}})
    with pytest.raises(TemplateError, match=r"minimum_frequency: must be one of every_meal"):
        spec_from_json({**_one_item(type="text"), "minimum_frequency": "sometimes"})


def test_a_person_item_names_only_known_roles_and_only_a_person_item_names_roles() -> None:
    spec = spec_from_json(_one_item(type="person", roles=["canteen_staff", "food_safety_officer"]))
    assert spec.item("q").roles == ("canteen_staff", "food_safety_officer")
    assert spec_from_json(spec.to_json(), stored=True).item("q").roles == spec.item("q").roles

    with pytest.raises(TemplateError, match=r"item q\.roles: chef: must be one of"):
        spec_from_json(_one_item(type="person", roles=["chef"]))
    with pytest.raises(TemplateError, match=r"item q\.roles: only person items name roles"):
        spec_from_json(_one_item(type="text", roles=["teacher"]))


def test_a_required_if_names_an_earlier_answer_and_is_kept_with_the_version() -> None:
    rating = {
        "key": "rating",
        "type": "single_choice",
        "label": TEXT,
        "options": [{"value": "ok", "label": TEXT}, {"value": "bad", "label": TEXT}],
    }
    comment = {"key": "comment", "type": "text", "label": TEXT, "required": False}
    data = {"key": "x", "kind": "bus", "title": TEXT, "items": [rating, comment]}

    comment["required_if"] = {"item": "rating", "values": ["bad"]}
    spec = spec_from_json(data)
    assert (
        spec_from_json(spec.to_json()).item("comment").required_if
        == spec.item("comment").required_if
    )

    comment["required_if"] = {"item": "rating", "values": ["awful"]}
    with pytest.raises(TemplateError, match=r"item comment\.required_if\.values: 'rating' has"):
        spec_from_json(data)
    comment["required_if"] = {"item": "later", "values": ["bad"]}
    with pytest.raises(TemplateError, match=r"item comment\.required_if\.item: no earlier item"):
        spec_from_json(data)


def test_checked_if_is_only_for_a_supplier_item_and_names_an_item_of_the_checklist() -> None:
    data = _with_supplier({"type": "text"}, {"checked_if": {"item": "category", "values": ["x"]}})
    with pytest.raises(TemplateError, match=r"item supplier\.checked_if\.item: .* is not a choice"):
        spec_from_json(data)
    data["items"][1] = {
        "key": "note",
        "type": "text",
        "label": TEXT,
        "checked_if": {"item": "category", "values": ["x"]},
    }
    with pytest.raises(TemplateError, match=r"item note\.checked_if: only supplier items"):
        spec_from_json(data)


def test_a_field_asked_of_each_person_needs_an_earlier_roster_and_a_simple_answer() -> None:
    spec = {
        "key": "x",
        "kind": "canteen",
        "title": TEXT,
        "items": [
            {"key": "crew", "type": "roster", "label": TEXT},
            {"key": "well", "type": "yes_no", "roster": "crew", "label": TEXT},
        ],
    }
    assert [i.key for i in spec_from_json(spec).roster_fields("crew")] == ["well"]
    assert spec_from_json(spec).passing_answers() == {}

    orphan = {**spec, "items": [{**spec["items"][1], "roster": "nobody"}]}  # type: ignore[index]
    with pytest.raises(TemplateError, match=r"item well\.roster: no earlier roster"):
        spec_from_json(orphan)
    photo = {
        **spec,
        "items": [spec["items"][0], {"key": "p", "type": "photo", "roster": "crew", "label": TEXT}],
    }  # type: ignore[index]
    with pytest.raises(TemplateError, match=r"item p\.type: must be one of"):
        spec_from_json(photo)
