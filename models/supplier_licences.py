"""Whether a supplier's licence lets its goods in: the newest paper of each licence kind in the
register decides, and goods of a category need the licence that category calls for (食品安全法
§53: food from a holder of a food licence; other goods and services from a business licence)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.catalogue import LOCALES, translate
from models.documents import DOCUMENT_KIND_LABELS, Document, DocumentKind
from models.messages import N_, Message
from models.suppliers import Supplier, licence_need

LICENCE_KINDS: dict[str, tuple[DocumentKind, ...]] = {
    "food": (DocumentKind.FOOD_BUSINESS_LICENCE, DocumentKind.FOOD_PRODUCTION_LICENCE),
    "business": (DocumentKind.BUSINESS_LICENCE,),
    "any": (
        DocumentKind.FOOD_BUSINESS_LICENCE,
        DocumentKind.FOOD_PRODUCTION_LICENCE,
        DocumentKind.BUSINESS_LICENCE,
    ),
}
ALL_LICENCES = LICENCE_KINDS["any"]

EXPIRED = N_(
    "%(supplier)s: its %(document)s expired on %(date)s. Do not accept goods or services from "
    "it until the register holds a valid one: supplier papers are added by the district "
    "administrator (教育局)."
)
MISSING = N_(
    "%(supplier)s has no %(document)s in the register. Do not accept goods or services from "
    "it until the district administrator (教育局) adds a valid one."
)


@dataclass(frozen=True)
class Standing:
    """Whether goods needing one licence (`need`) may come from a supplier, and why not."""

    need: str
    # The newest paper that decided: valid, expired (the refusal names it), or None (none held).
    document: Document | None
    valid: bool


def _newness(document: Document) -> tuple[date, Any, int]:
    """Latest issued first, then latest added: a renewal issued later wins."""
    issued = document.issued_on or document.created_at.date()
    return issued, document.created_at, document.id


def newest_licences(
    session: Session, supplier_ids: Iterable[int]
) -> dict[int, dict[str, Document]]:
    """Per supplier, the newest current paper of each licence kind it holds."""
    newest: dict[int, dict[str, Document]] = {}
    for document in session.scalars(
        select(Document).where(
            Document.supplier_id.in_(list(supplier_ids)),
            Document.kind.in_([k.value for k in ALL_LICENCES]),
            Document.replaced_by_id.is_(None),
        )
    ):
        held = newest.setdefault(document.supplier_id or 0, {})
        other = held.get(document.kind)
        if other is None or _newness(document) > _newness(other):
            held[document.kind] = document
    return newest


def standing(papers: Mapping[str, Document], need: str, today: date) -> Standing:
    """Valid when the newest paper of any kind the need accepts is valid today; else the
    newest of the expired ones, or none held."""
    held = [papers[kind] for kind in LICENCE_KINDS[need] if kind in papers]
    valid = [d for d in held if d.is_valid_on(today)]
    if valid:
        return Standing(need, max(valid, key=_newness), True)
    return Standing(need, max(held, key=_newness) if held else None, False)


def refusal(supplier: str, standing: Standing) -> Message | None:
    """What the receiving form says at the supplier: the expired paper, or what is missing."""
    if standing.valid:
        return None
    document = standing.document
    if document is None:
        return Message(MISSING, {"supplier": supplier, "document": needed_names(standing.need)})
    number = f" {document.number}" if document.number else ""
    return Message(
        EXPIRED,
        {
            "supplier": supplier,
            "document": f"{document.title}{number}",
            "date": document.expires_on.isoformat() if document.expires_on else "",
        },
    )


def needed_names(need: str) -> dict[str, str]:
    """The licences a need accepts, in each language ("食品经营许可证或食品生产许可证（SC）")."""
    names = {}
    for locale in LOCALES:
        labels = [translate(locale, DOCUMENT_KIND_LABELS[k]) for k in LICENCE_KINDS[need]]
        text = labels[0]
        for label in labels[1:]:
            text = translate(locale, N_("%(first)s or %(second)s"), first=text, second=label)
        names[locale] = text
    return names


def supplier_refusals(
    session: Session, suppliers: Iterable[Supplier], today: date
) -> dict[int, dict[str, Message]]:
    """Per supplier, the refusal for each licence need that it fails (no entry: licensed)."""
    suppliers = list(suppliers)
    newest = newest_licences(session, [s.id for s in suppliers])
    refused: dict[int, dict[str, Message]] = {}
    for supplier in suppliers:
        for need in LICENCE_KINDS:
            message = refusal(supplier.name, standing(newest.get(supplier.id, {}), need, today))
            if message is not None:
                refused.setdefault(supplier.id, {})[need] = message
    return refused


def unlicensed_for_categories(
    session: Session, suppliers: Iterable[Supplier], today: date
) -> dict[int, list[Message]]:
    """Per supplier, why goods of the categories it is approved for would be refused (the
    register shows these; the receiving form refuses with the same messages)."""
    suppliers = list(suppliers)
    refused = supplier_refusals(session, suppliers, today)
    problems: dict[int, list[Message]] = {}
    for supplier in suppliers:
        needs = dict.fromkeys(licence_need(c) for c in supplier.categories)
        messages = [refused[supplier.id][n] for n in needs if n in refused.get(supplier.id, {})]
        if messages:
            problems[supplier.id] = messages
    return problems
