"""A checklist as a form fills it in: a draft of plain texts that becomes the same spec as TOML.

The form-based editor sends the whole draft with every tap (add, move, remove an item), so the
page needs no JavaScript. `spec_from_draft` builds the same data a TOML file parses to and checks
it with `models.checklists.spec_from_json`, so both paths refuse the same mistakes with the same
messages; `field_of` says which field of the form such a message belongs next to.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.checklists import (
    BUILT_IN_VALUES,
    CHOICE_TYPES,
    DUPLICATE_KEY,
    ITEM_TYPES,
    FormTemplate,
    TemplateError,
    TemplateSpec,
    spec_from_json,
    visible_to,
)
from models.messages import N_

ITEM_TYPE_LABELS = {
    "pass_fail": N_("Pass / fail"),
    "yes_no": N_("Yes / no"),
    "single_choice": N_("One choice"),
    "multiple_choice": N_("Several choices"),
    "number": N_("A number"),
    "text": N_("Text"),
    "date": N_("A date"),
    "time": N_("A time of day"),
    "datetime": N_("A date and time"),
    "person": N_("A person at the school"),
    "supplier": N_("A supplier"),
    "photo": N_("Photo"),
}
FAILING_TYPES = ("pass_fail", "yes_no", *CHOICE_TYPES, "number")
NOT_A_NUMBER = N_("must be a number, e.g. 4 or 2.5")
DAMAGED = N_("this part of the form was damaged; open the checklist again")
NUMBER_RE = re.compile(r"-?\d+")
ITEM_WHERE_RE = re.compile(r"item (?P<key>[^.\[]*)(?:\.(?P<field>\w+))?")

# The item fields the form shows, by item type; every other field travels unchanged (`extra`).
_COMMON = ("key", "type", "label", "required", "help", "show_if")
_SHOWN = {
    "pass_fail": (*_COMMON, "severity", "fail_label"),
    "yes_no": (*_COMMON, "expect", "severity", "fail_label"),
    "single_choice": (*_COMMON, "options", "fail_values", "severity", "fail_label"),
    "multiple_choice": (*_COMMON, "options", "fail_values", "severity", "fail_label"),
    "number": (
        *_COMMON,
        "unit",
        "min",
        "max",
        "integer",
        "fail_below",
        "fail_above",
        "severity",
        "fail_label",
    ),
    "photo": (*_COMMON, "multiple"),
}
_TEMPLATE_SHOWN = ("key", "kind", "title", "items", "roles", "basis", "minimum_frequency")


class FormData(Protocol):
    """What a door's form data offers (werkzeug's MultiDict does)."""

    def get(self, key: str) -> str | None: ...

    def getlist(self, key: str) -> list[str]: ...


@dataclass
class OptionDraft:
    value: str = ""
    zh: str = ""
    en: str = ""
    fails: bool = False


@dataclass
class ItemDraft:
    key: str = ""
    type: str = "pass_fail"
    label_zh: str = ""
    label_en: str = ""
    required: bool = True
    help_zh: str = ""
    help_en: str = ""
    expect: str = ""
    severity: str = "major"
    fail_zh: str = ""
    fail_en: str = ""
    unit_zh: str = ""
    unit_en: str = ""
    min: str = ""
    max: str = ""
    integer: bool = False
    fail_below: str = ""
    fail_above: str = ""
    multiple: bool = False
    options: list[OptionDraft] = field(default_factory=list)
    show_if_item: str = ""
    show_if_values: list[str] = field(default_factory=list)
    # The fields this form does not show (max_length, all_ok…), as JSON, kept as they were.
    extra: str = ""

    def shows(self, name: str) -> bool:
        """Whether the form shows this field for the item's type."""
        return name in _SHOWN.get(self.type, _COMMON)


@dataclass
class ChecklistDraft:
    key: str = ""
    kind: str = ""
    title_zh: str = ""
    title_en: str = ""
    roles: list[str] = field(default_factory=list)
    basis_zh: str = ""
    basis_en: str = ""
    minimum_frequency: str = ""
    items: list[ItemDraft] = field(default_factory=list)
    # The checklist's fields this form does not show (a bus trip's role, the bot's answers).
    extra: str = ""

    def answers_of(self, key: str) -> list[tuple[str, OptionDraft | None]]:
        """The answers an item may be shown after: (value, its option or None for built-in)."""
        return _answers(self.items, key)


def _answers(items: list[ItemDraft], key: str) -> list[tuple[str, OptionDraft | None]]:
    item = next((i for i in items if i.key == key), None)
    if item is None:
        return []
    if item.type in CHOICE_TYPES:
        return [(o.value, o) for o in item.options]
    return [(v, None) for v in BUILT_IN_VALUES.get(item.type, ())]


def new_draft(key: str, kind: str) -> ChecklistDraft:
    """An empty checklist with one pass/fail item, as 新建检查表 opens it."""
    return ChecklistDraft(key=key, kind=kind, items=[ItemDraft(key="item_1")])


def free_checklist_key(session: Session, district_id: int) -> str:
    """A key no checklist the district sees has yet, for a new one (own_1, own_2…)."""
    taken = set(session.scalars(select(FormTemplate.key).where(visible_to(district_id)).distinct()))
    number = 1
    while f"own_{number}" in taken:
        number += 1
    return f"own_{number}"


def draft_from_spec(spec: TemplateSpec) -> ChecklistDraft:
    """The form's draft of a stored checklist, for editing it."""
    data = spec.to_json()
    extra = {k: v for k, v in data.items() if k not in _TEMPLATE_SHOWN}
    return ChecklistDraft(
        key=spec.key,
        kind=spec.kind,
        title_zh=spec.title.get("zh_CN", ""),
        title_en=spec.title.get("en", ""),
        roles=list(spec.roles),
        basis_zh=spec.basis.get("zh_CN", ""),
        basis_en=spec.basis.get("en", ""),
        minimum_frequency=spec.minimum_frequency or "",
        items=[_item_draft(raw) for raw in data["items"]],
        extra=json.dumps(extra, ensure_ascii=False) if extra else "",
    )


def _item_draft(raw: Mapping[str, Any]) -> ItemDraft:
    item = ItemDraft(key=raw["key"], type=raw["type"])
    shown = _SHOWN.get(item.type, _COMMON)
    extra = {k: v for k, v in raw.items() if k not in shown}
    fail_values = raw.get("fail_values", []) if "fail_values" in shown else []
    texts = {name: raw.get(name) or {} for name in ("label", "help", "fail_label", "unit")}
    texts = {name: value if name in shown else {} for name, value in texts.items()}
    show_if = raw.get("show_if") or {}
    return replace(
        item,
        label_zh=texts["label"].get("zh_CN", ""),
        label_en=texts["label"].get("en", ""),
        required=raw.get("required", True),
        help_zh=texts["help"].get("zh_CN", ""),
        help_en=texts["help"].get("en", ""),
        expect=raw.get("expect") or "" if "expect" in shown else "",
        severity=raw.get("severity", "major") if "severity" in shown else "major",
        fail_zh=texts["fail_label"].get("zh_CN", ""),
        fail_en=texts["fail_label"].get("en", ""),
        unit_zh=texts["unit"].get("zh_CN", ""),
        unit_en=texts["unit"].get("en", ""),
        min=_number_text(raw.get("min")) if "min" in shown else "",
        max=_number_text(raw.get("max")) if "max" in shown else "",
        integer=bool(raw.get("integer")) and "integer" in shown,
        fail_below=_number_text(raw.get("fail_below")) if "fail_below" in shown else "",
        fail_above=_number_text(raw.get("fail_above")) if "fail_above" in shown else "",
        multiple=bool(raw.get("multiple")) and "multiple" in shown,
        options=[
            OptionDraft(
                value=o["value"],
                zh=o["label"].get("zh_CN", ""),
                en=o["label"].get("en", ""),
                fails=o["value"] in fail_values,
            )
            for o in (raw.get("options", []) if "options" in shown else [])
        ],
        show_if_item=show_if.get("item", ""),
        show_if_values=list(show_if.get("values", [])),
        extra=json.dumps(extra, ensure_ascii=False) if extra else "",
    )


def _number_text(value: float | int | None) -> str:
    return "" if value is None else str(value)


def spec_from_draft(draft: ChecklistDraft, source: str = "<form>") -> TemplateSpec:
    """The spec the draft stands for, checked exactly as a TOML file is (TemplateError)."""
    data: dict[str, Any] = _extra(draft.extra, "template", source)
    data.update(
        key=draft.key.strip(),
        kind=draft.kind,
        title=_texts(draft.title_zh, draft.title_en, required=True),
        items=[_item_json(item, source) for item in draft.items],
    )
    if draft.roles:
        data["roles"] = list(draft.roles)
    basis = _texts(draft.basis_zh, draft.basis_en)
    if basis:
        data["basis"] = basis
    if draft.minimum_frequency:
        data["minimum_frequency"] = draft.minimum_frequency
    return spec_from_json(data, source)


def _item_json(item: ItemDraft, source: str) -> dict[str, Any]:
    where = f"item {item.key.strip()}"
    data: dict[str, Any] = {"key": item.key.strip(), "type": item.type}
    data["label"] = _texts(item.label_zh, item.label_en, required=True)
    shows = item.shows
    # A field the item's (perhaps just changed) type shows comes from the form, not from extra.
    data.update({k: v for k, v in _extra(item.extra, where, source).items() if not shows(k)})
    if not item.required:
        data["required"] = False
    if help_text := _texts(item.help_zh, item.help_en):
        data["help"] = help_text
    if shows("expect") and item.expect:
        data["expect"] = item.expect
    if shows("severity") and item.severity != "major":
        data["severity"] = item.severity
    if shows("fail_label") and (fail := _texts(item.fail_zh, item.fail_en)):
        data["fail_label"] = fail
    if shows("unit") and (unit := _texts(item.unit_zh, item.unit_en)):
        data["unit"] = unit
    for name in ("min", "max", "fail_below", "fail_above"):
        if shows(name) and (number := _number(getattr(item, name), f"{where}.{name}", source)):
            data[name] = number[0]
    if shows("integer") and item.integer:
        data["integer"] = True
    if shows("multiple") and item.multiple:
        data["multiple"] = True
    if shows("options"):
        data["options"] = [
            {"value": o.value.strip(), "label": _texts(o.zh, o.en, required=True)}
            for o in item.options
        ]
        if fails := [o.value.strip() for o in item.options if o.fails]:
            data["fail_values"] = fails
    if item.show_if_item:
        data["show_if"] = {"item": item.show_if_item, "values": list(item.show_if_values)}
    return data


def _texts(zh: str, en: str, *, required: bool = False) -> dict[str, str]:
    """Both languages' texts, or {} when neither is written and the text is optional."""
    zh, en = zh.strip(), en.strip()
    return {"zh_CN": zh, "en": en} if (zh or en or required) else {}


def _number(text: str, where: str, source: str) -> tuple[int | float] | tuple[()]:
    """A typed number as TOML would read it (4 stays an integer, 2.5 a float), or nothing."""
    text = text.strip()
    if not text:
        return ()
    if NUMBER_RE.fullmatch(text):
        return (int(text),)
    try:
        return (float(text),)
    except ValueError:
        raise TemplateError(source, where, NOT_A_NUMBER) from None


def _extra(text: str, where: str, source: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise TemplateError(source, where, DAMAGED)
    return data


def draft_from_form(form: FormData) -> ChecklistDraft:
    """The draft the editor's form sent back (field names as `field_name` makes them)."""

    def text(name: str) -> str:
        return str(form.get(name) or "")

    items = []
    for index in range(_count(text("item_count"))):
        prefix = f"items-{index}-"

        def get(name: str, prefix: str = prefix) -> str:
            return text(prefix + name)

        options = [
            OptionDraft(
                value=get(f"options-{number}-value"),
                zh=get(f"options-{number}-zh"),
                en=get(f"options-{number}-en"),
                fails=bool(get(f"options-{number}-fails")),
            )
            for number in range(_count(get("option_count")))
        ]
        items.append(
            ItemDraft(
                key=get("key"),
                type=get("type") if get("type") in ITEM_TYPES else "pass_fail",
                label_zh=get("label_zh"),
                label_en=get("label_en"),
                required=bool(get("required")),
                help_zh=get("help_zh"),
                help_en=get("help_en"),
                expect=get("expect"),
                severity=get("severity") or "major",
                fail_zh=get("fail_zh"),
                fail_en=get("fail_en"),
                unit_zh=get("unit_zh"),
                unit_en=get("unit_en"),
                min=get("min"),
                max=get("max"),
                integer=bool(get("integer")),
                fail_below=get("fail_below"),
                fail_above=get("fail_above"),
                multiple=bool(get("multiple")),
                options=options,
                show_if_item=get("show_if_item"),
                show_if_values=[str(v) for v in form.getlist(prefix + "show_if_values")],
                extra=get("extra"),
            )
        )
    for item in items:  # answers of an item no longer chosen are dropped, not refused
        if item.show_if_item:
            answers = {value for value, _ in _answers(items, item.show_if_item)}
            item.show_if_values = [v for v in item.show_if_values if v in answers]
    return ChecklistDraft(
        key=text("key"),
        kind=text("kind"),
        title_zh=text("title_zh"),
        title_en=text("title_en"),
        roles=[str(r) for r in form.getlist("roles")],
        basis_zh=text("basis_zh"),
        basis_en=text("basis_en"),
        minimum_frequency=text("minimum_frequency"),
        items=items,
        extra=text("extra"),
    )


def _count(text: str) -> int:
    """A count the form carries; a tampered one reads as none, never as thousands."""
    return min(int(text), 200) if text.isdigit() else 0


def form_fields(draft: ChecklistDraft) -> list[tuple[str, str]]:
    """The draft as the form's (name, value) pairs, the inverse of `draft_from_form`."""
    pairs = [
        ("key", draft.key),
        ("kind", draft.kind),
        ("title_zh", draft.title_zh),
        ("title_en", draft.title_en),
        *[("roles", r) for r in draft.roles],
        ("basis_zh", draft.basis_zh),
        ("basis_en", draft.basis_en),
        ("minimum_frequency", draft.minimum_frequency),
        ("extra", draft.extra),
        ("item_count", str(len(draft.items))),
    ]
    flags = ("required", "integer", "multiple")
    texts = [n for n in ItemDraft.__dataclass_fields__ if n not in (*flags, "options")]
    for index, item in enumerate(draft.items):
        prefix = f"items-{index}-"
        for name in texts:
            if name == "show_if_values":
                pairs += [(prefix + name, v) for v in item.show_if_values]
            else:
                pairs.append((prefix + name, getattr(item, name)))
        pairs += [(prefix + name, "1") for name in flags if getattr(item, name)]
        pairs.append((prefix + "option_count", str(len(item.options))))
        for number, option in enumerate(item.options):
            pairs += [
                (f"{prefix}options-{number}-value", option.value),
                (f"{prefix}options-{number}-zh", option.zh),
                (f"{prefix}options-{number}-en", option.en),
            ]
            if option.fails:
                pairs.append((f"{prefix}options-{number}-fails", "1"))
    return pairs


def apply_action(draft: ChecklistDraft, action: str) -> ChecklistDraft:
    """What one of the form's buttons does to the draft: add_item, remove:2, up:2, down:2,
    add_option:2, remove_option:2:1; anything else (refresh) leaves it as sent."""
    items = list(draft.items)
    verb, _, rest = action.partition(":")
    numbers = [int(n) for n in rest.split(":") if n.isdigit()]
    index = numbers[0] if numbers else -1
    if verb == "add_item":
        items.append(ItemDraft(key=_free_item_key(items)))
    elif 0 <= index < len(items):
        if verb == "remove" and len(items) > 1:
            del items[index]
        elif verb == "up" and index > 0:
            items[index - 1], items[index] = items[index], items[index - 1]
        elif verb == "down" and index < len(items) - 1:
            items[index + 1], items[index] = items[index], items[index + 1]
        elif verb == "add_option":
            item = items[index]
            value = _free_key((o.value for o in item.options), "option")
            items[index] = replace(item, options=[*item.options, OptionDraft(value=value)])
        elif verb == "remove_option" and len(numbers) == 2:
            item = items[index]
            kept = [o for number, o in enumerate(item.options) if number != numbers[1]]
            items[index] = replace(item, options=kept)
    return replace(draft, items=items)


def _free_item_key(items: list[ItemDraft]) -> str:
    return _free_key((i.key for i in items), "item")


def _free_key(taken: Iterable[str], stem: str) -> str:
    used = set(taken)
    number = 1
    while f"{stem}_{number}" in used:
        number += 1
    return f"{stem}_{number}"


def field_of(error: TemplateError, draft: ChecklistDraft) -> str:
    """The form field a refusal belongs next to: "title", "items-2-label", "items-2" for the
    item as a whole, or "" for the checklist as a whole."""
    where = error.where
    match = ITEM_WHERE_RE.match(where) if where.startswith("item ") else None
    if match is None:
        top = where.split(".")[0]
        return top if top in ("key", "kind", "title", "roles", "basis", "minimum_frequency") else ""
    keys = [i.key.strip() for i in draft.items]
    key = match["key"]
    if key not in keys:
        return ""
    index = keys.index(key)
    if error.problem == DUPLICATE_KEY:  # refused where it appears again, not where it began
        index = len(keys) - 1 - keys[::-1].index(key)
    name = match["field"] or ""
    if name in ("fail_values",):
        name = "options"
    return f"items-{index}-{name}" if name else f"items-{index}"
