"""Checking a person's answers against a checklist: required, well-formed, passed or failed."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from models.catalogue import LOCALES, join_list, translate
from models.checklists import Condition, ItemSpec, TemplateSpec
from models.messages import N_, Message, SubmissionInvalid
from models.people import ROLE_LABELS, Role
from models.suppliers import SUPPLY_CATEGORIES, licence_need

if TYPE_CHECKING:
    from models.assets import Asset


@dataclass(frozen=True)
class SupplierChoice:
    name: str
    categories: tuple[str, ...]
    # Why goods needing each licence ("food", "business", "any": models/suppliers.py
    # licence_need) are refused: that licence is missing or expired. No entry: licensed.
    refusals: Mapping[str, Message] = field(default_factory=dict)


@dataclass(frozen=True)
class Directory:
    """Whom and what a checklist may name at one school: its people, its district's suppliers."""

    people: Mapping[int, str] = field(default_factory=dict)
    suppliers: Mapping[int, SupplierChoice] = field(default_factory=dict)
    # The roles each of those people holds at the school, for items that name only some.
    roles: Mapping[int, frozenset[str]] = field(default_factory=dict)

    def people_for(self, item: ItemSpec) -> dict[int, str]:
        """Whom a person item offers and accepts: everyone, or those holding one of its roles."""
        if not item.roles:
            return dict(self.people)
        wanted = set(item.roles)
        return {
            person_id: name
            for person_id, name in self.people.items()
            if wanted & self.roles.get(person_id, frozenset())
        }


@dataclass(frozen=True)
class CheckedAnswers:
    answers: dict[str, Any]
    failed_items: list[str]
    hidden: frozenset[str]


def answer_values(raw: Mapping[str, Any], key: str) -> list[str]:
    """Every value sent for an item: a form sends several for a multiple choice."""
    if hasattr(raw, "getlist"):
        return [str(v).strip() for v in raw.getlist(key) if str(v).strip()]
    value = raw.get(key)
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [str(value).strip()] if str(value).strip() else []


def _chosen(condition: Condition, answers: Mapping[str, Any]) -> list[Any]:
    """The answers given to the condition's item that are among its values."""
    given = answers.get(condition.item)
    given_values = given if isinstance(given, list) else [given]
    return [v for v in given_values if v is not None and v in condition.values]


def is_shown(item: ItemSpec, answers: Mapping[str, Any]) -> bool:
    return item.show_if is None or bool(_chosen(item.show_if, answers))


def check_answers(
    spec: TemplateSpec,
    raw: Mapping[str, Any],
    photo_counts: Mapping[str, int],
    asset: Asset,
    directory: Directory | None = None,
) -> CheckedAnswers:
    """Parse and judge the answers; refuse the whole submission with a message per field.

    Items hidden by a condition are neither required nor kept. The `directory` holds whom a
    person item and what a supplier item may name.
    """
    directory = directory or Directory()
    errors: dict[str, Message] = {}
    answers: dict[str, Any] = {}
    hidden: set[str] = set()
    overloads: list[tuple[int, int]] = []
    for item in spec.items:
        if item.type == "roster" or item.roster is not None:
            continue  # asked of each person on the roster, judged in models/health.py
        if not is_shown(item, answers):
            hidden.add(item.key)
            continue
        if item.type == "photo":
            count = photo_counts.get(item.key, 0)
            if item.required and count == 0:
                errors[item.key] = Message(N_("Please take a photo."))
            elif count > 1 and not item.multiple:
                errors[item.key] = Message(N_("Only one photo here, please."))
            elif count > item.max_photos:
                errors[item.key] = Message(
                    N_("At most %(count)d photos here, please."), {"count": item.max_photos}
                )
            continue
        values = answer_values(raw, item.key)
        if not values:
            if item.required:
                errors[item.key] = Message(N_("Please answer this."))
            elif (needed := _required_by(spec, item, answers)) is not None:
                errors[item.key] = needed
            continue
        try:
            answers[item.key] = _parse(item, values, asset, directory)
            _at_most_item(spec, item, answers)
        except _Refused as refused:
            errors[item.key] = refused.message
            if refused.overload is not None:
                overloads.append(refused.overload)
    for item in spec.items:
        if item.type == "supplier" and item.key in answers and _vetted(item, answers):
            refusal = _unapproved(spec, item, answers, directory) or _unlicensed(
                item, answers, directory
            )
            if refusal is not None:
                errors[item.key] = refusal
    if errors:
        raise SubmissionInvalid(errors, overload=overloads[0] if overloads else None)
    failed = [item.key for item in spec.items if _fails(item, answers)]
    return CheckedAnswers(answers=answers, failed_items=failed, hidden=frozenset(hidden))


def _required_by(spec: TemplateSpec, item: ItemSpec, answers: Mapping[str, Any]) -> Message | None:
    """Why an optional item must be answered after all: the answer its `required_if` names."""
    condition = item.required_if
    if condition is None:
        return None
    chosen = _chosen(condition, answers)
    if not chosen:
        return None
    source = spec.item(condition.item)
    answer = next((o for o in source.options if o.value == chosen[0]), None)
    return Message(
        N_("Please answer this: “%(item)s” is “%(answer)s”."),
        {
            "item": dict(source.label),
            "answer": dict(answer.label) if answer else _built_in_answer(chosen[0]),
        },
    )


def _built_in_answer(value: str) -> dict[str, str]:
    labels = {"pass": N_("Pass"), "fail": N_("Fail"), "yes": N_("Yes"), "no": N_("No")}
    return {loc: translate(loc, labels[value]) for loc in LOCALES}


def parse_answer(item: ItemSpec, values: list[str], asset: Asset) -> tuple[Any, Message | None]:
    """One item's answer from the values sent, or why it is refused (a roster's fields)."""
    try:
        return _parse(item, values, asset, Directory()), None
    except _Refused as refused:
        return None, refused.message


def answer_fails(item: ItemSpec, answers: Mapping[str, Any]) -> bool:
    """Does the answer given to `item` among `answers` fail it?"""
    return _fails(item, answers)


class _Refused(Exception):
    def __init__(self, message: Message, overload: tuple[int, int] | None = None) -> None:
        self.message = message
        self.overload = overload


def _parse(item: ItemSpec, values: list[str], asset: Asset, directory: Directory) -> Any:
    if item.type == "multiple_choice":
        unknown = [v for v in values if v not in item.values]
        if unknown:
            raise _Refused(Message(N_("Choose from the list.")))
        return sorted(set(values), key=item.values.index)
    if len(values) > 1:
        raise _Refused(Message(N_("Give one answer only.")))
    value = values[0]
    if item.type == "pass_fail":
        if value not in item.values:
            raise _Refused(Message(N_("Choose pass or fail.")))
        return value
    if item.type == "yes_no":
        if value not in item.values:
            raise _Refused(Message(N_("Choose yes or no.")))
        return value
    if item.type == "single_choice":
        if value not in item.values:
            raise _Refused(Message(N_("Choose from the list.")))
        return value
    if item.type == "text":
        if len(value) > item.max_length:
            raise _Refused(
                Message(N_("At most %(count)d characters, please."), {"count": item.max_length})
            )
        return value
    if item.type in ("date", "time", "datetime"):
        return _parse_moment(item.type, value)
    if item.type == "person":
        if not value.isdigit() or int(value) not in directory.people:
            raise _Refused(Message(N_("Choose a person from the list.")))
        if int(value) not in directory.people_for(item):
            raise _Refused(
                Message(
                    N_("Only someone in one of these roles can be named here: %(roles)s."),
                    {"roles": _role_names(item.roles)},
                )
            )
        return {"id": int(value), "name": directory.people[int(value)]}
    if item.type == "supplier":
        if not value.isdigit() or int(value) not in directory.suppliers:
            raise _Refused(Message(N_("Choose a supplier from the list.")))
        return {"id": int(value), "name": directory.suppliers[int(value)].name}
    return _parse_number(item, value, asset)


def _role_names(roles: tuple[str, ...]) -> dict[str, str]:
    """The roles a person item names, in each language."""
    return {
        locale: join_list([translate(locale, ROLE_LABELS[Role(r)]) for r in roles], locale)
        for locale in LOCALES
    }


def _at_most_item(spec: TemplateSpec, item: ItemSpec, answers: Mapping[str, Any]) -> None:
    """More students subscribed than are in the class cannot be right."""
    if not item.max_from_item:
        return
    limit = answers.get(item.max_from_item)
    if limit is not None and answers[item.key] > limit:
        raise _Refused(
            Message(
                N_("At most %(max)s: no more than “%(item)s”."),
                {"max": _fmt(limit), "item": dict(spec.item(item.max_from_item).label)},
            )
        )


def _category(item: ItemSpec, answers: Mapping[str, Any]) -> str | None:
    """The category of goods a supplier item is judged for, when the checklist names one."""
    return item.category or (answers.get(item.category_from) if item.category_from else None)


def _vetted(item: ItemSpec, answers: Mapping[str, Any]) -> bool:
    """A supplier is checked unless its `checked_if` says otherwise: a refused delivery is
    recorded whoever brought it."""
    return item.checked_if is None or bool(_chosen(item.checked_if, answers))


def _unlicensed(item: ItemSpec, answers: Mapping[str, Any], directory: Directory) -> Message | None:
    """Goods or services from a supplier without the valid licence they need are refused."""
    supplier = directory.suppliers[answers[item.key]["id"]]
    return supplier.refusals.get(licence_need(_category(item, answers)))


def _unapproved(
    spec: TemplateSpec, item: ItemSpec, answers: Mapping[str, Any], directory: Directory
) -> Message | None:
    """Goods of a category the chosen supplier is not approved for must not be accepted."""
    category = _category(item, answers)
    if category is None:
        return None
    supplier = directory.suppliers[answers[item.key]["id"]]
    if category in supplier.categories:
        return None
    if item.category_from:
        source = spec.item(item.category_from)
        label = dict(next(o for o in source.options if o.value == category).label)
    else:
        label = {loc: translate(loc, SUPPLY_CATEGORIES[category]) for loc in LOCALES}
    return Message(
        N_(
            "%(supplier)s is not approved to supply %(category)s. Do not accept these goods: "
            "the district administrator (教育局) approves suppliers."
        ),
        {"supplier": supplier.name, "category": label},
    )


def _parse_moment(kind: str, value: str) -> str:
    """Dates and times as the phone's picker sends them, kept in ISO form as local time."""
    try:
        if kind == "date":
            return date.fromisoformat(value).isoformat()
        if kind == "time":
            return time.fromisoformat(value).strftime("%H:%M")
        return datetime.fromisoformat(value).strftime("%Y-%m-%dT%H:%M")
    except ValueError:
        messages = {
            "date": N_("Enter a date like 2026-03-02."),
            "time": N_("Enter a time like 08:30."),
            "datetime": N_("Enter a date and time like 2026-03-02 08:30."),
        }
        raise _Refused(Message(messages[kind])) from None


def _parse_number(item: ItemSpec, value: str, asset: Asset) -> float | int:
    try:
        number = float(value.replace(",", "."))
    except ValueError:
        raise _Refused(Message(N_("Enter a number."))) from None
    if not math.isfinite(number):
        raise _Refused(Message(N_("Enter a number.")))
    if item.integer:
        if number != int(number):
            raise _Refused(Message(N_("Enter a whole number.")))
        number = int(number)
    if item.min is not None and number < item.min:
        raise _Refused(Message(N_("Must be at least %(min)s."), {"min": _fmt(item.min)}))
    if item.max is not None and number > item.max:
        raise _Refused(Message(N_("Must be at most %(max)s."), {"max": _fmt(item.max)}))
    if item.max_from_attribute:
        limit = asset.attributes.get(item.max_from_attribute)
        if limit is not None and number > float(limit):
            raise _Refused(
                Message(
                    N_(
                        "%(count)s children but the bus has only %(seats)s seats. "
                        "An overloaded bus must not leave: let children off first."
                    ),
                    {"count": _fmt(number), "seats": _fmt(float(limit))},
                ),
                overload=(int(number), int(float(limit))),
            )
    return number


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _fails(item: ItemSpec, answers: Mapping[str, Any]) -> bool:
    value = answers.get(item.key)
    if value is None:
        return False
    if item.type == "pass_fail" and value == "fail":
        return True
    if item.expect is not None and value != item.expect:
        return True
    chosen = value if isinstance(value, list) else [value]
    if any(v in item.fail_values for v in chosen if isinstance(v, str)):
        return True
    if item.type == "number":
        if item.fail_below is not None and value < item.fail_below:
            return True
        if item.fail_above is not None and value > item.fail_above:
            return True
    return bool(item.must_equal and value != answers.get(item.must_equal))
