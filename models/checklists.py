"""Checklists are data: a template file defines the items; the database keeps every version."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import (
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    bindparam,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.audit import audit
from models.base import Base
from models.catalogue import COLON, LIST_SEPARATOR, LOCALES, pick_text, translate
from models.db import read_rows
from models.messages import N_, DomainError, Message
from models.people import Person, Role
from models.suppliers import SUPPLY_CATEGORIES

BUILTIN_DIR = Path(__file__).with_name("builtin_templates")
ITEM_TYPES = (
    "pass_fail",
    "yes_no",
    "single_choice",
    "multiple_choice",
    "number",
    "text",
    "date",
    "time",
    "datetime",
    "person",
    "supplier",
    "photo",
    # A list of people the checklist names (the canteen staff at a morning health check), each
    # asked the items whose `roster` is this item's key; judged in models/health.py.
    "roster",
)
# What a roster may ask of each person on it.
ROSTER_FIELD_TYPES = ("pass_fail", "yes_no", "single_choice", "multiple_choice", "number", "text")
CHOICE_TYPES = ("single_choice", "multiple_choice")
SEVERITIES = ("minor", "major", "critical")
# The statutory minimum frequencies a checklist can name, with the longest gap each allows
# between two records (None: as often as its events happen — every meal, every delivery).
MINIMUM_FREQUENCIES: dict[str, int | None] = {
    "every_meal": None,
    "per_event": None,
    "daily": 1,
    "weekly": 7,
    "monthly": 31,
    "quarterly": 92,
    "every_6_months": 183,
    "yearly": 366,
}
MINIMUM_FREQUENCY_LABELS = {
    "every_meal": N_("every meal"),
    "per_event": N_("each time it happens"),
    "daily": N_("every day"),
    "weekly": N_("every week"),
    "monthly": N_("every month"),
    "quarterly": N_("every quarter"),
    "every_6_months": N_("every 6 months"),
    "yearly": N_("every year"),
}

BASIS_WITH_MINIMUM = N_("Basis: %(basis)s. Statutory minimum: %(minimum)s.")
BASIS_ONLY = N_("Basis: %(basis)s.")
MINIMUM_ONLY = N_("Statutory minimum: %(minimum)s.")

BUILT_IN_VALUES = {"pass_fail": ("pass", "fail"), "yes_no": ("yes", "no")}
KEY_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")
# What a district may write into a checklist: room for any real form, and no more, so that no
# checklist slows the pages that load checklists (a 5,000-item one took them to 2 s).
MAX_ITEMS = 200
MAX_OPTIONS = 50
TEXT_MAX = 2000
MAX_LENGTH_RANGE = (1, 5000)
MAX_PHOTOS_RANGE = (1, 20)
# Each item field's kind as the TOML must give it (checked before the item is built, so a
# wrong one is refused with its key named, never saved to break the form later).
FLAGS = ("required", "integer", "multiple")
NUMBERS = ("min", "max", "fail_below", "fail_above")
NAMES = (
    "expect",
    "severity",
    "max_from_attribute",
    "max_from_item",
    "must_equal",
    "category_from",
    "category",
    "roster",
)
OPTIONAL_TEXTS = ("help", "unit")
ONE_OF = N_("must be one of %(values)s")
NO_EARLIER = N_("no earlier item %(item)s")
ITEM_WHERE = N_("item %(key)s")
DUPLICATE_KEY = N_("another item has the same key")


class TemplateError(ValueError):
    """A template file is wrong; the message names the file, the item and the field.

    `problem` is a catalogue message whose list parameters are joined in the reader's language
    (`text`); `str()` is the English text, for logs and the CLI.
    """

    def __init__(
        self,
        source: str,
        where: str = "",
        problem: str = "",
        params: Mapping[str, Any] | None = None,
    ) -> None:
        self.source, self.where, self.problem = source, where, problem
        self.params = dict(params or {})
        super().__init__(": ".join(p for p in (source, where, self._fill(problem, ", ")) if p))

    def _fill(self, problem: str, separator: str) -> str:
        shown = {
            k: separator.join(map(str, v)) if isinstance(v, list | tuple) else v
            for k, v in self.params.items()
        }
        return problem % shown if shown else problem

    def text(self, gettext: Any, locale: str) -> str:
        """In the reader's language, with `gettext` the door's translation function."""
        if not self.where:
            return str(self)
        where = self.where
        if where.startswith("item "):
            where = gettext(ITEM_WHERE) % {"key": where.removeprefix("item ")}
        problem = self._fill(gettext(self.problem), LIST_SEPARATOR[locale])
        return COLON[locale].join(p for p in (self.source, where, problem) if p)


@dataclass(frozen=True)
class Option:
    value: str
    label: dict[str, str]

    def text(self, locale: str) -> str:
        return pick_text(self.label, locale)


@dataclass(frozen=True)
class Condition:
    """Show an item only when an earlier item's answer is one of `values`."""

    item: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class ItemSpec:
    key: str
    type: str
    label: dict[str, str]
    required: bool = True
    help: dict[str, str] = field(default_factory=dict)
    unit: dict[str, str] = field(default_factory=dict)
    options: tuple[Option, ...] = ()
    min: float | None = None
    max: float | None = None
    integer: bool = False
    expect: str | None = None
    fail_values: tuple[str, ...] = ()
    fail_below: float | None = None
    fail_above: float | None = None
    severity: str = "major"
    show_if: Condition | None = None
    # Required only when an earlier item's answer is one of the values (a comment on 不满意).
    required_if: Condition | None = None
    max_from_attribute: str | None = None
    # A number no larger than the answer to this earlier number item (subscribed ≤ class size).
    max_from_item: str | None = None
    must_equal: str | None = None
    max_length: int = 500
    multiple: bool = False
    max_photos: int = 6
    # For a supplier item: the earlier choice whose answer is the category of goods supplied.
    category_from: str | None = None
    # For a supplier item: the one category it always supplies (student milk), no choice asked.
    category: str | None = None
    # For a supplier item: its approval and licence are checked only when this item (earlier or
    # later) has one of the values (goods accepted); a refused delivery is always recorded.
    checked_if: Condition | None = None
    # What a failure of this item is called ("压力表指针不在绿区"), shown instead of the label.
    fail_label: dict[str, str] = field(default_factory=dict)
    # What 全部合格 answers here: an answer, or False for a statement only the person can make
    # ("I am the escort teacher, on board"); unset, the one passing answer of an item that fails.
    all_ok: str | bool | None = None
    # For a person item: only people holding one of these roles at the school (models/people.py
    # Role values) are offered and accepted; empty, anyone at the school.
    roles: tuple[str, ...] = ()
    # Asked once for each person on this earlier roster item, not once for the record.
    roster: str | None = None

    def text(self, locale: str) -> str:
        return pick_text(self.label, locale)

    def fail_text(self, locale: str) -> str:
        return pick_text(self.fail_texts(), locale)

    def fail_texts(self) -> dict[str, str]:
        """The failure's name in every language; "Failed: <label>" for a stored old version
        that has none."""
        if self.fail_label:
            return dict(self.fail_label)
        return {
            locale: translate(locale, N_("Failed: %(item)s"), item=pick_text(self.label, locale))
            for locale in LOCALES
        }

    @property
    def passing_answer(self) -> str | None:
        """What 全部合格 answers: `all_ok`, or the one answer that passes a pass/fail or yes/no
        item that can fail."""
        if self.all_ok is False:
            return None
        if isinstance(self.all_ok, str):
            return self.all_ok
        if self.type not in BUILT_IN_VALUES or not self.can_fail():
            return None
        passing = [
            v
            for v in self.values
            if v != "fail" and self.expect in (None, v) and v not in self.fail_values
        ]
        return passing[0] if len(passing) == 1 else None

    def can_fail(self, trip: str | None = None) -> bool:
        """Whether some answer to this item fails the record (see `_fails`)."""
        if self.type == "pass_fail" or self.expect is not None or self.fail_values:
            return True
        if self.fail_below is not None or self.fail_above is not None or self.must_equal:
            return True
        # An arrival fails when fewer or more children got off than boarded (models/trips.py).
        return trip == "arrival" and self.key == "children_got_off"

    def help_text(self, locale: str) -> str:
        return pick_text(self.help, locale) if self.help else ""

    def unit_text(self, locale: str) -> str:
        return pick_text(self.unit, locale) if self.unit else ""

    def option_text(self, value: str, locale: str) -> str:
        option = next((o for o in self.options if o.value == value), None)
        return option.text(locale) if option else value

    @property
    def values(self) -> tuple[str, ...]:
        return BUILT_IN_VALUES.get(self.type) or tuple(o.value for o in self.options)


@dataclass(frozen=True)
class BotRecord:
    """How a photo sent to the bot files this checklist: into which photo item, with which
    answers taken as given (only for checklists where "done, here is the photo" says it all)."""

    photo: str
    answers: dict[str, str]


@dataclass(frozen=True)
class TemplateSpec:
    key: str
    kind: str
    title: dict[str, str]
    items: tuple[ItemSpec, ...]
    # "departure" or "arrival": the record also starts or ends a bus trip (models/trips.py).
    trip: str | None = None
    bot: BotRecord | None = None
    # Who may file it by default (models/people.py Role values); empty: anyone at the school.
    roles: tuple[str, ...] = ()
    # The rule and clause the checklist serves, in both languages ({} for a school's own).
    basis: dict[str, str] = field(default_factory=dict)
    # The least often the rule allows it (MINIMUM_FREQUENCIES), or None when no rule sets one.
    minimum_frequency: str | None = None

    def title_text(self, locale: str) -> str:
        return pick_text(self.title, locale)

    def basis_text(self, locale: str) -> str:
        """The rule and its minimum in one line, as the form, ledgers and reports print it
        ("" for a checklist no rule stands behind)."""
        minimum = self.minimum_frequency
        shown = translate(locale, MINIMUM_FREQUENCY_LABELS[minimum]) if minimum else ""
        if self.basis and shown:
            return translate(
                locale, BASIS_WITH_MINIMUM, basis=pick_text(self.basis, locale), minimum=shown
            )
        if self.basis:
            return translate(locale, BASIS_ONLY, basis=pick_text(self.basis, locale))
        return translate(locale, MINIMUM_ONLY, minimum=shown) if shown else ""

    def item(self, key: str) -> ItemSpec:
        return next(i for i in self.items if i.key == key)

    def severity_of(self, failed_items: list[str]) -> str | None:
        """The worst severity among the failed items, or None when nothing failed."""
        ranks = [SEVERITIES.index(self.item(k).severity) for k in failed_items if self.has(k)]
        return SEVERITIES[max(ranks)] if ranks else None

    def has(self, key: str) -> bool:
        return any(i.key == key for i in self.items)

    def passing_answers(self) -> dict[str, str]:
        """What "all OK" answers: every pass/fail and yes/no item that can fail, passed."""
        return {
            i.key: i.passing_answer
            for i in self.items
            if i.passing_answer is not None and i.roster is None
        }

    def roster_fields(self, roster_key: str) -> list[ItemSpec]:
        """The items asked of each person on a roster item, in order."""
        return [i for i in self.items if i.roster == roster_key]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "key": self.key,
            "kind": self.kind,
            "title": self.title,
            "items": [_item_json(i) for i in self.items],
        }
        if self.trip:
            data["trip"] = self.trip
        if self.bot:
            data["bot"] = {"photo": self.bot.photo, "answers": dict(self.bot.answers)}
        if self.roles:
            data["roles"] = list(self.roles)
        if self.basis:
            data["basis"] = dict(self.basis)
        if self.minimum_frequency:
            data["minimum_frequency"] = self.minimum_frequency
        return data

    def content_hash(self) -> str:
        blob = json.dumps(self.to_json(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()


def _item_json(item: ItemSpec) -> dict[str, Any]:
    """Only the fields that differ from the defaults, so old versions hash the same."""
    defaults = ItemSpec(key="", type="", label={})
    data: dict[str, Any] = {}
    for name in ItemSpec.__dataclass_fields__:
        value = getattr(item, name)
        if name in ("key", "type", "label") or value != getattr(defaults, name):
            if name == "options":
                value = [{"value": o.value, "label": o.label} for o in value]
            elif name in ("show_if", "required_if", "checked_if"):
                value = {"item": value.item, "values": list(value.values)}
            elif isinstance(value, tuple):
                value = list(value)
            data[name] = value
    return data


def spec_from_json(
    data: Mapping[str, Any], source: str = "<template>", *, stored: bool = False
) -> TemplateSpec:
    """Build and check a template from parsed TOML or stored JSON.

    A new or edited template names every failure (`fail_label`); a `stored` old version may
    lack them and falls back to "Failed: <label>".
    """

    def fail(where: str, problem: str, **params: Any) -> TemplateError:
        return TemplateError(source, where, problem, params)

    for name in ("key", "kind", "title", "items"):
        if name not in data:
            raise fail(name, N_("missing"))
    known = {"key", "kind", "title", "items", "trip", "bot", "roles", "basis", "minimum_frequency"}
    unknown = set(data) - known
    if unknown:
        raise fail("template", N_("unknown field(s) %(fields)s"), fields=sorted(unknown))
    if not isinstance(data["key"], str) or not KEY_RE.fullmatch(data["key"]):
        raise fail("key", N_("use lower-case letters, digits and _ (e.g. gauge_green)"))
    if not isinstance(data["kind"], str) or not data["kind"]:
        raise fail("kind", MUST_BE_TEXT)
    if not isinstance(data["items"], list) or not all(
        isinstance(raw, Mapping) for raw in data["items"]
    ):
        raise fail("items", N_("must be a list of items ([[items]] tables)"))
    if not stored and len(data["items"]) > MAX_ITEMS:
        raise fail("items", N_("at most %(n)d items in one checklist"), n=MAX_ITEMS)
    _check_texts(data["title"], "title", fail)
    if "basis" in data:
        _check_texts(data["basis"], "basis", fail)
    minimum = data.get("minimum_frequency")
    if minimum is not None and (not isinstance(minimum, str) or minimum not in MINIMUM_FREQUENCIES):
        raise fail(
            "minimum_frequency",
            N_("must be one of %(values)s"),
            values=list(MINIMUM_FREQUENCIES),
        )
    if not data["items"]:
        raise fail("items", N_("a checklist needs at least one item"))
    items: list[ItemSpec] = []
    for index, raw in enumerate(data["items"]):
        fields = {k: v for k, v in raw.items() if k != "checked_if"}
        where = f"item {raw.get('key', index + 1)!s}"
        if not stored:
            _check_field_kinds(fields, where, fail)
        items.append(_item_from_json(fields, where, items, fail))
    for index, raw in enumerate(data["items"]):
        if raw.get("checked_if") is not None:
            where = f"item {items[index].key}"
            if items[index].type != "supplier":
                raise fail(f"{where}.checked_if", N_("only supplier items are checked"))
            others = [i for i in items if i.key != items[index].key]
            condition = _condition(raw["checked_if"], where, others, fail, "checked_if")
            items[index] = replace(items[index], checked_if=condition)
    trip = data.get("trip")
    if trip not in (None, "departure", "arrival"):
        raise fail("trip", N_("must be departure or arrival"))
    if trip == "departure" and not any(i.key == "children_boarded" for i in items):
        raise fail("trip", N_("a departure needs a children_boarded item"))
    if trip == "arrival" and not any(i.key == "children_got_off" for i in items):
        raise fail("trip", N_("an arrival needs a children_got_off item"))
    for item in items:
        if not stored and item.can_fail(trip) and not item.fail_label:
            raise fail(
                f"item {item.key}.fail_label",
                N_("name the failure in each of %(locales)s (e.g. %(example)s)"),
                locales=LOCALES,
                example="压力表指针不在绿区 / Gauge needle not in the green",
            )
    return TemplateSpec(
        key=data["key"],
        kind=data["kind"],
        title=dict(data["title"]),
        items=tuple(items),
        trip=trip,
        bot=_bot_record(data.get("bot"), items, fail),
        roles=_roles(data.get("roles", []), fail),
        basis=dict(data.get("basis", {})),
        minimum_frequency=minimum,
    )


def _roles(raw: Any, fail: Any, where: str = "roles") -> tuple[str, ...]:
    """The roles that may file the checklist (or be named by a person item), as
    models/people.py names them."""
    known = [role.value for role in Role]
    if not isinstance(raw, list) or not all(isinstance(r, str) for r in raw):
        raise fail(where, N_("must be a list of roles: %(values)s"), values=known)
    unknown = [r for r in raw if r not in known]
    if unknown:
        raise fail(where, N_("%(names)s: must be one of %(values)s"), names=unknown, values=known)
    return tuple(dict.fromkeys(raw))


def _bot_record(raw: Any, items: list[ItemSpec], fail: Any) -> BotRecord | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or set(raw) - {"photo", "answers"}:
        raise fail("bot", N_("needs photo and answers only"))
    by_key = {item.key: item for item in items}
    photo = by_key.get(str(raw.get("photo")))
    if photo is None or photo.type != "photo":
        raise fail("bot.photo", N_("must name a photo item"))
    answers = raw.get("answers", {})
    if not isinstance(answers, Mapping):
        raise fail("bot.answers", N_("must be a table of item = answer"))
    for key, value in answers.items():
        item = by_key.get(key)
        if item is None:
            raise fail(f"bot.answers.{key}", N_("no such item"))
        if item.values and value not in item.values:
            raise fail(f"bot.answers.{key}", ONE_OF, values=item.values)
    missing = [
        i.key
        for i in items
        if i.required and i.show_if is None and i.type != "photo" and i.key not in answers
    ]
    if missing:
        raise fail("bot.answers", N_("needs an answer for %(items)s"), items=missing)
    return BotRecord(photo=photo.key, answers={k: str(v) for k, v in answers.items()})


def _item_from_json(
    raw: Mapping[str, Any], where: str, earlier: list[ItemSpec], fail: Any
) -> ItemSpec:
    known = set(ItemSpec.__dataclass_fields__)
    unknown = set(raw) - known
    if unknown:
        raise fail(where, N_("unknown field(s) %(fields)s"), fields=sorted(unknown))
    if "key" not in raw:
        raise fail(where, N_("field 'key' is missing"))
    if not isinstance(raw["key"], str) or not KEY_RE.fullmatch(raw["key"]):
        raise fail(f"{where}.key", N_("use lower-case letters, digits and _ (e.g. gauge_green)"))
    if any(i.key == raw["key"] for i in earlier):
        raise fail(f"{where}.key", DUPLICATE_KEY)
    kind = raw.get("type")
    if kind not in ITEM_TYPES:
        raise fail(f"{where}.type", ONE_OF, values=ITEM_TYPES)
    _check_texts(raw.get("label"), f"{where}.label", fail)
    fields = dict(raw)
    fields["options"] = tuple(_options(raw.get("options", []), where, kind, fail))
    for name in ("fail_values",):
        fields[name] = tuple(raw.get(name, ()))
    if raw.get("roles") is not None:
        if kind != "person":
            raise fail(f"{where}.roles", N_("only person items name roles"))
        fields["roles"] = _roles(raw["roles"], fail, f"{where}.roles")
    for name in ("show_if", "required_if"):
        if raw.get(name) is not None:
            fields[name] = _condition(raw[name], where, earlier, fail, name)
    if raw.get("fail_label") is not None:
        _check_texts(raw["fail_label"], f"{where}.fail_label", fail)
        fields["fail_label"] = dict(raw["fail_label"])
    try:
        item = ItemSpec(**fields)
    except TypeError as exc:
        raise fail(where, str(exc)) from None
    if item.severity not in SEVERITIES:
        raise fail(f"{where}.severity", ONE_OF, values=SEVERITIES)
    if item.expect is not None and item.type not in BUILT_IN_VALUES:
        raise fail(f"{where}.expect", N_("only yes_no and pass_fail items have an expected answer"))
    if item.expect is not None and item.expect not in item.values:
        raise fail(f"{where}.expect", ONE_OF, values=item.values)
    if item.all_ok not in (None, False, *item.values) or item.all_ok is True:
        raise fail(f"{where}.all_ok", ONE_OF, values=[*item.values, "false"])
    bad = [v for v in item.fail_values if v not in item.values]
    if bad:
        raise fail(
            f"{where}.fail_values", N_("%(values)s is not an answer of this item"), values=bad
        )
    if item.min is not None and item.max is not None and item.min > item.max:
        raise fail(f"{where}.min", N_("is greater than max"))
    if item.must_equal and not any(i.key == item.must_equal for i in earlier):
        raise fail(f"{where}.must_equal", NO_EARLIER, item=repr(item.must_equal))
    if item.max_from_item and not any(
        i.key == item.max_from_item and i.type == "number" for i in earlier
    ):
        raise fail(
            f"{where}.max_from_item",
            N_("no earlier number item %(item)s"),
            item=repr(item.max_from_item),
        )
    if item.category_from is not None:
        _check_category_source(item, where, earlier, fail)
    if item.roster is not None:
        if not any(i.key == item.roster and i.type == "roster" for i in earlier):
            raise fail(f"{where}.roster", N_("no earlier roster %(item)s"), item=repr(item.roster))
        if item.type not in ROSTER_FIELD_TYPES or item.show_if is not None:
            raise fail(f"{where}.type", ONE_OF, values=ROSTER_FIELD_TYPES)
    if item.category is not None and (
        item.type != "supplier" or item.category not in SUPPLY_CATEGORIES
    ):
        raise fail(
            f"{where}.category",
            N_("%(values)s is not a supply category (use %(categories)s)"),
            values=[item.category],
            categories=SUPPLY_CATEGORIES,
        )
    return item


def _check_category_source(item: ItemSpec, where: str, earlier: list[ItemSpec], fail: Any) -> None:
    """A supplier is judged against a category the district's supplier register knows."""
    if item.type != "supplier":
        raise fail(f"{where}.category_from", N_("only supplier items have a category"))
    source = next((i for i in earlier if i.key == item.category_from), None)
    if source is None or source.type != "single_choice":
        raise fail(
            f"{where}.category_from",
            N_("no earlier single_choice %(item)s"),
            item=repr(item.category_from),
        )
    unknown = [v for v in source.values if v not in SUPPLY_CATEGORIES]
    if unknown:
        raise fail(
            f"{where}.category_from",
            N_("%(values)s is not a supply category (use %(categories)s)"),
            values=unknown,
            categories=SUPPLY_CATEGORIES,
        )


def _options(raw: Any, where: str, kind: str, fail: Any) -> list[Option]:
    if kind not in CHOICE_TYPES:
        if raw:
            raise fail(f"{where}.options", N_("only choice items have options"))
        return []
    if not isinstance(raw, list) or len(raw) < 2:
        raise fail(f"{where}.options", N_("a choice needs at least two options"))
    options = []
    for number, option in enumerate(raw, start=1):
        if not isinstance(option, Mapping) or not KEY_RE.fullmatch(str(option.get("value", ""))):
            raise fail(
                f"{where}.options[{number}].value",
                N_("needs a value of lower-case letters, digits and _"),
            )
        _check_texts(option.get("label"), f"{where}.options[{number}].label", fail)
        options.append(Option(value=str(option["value"]), label=dict(option["label"])))
    if len({o.value for o in options}) != len(options):
        raise fail(f"{where}.options", N_("two options share a value"))
    return options


def _condition(
    raw: Any, where: str, earlier: list[ItemSpec], fail: Any, name: str = "show_if"
) -> Condition:
    if not isinstance(raw, Mapping) or "item" not in raw or not raw.get("values"):
        raise fail(f"{where}.{name}", N_("needs an item and a list of values"))
    source = next((i for i in earlier if i.key == raw["item"]), None)
    if source is None:
        problem = N_("no item %(item)s") if name == "checked_if" else NO_EARLIER
        raise fail(f"{where}.{name}.item", problem, item=repr(raw["item"]))
    if not source.values:
        raise fail(
            f"{where}.{name}.item",
            N_("%(item)s is not a choice, yes/no or pass/fail"),
            item=repr(raw["item"]),
        )
    values = tuple(str(v) for v in raw["values"])
    if source.values and not set(values) <= set(source.values):
        raise fail(
            f"{where}.{name}.values", N_("%(item)s has no such answer"), item=repr(raw["item"])
        )
    return Condition(item=source.key, values=values)


MUST_BE_TEXT = N_("must be a text")


def _check_field_kinds(raw: Mapping[str, Any], where: str, fail: Any) -> None:
    """Each field of an item of the kind it must be, and within its limits."""
    for name in FLAGS:
        if name in raw and not isinstance(raw[name], bool):
            raise fail(f"{where}.{name}", N_("must be true or false"))
    for name in NUMBERS:
        value = raw.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise fail(f"{where}.{name}", N_("must be a number"))
    for name, (low, high) in (("max_length", MAX_LENGTH_RANGE), ("max_photos", MAX_PHOTOS_RANGE)):
        value = raw.get(name)
        if name in raw and (
            isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high
        ):
            raise fail(
                f"{where}.{name}",
                N_("must be a whole number from %(low)d to %(high)d"),
                low=low,
                high=high,
            )
    for name in NAMES:
        value = raw.get(name)
        if value is not None and not (isinstance(value, str) and 0 < len(value) <= 64):
            raise fail(f"{where}.{name}", MUST_BE_TEXT)
    values = raw.get("fail_values", [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise fail(f"{where}.fail_values", N_("must be a list of answers"))
    for name in OPTIONAL_TEXTS:
        texts = raw.get(name)
        if texts is not None and (
            not isinstance(texts, Mapping)
            or not all(isinstance(t, str) and len(t) <= TEXT_MAX for t in texts.values())
        ):
            raise fail(
                f"{where}.{name}", N_("needs a text of at most %(n)d characters"), n=TEXT_MAX
            )
    options = raw.get("options", [])
    if isinstance(options, list) and len(options) > MAX_OPTIONS:
        raise fail(f"{where}.options", N_("at most %(n)d options"), n=MAX_OPTIONS)


def _check_texts(texts: Any, where: str, fail: Any) -> None:
    if not isinstance(texts, Mapping) or not all(texts.get(loc) for loc in LOCALES):
        raise fail(where, N_("needs a text for each of %(locales)s"), locales=LOCALES)
    if not all(isinstance(text, str) and len(text) <= TEXT_MAX for text in texts.values()):
        raise fail(where, N_("needs a text of at most %(n)d characters"), n=TEXT_MAX)


def load_template_file(path: Path) -> TemplateSpec:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"{path}: {exc}") from exc
    return spec_from_json(data, str(path))


_parsed_builtins: dict[tuple[tuple[str, int, int], ...], list[TemplateSpec]] = {}


def builtin_specs() -> list[TemplateSpec]:
    """Parsed once per state of the files: every start-up and test syncs them, few change them."""
    paths = sorted(BUILTIN_DIR.glob("*.toml"))
    state = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths)
    if state not in _parsed_builtins:
        _parsed_builtins.clear()
        _parsed_builtins[state] = [load_template_file(p) for p in paths]
    return list(_parsed_builtins[state])


class FormTemplate(Base):
    """One version of a checklist. Records point at the version they were filed with.

    A version with no district is the installation's base (the built-in files, and what was
    stored before districts had their own); a district's edit or new checklist is that
    district's alone. Version numbers count per district on top of the base's, and a new
    built-in version is numbered above every district's, so each district's newest of the base
    and its own is the one its schools file (`visible_to`).
    """

    __tablename__ = "form_template"
    __table_args__ = (UniqueConstraint("key", "district_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int]
    kind: Mapped[str] = mapped_column(String(32), index=True)
    definition: Mapped[dict[str, Any]]
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id"), index=True)

    @cached_property
    def spec(self) -> TemplateSpec:
        """Parsed once per process: a version's definition never changes (its content hash
        names it), and every page that offers or shows a checklist reads its spec."""
        named = (self.key, self.version, self.content_hash)
        parsed = _parsed_versions.get(named)
        if parsed is None:
            parsed = spec_from_json(self.definition, f"{self.key} v{self.version}", stored=True)
            if len(_parsed_versions) >= PARSED_VERSIONS_KEPT:
                _parsed_versions.clear()
            _parsed_versions[named] = parsed
        return parsed


def version_spec(
    session: Session, template_id: int, key: str, version: int, content_hash: str
) -> TemplateSpec:
    """The spec of a version read as plain columns: from this process's parsed versions, or
    from its definition once."""
    parsed = _parsed_versions.get((key, version, content_hash))
    if parsed is not None:
        return parsed
    template = session.get(FormTemplate, template_id)
    if template is None:
        raise LookupError(f"no checklist version {template_id}")
    return template.spec


# Every version of every checklist of a district is a few hundred at most.
PARSED_VERSIONS_KEPT = 1000
_parsed_versions: dict[tuple[str, int, str], TemplateSpec] = {}


def visible_to(district_id: int | None) -> Any:
    """The versions a district's people see and file: the base's and the district's own."""
    base = FormTemplate.district_id.is_(None)
    return base if district_id is None else or_(base, FormTemplate.district_id == district_id)


def save_template_version(
    session: Session, spec: TemplateSpec, *, now: datetime, district_id: int | None = None
) -> FormTemplate:
    """Store the spec as the district's (or, with none, the base's) new version unless the
    version its schools file already says the same."""
    latest = latest_template(session, spec.key, district_id=district_id)
    if latest is not None and latest.content_hash == spec.content_hash():
        return latest
    if district_id is None:
        # Above every district's own, so a new release reaches every district.
        highest = session.scalar(
            select(func.max(FormTemplate.version)).where(FormTemplate.key == spec.key)
        )
    else:
        highest = latest.version if latest is not None else None
    template = FormTemplate(
        key=spec.key,
        version=(highest or 0) + 1,
        kind=spec.kind,
        definition=spec.to_json(),
        content_hash=spec.content_hash(),
        created_at=now,
        district_id=district_id,
    )
    session.add(template)
    session.flush()
    return template


class ChecklistsRefused(DomainError):
    """Only a district's administrators change its checklists."""


def may_edit_checklists(person: Person) -> bool:
    return person.is_district_admin


def save_checklist(
    session: Session,
    actor: Person,
    spec: TemplateSpec,
    *,
    district_id: int,
    editing: str | None,
    now: datetime,
) -> FormTemplate:
    """A district administrator's new checklist for their district, or the district's new
    version of the one with key `editing`: the key stays, the kind is an asset kind, a new key
    is not one the district already sees."""
    from models.assets import KIND_LABELS  # assets import the people this module uses

    if not actor.is_district_admin_of(district_id):
        raise ChecklistsRefused(Message(N_("Only a district administrator changes checklists.")))
    if editing is not None and spec.key != editing:
        raise TemplateError("", "key", N_("keep it as %(key)s"), {"key": editing})
    if spec.kind not in KIND_LABELS:
        raise TemplateError("", "kind", ONE_OF, {"values": list(KIND_LABELS)})
    if editing is None and latest_template(session, spec.key, district_id=district_id):
        raise TemplateError("", "key", N_("%(key)s is taken"), {"key": spec.key})
    earlier = (
        latest_template(session, spec.key, district_id=district_id) if editing is not None else None
    )
    saved = save_template_version(session, spec, now=now, district_id=district_id)
    action = "checklist.edited" if editing is not None else "checklist.published"
    before = {"version": earlier.version} if earlier is not None else {}
    audit(
        session,
        actor,
        action,
        saved,
        before,
        {"key": spec.key, "version": saved.version},
        now=now,
        district_id=district_id,
    )
    return saved


def sync_builtin_templates(session: Session, *, now: datetime) -> list[FormTemplate]:
    """Store each built-in file's content once, when it is new: a file that has not changed
    since it was stored leaves alone a district's own later version of that checklist
    (every `db upgrade` syncs); a changed file (a new release) becomes the base's next version,
    numbered above every district's own, so every district files it."""
    rows = session.execute(
        select(FormTemplate.key, FormTemplate.content_hash).where(visible_to(None))
    )
    stored = {(key, content_hash) for key, content_hash in rows}
    synced = []
    for spec in builtin_specs():
        if (spec.key, spec.content_hash()) in stored:
            latest = base_template(session, spec.key)
            assert latest is not None
            synced.append(latest)
        else:
            synced.append(save_template_version(session, spec, now=now))
    return synced


def checklist_bases(templates: Sequence[Checklist], locale: str) -> list[tuple[str, str]]:
    """(title, basis line) of each checklist that names its rule or minimum, for a report."""
    lines = [(t.spec.title_text(locale), t.spec.basis_text(locale)) for t in templates]
    return [(title, basis) for title, basis in lines if basis]


def latest_template(session: Session, key: str, *, district_id: int | None) -> FormTemplate | None:
    """The version of a checklist the district's schools file: its own newest, or the base's
    when that is newer (None: the base's only)."""
    return session.scalar(
        select(FormTemplate)
        .where(FormTemplate.key == key, visible_to(district_id))
        .order_by(FormTemplate.version.desc())
        .limit(1)
    )


def base_template(session: Session, key: str) -> FormTemplate | None:
    """The base's newest version of a checklist, the one a district with none of its own files."""
    return latest_template(session, key, district_id=None)


def template_versions(session: Session, key: str, *, district_id: int | None) -> list[FormTemplate]:
    """Every version of a checklist the district sees, the newest first."""
    return list(
        session.scalars(
            select(FormTemplate)
            .where(FormTemplate.key == key, visible_to(district_id))
            .order_by(FormTemplate.version.desc())
        )
    )


def newest_versions(district_id: int | None, kind: str | None = None) -> Any:
    """The join condition that keeps only the version of each checklist (of a kind) that the
    district's schools file."""
    newest = select(FormTemplate.key, func.max(FormTemplate.version).label("version")).where(
        visible_to(district_id)
    )
    if kind is not None:
        newest = newest.where(FormTemplate.kind == kind)
    latest = newest.group_by(FormTemplate.key).subquery()
    return latest, (FormTemplate.key == latest.c.key) & (FormTemplate.version == latest.c.version)


def latest_templates(session: Session, district_id: int | None) -> list[FormTemplate]:
    """The version of every checklist the district files, by asset kind and key."""
    return list(
        session.scalars(
            select(FormTemplate)
            .join(*newest_versions(district_id))
            .where(visible_to(district_id))
            .order_by(FormTemplate.kind, FormTemplate.key)
        )
    )


class Checklist(Protocol):
    """A checklist version as it is offered and checked: its key and its parsed spec (a
    FormTemplate, or an OfferedChecklist read as plain columns)."""

    @property
    def key(self) -> str: ...

    @property
    def spec(self) -> TemplateSpec: ...


@dataclass(frozen=True)
class OfferedChecklist:
    """The version of a checklist a district files, read as plain columns for a scan."""

    key: str
    spec: TemplateSpec


def templates_for_kind(
    session: Session, district_id: int | None, kind: str
) -> list[OfferedChecklist]:
    """The version the district files of every template that applies to an asset kind."""
    values = {"district_id": district_id, "kind": kind}
    return [
        OfferedChecklist(key, version_spec(session, id, key, version, content_hash))
        for id, key, version, content_hash in read_rows(
            session, _templates_for_kind_query(), values
        )
    ]


@cache
def _templates_for_kind_query() -> Any:
    """Built once: every scan of a label asks it (a district of None matches only the base)."""
    district_id, kind = bindparam("district_id", type_=Integer), bindparam("kind", type_=String)
    visible = or_(FormTemplate.district_id.is_(None), FormTemplate.district_id == district_id)
    newest = (
        select(FormTemplate.key, func.max(FormTemplate.version).label("version"))
        .where(visible, FormTemplate.kind == kind)
        .group_by(FormTemplate.key)
        .subquery()
    )
    return (
        select(FormTemplate.id, FormTemplate.key, FormTemplate.version, FormTemplate.content_hash)
        .join(
            newest, (FormTemplate.key == newest.c.key) & (FormTemplate.version == newest.c.version)
        )
        .where(visible)
        .order_by(FormTemplate.key)
    )
