"""A checklist written in the form editor becomes the same checklist a TOML file describes."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from models.checklist_drafts import (
    ChecklistDraft,
    ItemDraft,
    OptionDraft,
    apply_action,
    draft_from_form,
    draft_from_spec,
    field_of,
    form_fields,
    free_checklist_key,
    new_draft,
    spec_from_draft,
)
from models.checklists import (
    TemplateError,
    TemplateSpec,
    builtin_specs,
    latest_template,
    save_checklist,
    sync_builtin_templates,
)
from models.clock import SettableClock
from models.people import Role
from tests.factories import make_person, make_school


@pytest.mark.parametrize("spec", builtin_specs(), ids=lambda s: s.key)
def test_every_built_in_checklist_comes_back_unchanged_through_the_form(
    spec: TemplateSpec,
) -> None:
    draft = draft_from_spec(spec)
    sent_back = draft_from_form(MultiDict(form_fields(draft)))

    again = spec_from_draft(sent_back)

    assert again == spec
    assert again.content_hash() == spec.content_hash()


def _dispenser_draft() -> ChecklistDraft:
    """A district's own checklist as a logistics officer fills in the form."""
    return ChecklistDraft(
        key="own_dispenser",
        kind="water_dispenser",
        title_zh="饮水机每周检查",
        title_en="Weekly dispenser check",
        roles=["dorm_staff"],
        minimum_frequency="weekly",
        items=[
            ItemDraft(
                key="clean",
                type="yes_no",
                label_zh="出水口已清洁",
                label_en="Outlet cleaned",
                expect="yes",
                severity="critical",
                fail_zh="出水口未清洁",
                fail_en="Outlet not cleaned",
            ),
            ItemDraft(
                key="why",
                type="text",
                label_zh="未清洁的原因",
                label_en="Why not",
                show_if_item="clean",
                show_if_values=["no"],
            ),
            ItemDraft(
                key="temperature",
                type="number",
                label_zh="水温",
                label_en="Water temperature",
                unit_zh="℃",
                unit_en="°C",
                min="0",
                max="100",
                fail_below="85",
                fail_zh="水温不足",
                fail_en="Water not hot enough",
            ),
            ItemDraft(
                key="state",
                type="single_choice",
                label_zh="外观",
                label_en="Condition",
                options=[
                    OptionDraft("good", "完好", "Good"),
                    OptionDraft("broken", "损坏", "Broken", fails=True),
                ],
                fail_zh="饮水机损坏",
                fail_en="Dispenser broken",
            ),
            ItemDraft(key="photo", type="photo", label_zh="照片", label_en="Photo"),
        ],
    )


def test_a_form_draft_makes_the_checklist_it_describes() -> None:
    spec = spec_from_draft(_dispenser_draft())

    assert spec.title_text("zh_CN") == "饮水机每周检查"
    assert spec.roles == ("dorm_staff",) and spec.minimum_frequency == "weekly"
    assert spec.item("clean").expect == "yes" and spec.item("clean").severity == "critical"
    assert spec.item("why").show_if is not None and spec.item("why").show_if.values == ("no",)
    temperature = spec.item("temperature")
    assert (temperature.min, temperature.max, temperature.fail_below) == (0, 100, 85)
    assert temperature.unit_text("zh_CN") == "℃"
    assert spec.item("state").fail_values == ("broken",)
    assert spec.passing_answers() == {"clean": "yes"}
    assert draft_from_spec(spec) == draft_from_form(MultiDict(form_fields(_dispenser_draft())))


def test_a_missing_failure_name_is_refused_next_to_that_item() -> None:
    draft = _dispenser_draft()
    draft.items[3].fail_zh = draft.items[3].fail_en = ""

    with pytest.raises(TemplateError) as refused:
        spec_from_draft(draft, "检查表")

    assert "fail_label" in str(refused.value)
    assert field_of(refused.value, draft) == "items-3-fail_label"


def test_a_word_where_a_number_goes_is_refused_next_to_it() -> None:
    draft = _dispenser_draft()
    draft.items[2].max = "一百"

    with pytest.raises(TemplateError) as refused:
        spec_from_draft(draft)

    assert refused.value.text(lambda s: s, "en").endswith("must be a number, e.g. 4 or 2.5")
    assert field_of(refused.value, draft) == "items-2-max"


def test_a_title_in_one_language_only_is_refused_at_the_title() -> None:
    draft = replace(_dispenser_draft(), title_en="")

    with pytest.raises(TemplateError) as refused:
        spec_from_draft(draft)

    assert field_of(refused.value, draft) == "title"


def test_a_repeated_item_key_is_refused_where_it_repeats() -> None:
    draft = _dispenser_draft()
    draft.items[4].key = "clean"

    with pytest.raises(TemplateError) as refused:
        spec_from_draft(draft)

    assert field_of(refused.value, draft) == "items-4-key"


def test_an_item_shown_after_a_later_item_is_refused_at_its_condition() -> None:
    draft = apply_action(_dispenser_draft(), "up:1")

    assert [i.key for i in draft.items][:2] == ["why", "clean"]
    with pytest.raises(TemplateError) as refused:
        spec_from_draft(draft)
    assert field_of(refused.value, draft) == "items-0-show_if"


def test_the_buttons_add_move_and_remove_items_and_options() -> None:
    draft = new_draft("own_1", "canteen")

    draft = apply_action(apply_action(draft, "add_item"), "add_item")
    assert [i.key for i in draft.items] == ["item_1", "item_2", "item_3"]
    draft = apply_action(draft, "down:0")
    assert [i.key for i in draft.items] == ["item_2", "item_1", "item_3"]
    draft = apply_action(draft, "up:0")  # the first stays first
    assert [i.key for i in draft.items] == ["item_2", "item_1", "item_3"]
    draft = apply_action(draft, "remove:1")
    assert [i.key for i in draft.items] == ["item_2", "item_3"]
    draft = apply_action(apply_action(draft, "add_option:0"), "add_option:0")
    assert [o.value for o in draft.items[0].options] == ["option_1", "option_2"]
    draft = apply_action(draft, "remove_option:0:0")
    assert [o.value for o in draft.items[0].options] == ["option_2"]
    one = apply_action(apply_action(draft, "remove:0"), "remove:0")
    assert [i.key for i in one.items] == ["item_3"]  # the last item stays
    assert apply_action(draft, "remove:99") == draft


def test_a_changed_type_drops_the_old_types_fields() -> None:
    draft = _dispenser_draft()
    draft.items[2].type = "text"

    spec = spec_from_draft(draft)

    assert spec.item("temperature").min is None and not spec.item("temperature").fail_label


def test_answers_of_an_item_no_longer_chosen_are_dropped() -> None:
    draft = _dispenser_draft()
    draft.items[1].show_if_item = "state"

    sent_back = draft_from_form(MultiDict(form_fields(draft)))

    assert sent_back.items[1].show_if_values == []


def test_a_new_checklist_gets_a_free_key(session: Session) -> None:
    assert free_checklist_key(session, make_school(session).district_id) == "own_1"


def test_a_district_edit_of_a_built_in_checklist_survives_the_next_upgrade(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    district = make_person(session, clock, school, Role.DISTRICT_ADMIN, "district")
    draft = draft_from_spec(latest_template(session, "extinguisher_monthly", district_id=None).spec)
    draft.title_zh = "灭火器检查（本区）"
    save_checklist(
        session,
        district,
        spec_from_draft(draft),
        district_id=school.district_id,
        editing=draft.key,
        now=clock.now(),
    )

    sync_builtin_templates(session, now=clock.now())  # houqin db upgrade does this

    kept = latest_template(session, "extinguisher_monthly", district_id=school.district_id)
    assert kept.version == 2
    assert kept.spec.title_text("zh_CN") == "灭火器检查（本区）"
