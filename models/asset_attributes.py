"""What each kind of asset records besides its code and name (a bus's seats, a meter's type)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from models.assets import AssetKind
from models.fields import REQUIRED, TOO_LONG
from models.messages import N_, Message

ATTRIBUTE_TEXT_MAX = 100


@dataclass(frozen=True)
class AttributeSpec:
    """One kind-specific attribute: `text`, `int` (> 0), `decimal` (> 0), `choice` or `date`
    (kept as YYYY-MM-DD; a month alone, as a label prints it, is its first day)."""

    name: str
    type: str = "text"
    required: bool = False
    choices: tuple[str, ...] = ()


KIND_ATTRIBUTES: dict[AssetKind, tuple[AttributeSpec, ...]] = {
    # The agent and production date give its service and scrap dates (models/extinguishers.py).
    AssetKind.EXTINGUISHER: (
        AttributeSpec("agent"),
        AttributeSpec("capacity_kg", "decimal"),
        AttributeSpec("production_date", "date"),
    ),
    # Seats are what an overloaded bus is measured against, so a bus cannot go without them.
    AssetKind.BUS: (
        AttributeSpec("plate"),
        AttributeSpec("seats", "int", required=True),
        AttributeSpec("driver"),
    ),
    AssetKind.DORM_ROOM: (AttributeSpec("beds", "int"),),
    AssetKind.METER: (
        AttributeSpec("meter_type", "choice", required=True, choices=("electricity", "water")),
        AttributeSpec("meter_number"),
    ),
}

CHOICE_LABELS = {
    "electricity": N_("Electricity"),
    "water": N_("Water"),
}

# What people type for a choice in a spreadsheet, besides the key itself.
CHOICE_ALIASES = {
    "电": "electricity",
    "电表": "electricity",
    "用电": "electricity",
    "水": "water",
    "水表": "water",
    "用水": "water",
}

UNITS = ("千克", "公斤", "kg")


def attribute_specs(kind: str) -> tuple[AttributeSpec, ...]:
    return KIND_ATTRIBUTES.get(kind, ())  # type: ignore[call-overload]


def all_attribute_names() -> list[str]:
    """Every kind-specific attribute, each once, in the order kinds list them."""
    names: list[str] = []
    for specs in KIND_ATTRIBUTES.values():
        names.extend(spec.name for spec in specs if spec.name not in names)
    return names


def _number(text: str) -> Decimal | None:
    """A number as typed, full-width digits and a trailing unit allowed; None if it is not one."""
    text = unicodedata.normalize("NFKC", text).strip().lower()
    for unit in UNITS:
        text = text.removesuffix(unit).strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


# 2021-03-05, 2021/3/5, 2021.3.5, 2021年3月5日, and the same without the day.
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*(?:[-/.月]\s*(?:(\d{1,2})\s*日?)?)?")


def _date(text: str) -> date | None:
    """A date as typed, a month alone its first day; None if it is not one."""
    match = _DATE.fullmatch(unicodedata.normalize("NFKC", text).strip())
    if match is None:
        return None
    year, month, day = match.groups()
    try:
        return date(int(year), int(month), int(day or 1))
    except ValueError:
        return None


def _clean_attribute(spec: AttributeSpec, text: str) -> tuple[Any, Message | None]:
    if spec.type == "date":
        day = _date(text)
        if day is None:
            return None, Message(N_("Enter a date such as 2024-03-15, or a month such as 2024-03."))
        return day.isoformat(), None
    if spec.type == "int":
        number = _number(text)
        if number is None or number <= 0 or number != number.to_integral_value():
            return None, Message(N_("Enter a whole number greater than zero."))
        return int(number), None
    if spec.type == "decimal":
        number = _number(text)
        if number is None or number <= 0:
            return None, Message(N_("Enter a number greater than zero."))
        return (int(number) if number == number.to_integral_value() else float(number)), None
    if spec.type == "choice":
        key = unicodedata.normalize("NFKC", text).strip().lower()
        key = CHOICE_ALIASES.get(key, key)
        if key not in spec.choices:
            shown = [
                "/".join([choice, *(k for k, v in CHOICE_ALIASES.items() if v == choice)][:2])
                for choice in spec.choices
            ]
            return None, Message(N_("Must be one of: %(choices)s."), {"choices": ", ".join(shown)})
        return key, None
    if len(text) > ATTRIBUTE_TEXT_MAX:
        return None, Message(TOO_LONG, {"count": ATTRIBUTE_TEXT_MAX})
    return text, None


def clean_attributes(
    kind: str,
    raw: Mapping[str, str],
    errors: dict[str, Message],
    *,
    keep: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The kind's attributes from text, typed; problems go into `errors` by attribute name.

    Attributes the kind does not list (a dispenser's model from an older import) are kept
    from `keep`; an empty optional one is dropped.
    """
    specs = attribute_specs(kind)
    known = {spec.name for spec in specs}
    cleaned = {name: value for name, value in (keep or {}).items() if name not in known}
    for spec in specs:
        text = (raw.get(spec.name) or "").strip()
        if not text:
            if spec.required:
                errors[spec.name] = Message(REQUIRED)
            continue
        value, problem = _clean_attribute(spec, text)
        if problem is not None:
            errors[spec.name] = problem
        else:
            cleaned[spec.name] = value
    return cleaned
