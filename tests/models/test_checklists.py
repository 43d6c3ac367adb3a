"""Checklists are data: built-ins load, bad files are named, versions are kept."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from models.checklists import (
    TemplateError,
    TemplateSpec,
    base_template,
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

    assert base_template(session, "bus_trip").version == 1


def test_a_changed_template_becomes_a_new_version_and_the_old_one_stays(
    session: Session, clock: SettableClock
) -> None:
    first = base_template(session, "bus_trip")
    data = first.spec.to_json()
    data["title"] = {"zh_CN": "校车随车确认（新）", "en": "Bus trip (new)"}

    second = save_template_version(session, spec_from_json(data), now=clock.now())

    assert second.version == 2
    assert base_template(session, "bus_trip") is second
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
    other = make_school(session, "S2")
    data = base_template(session, "bus_trip").spec.to_json()
    data["title"] = {"zh_CN": "校车随车确认（新）", "en": "Bus trip (new)"}
    spec = spec_from_json(data)
    now = clock.now()
    ours = {"district_id": school.district_id, "now": now}

    with pytest.raises(ChecklistsRefused):
        save_checklist(session, head, spec, editing="bus_trip", **ours)
    with pytest.raises(ChecklistsRefused):
        save_checklist(
            session, district, spec, district_id=other.district_id, editing="bus_trip", now=now
        )
    with pytest.raises(TemplateError, match="key: keep it as bus_arrival"):
        save_checklist(session, district, spec, editing="bus_arrival", **ours)
    with pytest.raises(TemplateError, match="key: bus_trip is taken"):
        save_checklist(session, district, spec, editing=None, **ours)
    with pytest.raises(TemplateError, match="kind: must be one of"):
        save_checklist(
            session, district, spec_from_json({**data, "kind": "boat"}), editing="bus_trip", **ours
        )
    saved = save_checklist(session, district, spec, editing="bus_trip", **ours)

    assert saved.version == 2 and saved.district_id == school.district_id


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


def _retitled(session: Session, key: str, en: str) -> TemplateSpec:
    data = base_template(session, key).spec.to_json()
    data["title"] = {"zh_CN": en, "en": en}
    return spec_from_json(data)


def test_a_districts_edit_is_filed_by_its_schools_only(
    session: Session, clock: SettableClock
) -> None:
    from models.checklists import save_checklist, templates_for_kind
    from tests.factories import make_district_admin, make_school

    ours, theirs = make_school(session, "S1"), make_school(session, "S2")
    admin = make_district_admin(session, clock, ours)
    builtin = base_template(session, "bus_trip")

    edited = save_checklist(
        session,
        admin,
        _retitled(session, "bus_trip", "Our bus trip"),
        district_id=ours.district_id,
        editing="bus_trip",
        now=clock.now(),
    )

    assert latest_template(session, "bus_trip", district_id=ours.district_id) is edited
    assert latest_template(session, "bus_trip", district_id=theirs.district_id) is builtin
    assert base_template(session, "bus_trip") is builtin
    titles = {
        district_id: {
            t.key: t.spec.title_text("en") for t in templates_for_kind(session, district_id, "bus")
        }
        for district_id in (ours.district_id, theirs.district_id)
    }
    assert titles[ours.district_id]["bus_trip"] == "Our bus trip"
    assert titles[theirs.district_id]["bus_trip"] == builtin.spec.title_text("en")
    assert titles[ours.district_id].keys() == titles[theirs.district_id].keys()


def test_a_districts_own_checklist_is_not_there_for_another_district_which_may_use_its_key(
    session: Session, clock: SettableClock
) -> None:
    from models.checklist_drafts import free_checklist_key
    from models.checklists import latest_templates, save_checklist
    from tests.factories import make_district_admin, make_school

    ours, theirs = make_school(session, "S1"), make_school(session, "S2")
    spec = spec_from_json(
        {**_one_item(type="pass_fail", fail_label=TEXT), "key": "own_1", "kind": "canteen"}
    )
    save_checklist(
        session,
        make_district_admin(session, clock, ours, "ours"),
        spec,
        district_id=ours.district_id,
        editing=None,
        now=clock.now(),
    )

    assert latest_template(session, "own_1", district_id=theirs.district_id) is None
    assert "own_1" not in {t.key for t in latest_templates(session, theirs.district_id)}
    assert free_checklist_key(session, ours.district_id) == "own_2"
    assert free_checklist_key(session, theirs.district_id) == "own_1"
    second = save_checklist(
        session,
        make_district_admin(session, clock, theirs, "theirs"),
        spec,
        district_id=theirs.district_id,
        editing=None,
        now=clock.now(),
    )
    assert (second.district_id, second.version) == (theirs.district_id, 1)


def test_a_new_built_in_version_reaches_a_district_that_edited_the_checklist(
    session: Session, clock: SettableClock
) -> None:
    """As before districts had their own: a release's changed file becomes what every school
    files, and the district edits it again from there."""
    from models.checklists import save_checklist
    from tests.factories import make_district_admin, make_school

    ours, theirs = make_school(session, "S1"), make_school(session, "S2")
    for school in (ours, theirs):
        for title in ("First", "Second"):
            save_checklist(
                session,
                make_district_admin(session, clock, school, f"{school.code}{title}"),
                _retitled(session, "bus_trip", f"{school.code} {title}"),
                district_id=school.district_id,
                editing="bus_trip",
                now=clock.now(),
            )

    release = save_template_version(
        session, _retitled(session, "bus_trip", "Released"), now=clock.now()
    )

    assert release.version == 4 and release.district_id is None
    for school in (ours, theirs):
        assert latest_template(session, "bus_trip", district_id=school.district_id) is release
