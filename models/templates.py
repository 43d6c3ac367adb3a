"""Checklists are data: a template file defines the items; the database keeps every version."""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base
from models.messages import N_, Message, SubmissionInvalid

if TYPE_CHECKING:
    from models.assets import Asset

BUILTIN_DIR = Path(__file__).with_name("builtin_templates")
LOCALES = ("zh_CN", "en")
ITEM_TYPES = ("pass_fail", "yes_no", "number", "text", "photo")


class TemplateError(ValueError):
    """A template file is wrong; the message names the file, the item and the field."""


@dataclass(frozen=True)
class ItemSpec:
    key: str
    type: str
    label: dict[str, str]
    required: bool = True
    help: dict[str, str] = field(default_factory=dict)
    unit: dict[str, str] = field(default_factory=dict)
    min: float | None = None
    max: float | None = None
    integer: bool = False
    expect: str | None = None
    max_from_attribute: str | None = None
    must_equal: str | None = None
    max_length: int = 500
    multiple: bool = False

    def text(self, locale: str) -> str:
        return _pick(self.label, locale)

    def help_text(self, locale: str) -> str:
        return _pick(self.help, locale) if self.help else ""

    def unit_text(self, locale: str) -> str:
        return _pick(self.unit, locale) if self.unit else ""


@dataclass(frozen=True)
class TemplateSpec:
    key: str
    kind: str
    title: dict[str, str]
    items: tuple[ItemSpec, ...]

    def title_text(self, locale: str) -> str:
        return _pick(self.title, locale)

    def item(self, key: str) -> ItemSpec:
        return next(i for i in self.items if i.key == key)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "title": self.title,
            "items": [asdict(i) for i in self.items],
        }

    def content_hash(self) -> str:
        blob = json.dumps(self.to_json(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()


def _pick(texts: Mapping[str, str], locale: str) -> str:
    return texts.get(locale) or texts.get(locale.split("_")[0]) or texts.get("zh_CN") or ""


def spec_from_json(data: Mapping[str, Any], source: str = "<template>") -> TemplateSpec:
    """Build and check a template from parsed TOML or stored JSON."""

    def fail(where: str, problem: str) -> TemplateError:
        return TemplateError(f"{source}: {where}: {problem}")

    for name in ("key", "kind", "title", "items"):
        if name not in data:
            raise fail(name, "missing")
    _check_texts(data["title"], "title", fail)
    items: list[ItemSpec] = []
    known = set(ItemSpec.__dataclass_fields__)
    for index, raw in enumerate(data["items"]):
        where = f"item {raw.get('key', index + 1)!s}"
        unknown = set(raw) - known
        if unknown:
            raise fail(where, f"unknown field(s) {', '.join(sorted(unknown))}")
        if "key" not in raw:
            raise fail(where, "field 'key' is missing")
        if raw.get("type") not in ITEM_TYPES:
            raise fail(f"{where}.type", f"must be one of {', '.join(ITEM_TYPES)}")
        _check_texts(raw.get("label"), f"{where}.label", fail)
        if raw.get("expect") is not None and raw["type"] not in ("yes_no", "pass_fail"):
            raise fail(f"{where}.expect", "only yes_no and pass_fail items have an expected answer")
        items.append(ItemSpec(**raw))
    keys = [i.key for i in items]
    if len(set(keys)) != len(keys):
        raise fail("items", "two items share a key")
    for item in items:
        if item.must_equal and item.must_equal not in keys:
            raise fail(f"item {item.key}.must_equal", f"no item {item.must_equal!r}")
    return TemplateSpec(
        key=data["key"], kind=data["kind"], title=dict(data["title"]), items=tuple(items)
    )


def _check_texts(texts: Any, where: str, fail: Any) -> None:
    if not isinstance(texts, Mapping) or not all(texts.get(loc) for loc in LOCALES):
        raise fail(where, f"needs a text for each of {', '.join(LOCALES)}")


def load_template_file(path: Path) -> TemplateSpec:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"{path}: {exc}") from exc
    return spec_from_json(data, str(path))


def builtin_specs() -> list[TemplateSpec]:
    return [load_template_file(p) for p in sorted(BUILTIN_DIR.glob("*.toml"))]


class FormTemplate(Base):
    """One version of a checklist. Records point at the version they were filed with."""

    __tablename__ = "form_template"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int]
    kind: Mapped[str] = mapped_column(String(32), index=True)
    definition: Mapped[dict[str, Any]]
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]

    @cached_property
    def spec(self) -> TemplateSpec:
        """Parsed once per loaded row; a version's definition never changes."""
        return spec_from_json(self.definition, f"{self.key} v{self.version}")


def save_template_version(session: Session, spec: TemplateSpec, *, now: datetime) -> FormTemplate:
    """Store the spec as a new version unless the latest version already says the same."""
    latest = latest_template(session, spec.key)
    if latest is not None and latest.content_hash == spec.content_hash():
        return latest
    template = FormTemplate(
        key=spec.key,
        version=(latest.version + 1) if latest else 1,
        kind=spec.kind,
        definition=spec.to_json(),
        content_hash=spec.content_hash(),
        created_at=now,
    )
    session.add(template)
    session.flush()
    return template


def sync_builtin_templates(session: Session, *, now: datetime) -> list[FormTemplate]:
    return [save_template_version(session, spec, now=now) for spec in builtin_specs()]


def latest_template(session: Session, key: str) -> FormTemplate | None:
    return session.scalar(
        select(FormTemplate).where(FormTemplate.key == key).order_by(FormTemplate.version.desc())
    )


def templates_for_kind(session: Session, kind: str) -> list[FormTemplate]:
    """The latest version of every template that applies to an asset kind."""
    newest = (
        select(FormTemplate.key, func.max(FormTemplate.version).label("version"))
        .where(FormTemplate.kind == kind)
        .group_by(FormTemplate.key)
        .subquery()
    )
    return list(
        session.scalars(
            select(FormTemplate)
            .join(
                newest,
                (FormTemplate.key == newest.c.key) & (FormTemplate.version == newest.c.version),
            )
            .order_by(FormTemplate.key)
        )
    )


@dataclass(frozen=True)
class CheckedAnswers:
    answers: dict[str, Any]
    failed_items: list[str]


def check_answers(
    spec: TemplateSpec,
    raw: Mapping[str, str],
    photo_counts: Mapping[str, int],
    asset: Asset,
) -> CheckedAnswers:
    """Parse and judge the answers; refuse the whole submission with a message per field."""
    errors: dict[str, Message] = {}
    answers: dict[str, Any] = {}
    for item in spec.items:
        value = (raw.get(item.key) or "").strip()
        if item.type == "photo":
            count = photo_counts.get(item.key, 0)
            if item.required and count == 0:
                errors[item.key] = Message(N_("Please take a photo."))
            elif count > 1 and not item.multiple:
                errors[item.key] = Message(N_("Only one photo here, please."))
            continue
        if not value:
            if item.required:
                errors[item.key] = Message(N_("Please answer this."))
            continue
        try:
            answers[item.key] = _parse(item, value, asset)
        except _Refused as refused:
            errors[item.key] = refused.message
    if errors:
        raise SubmissionInvalid(errors)
    failed = [item.key for item in spec.items if _fails(item, answers)]
    return CheckedAnswers(answers=answers, failed_items=failed)


class _Refused(Exception):
    def __init__(self, message: Message) -> None:
        self.message = message


def _parse(item: ItemSpec, value: str, asset: Asset) -> Any:
    if item.type == "pass_fail":
        if value not in ("pass", "fail"):
            raise _Refused(Message(N_("Choose pass or fail.")))
        return value
    if item.type == "yes_no":
        if value not in ("yes", "no"):
            raise _Refused(Message(N_("Choose yes or no.")))
        return value
    if item.type == "text":
        if len(value) > item.max_length:
            raise _Refused(
                Message(N_("At most %(count)d characters, please."), {"count": item.max_length})
            )
        return value
    return _parse_number(item, value, asset)


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
                )
            )
    return number


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _fails(item: ItemSpec, answers: Mapping[str, Any]) -> bool:
    value = answers.get(item.key)
    if value is None:
        return False
    if item.type == "pass_fail":
        return value == "fail"
    if item.type == "yes_no" and item.expect:
        return value != item.expect
    if item.must_equal:
        return value != answers.get(item.must_equal)
    return False
