"""What a bus and its driver must hold before the bus may leave (校车安全管理条例 §§20–26):
the bus's safety inspection and carrier-liability insurance, the driver's qualification and
annual review. An expired one refuses the departure, naming the paper and the day it expired.

The driver whose papers count is whoever filed the day's pre-trip check, when they are bus
staff at the school (§41 has the driver check the bus); else the bus staff member the bus's
`driver` attribute names. A paper never registered refuses nothing: the register lists it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models.assets import Asset
from models.catalogue import GROUP_SEPARATOR, LOCALES, pick_text, translate
from models.documents import (
    DOCUMENT_KIND_LABELS,
    INSURANCE_LABELS,
    Document,
    DocumentKind,
    InsuranceType,
    local_today,
)
from models.messages import N_, Message
from models.people import Person, Role
from models.staff import is_at_school, people_at_school

# What the bus must hold, in the order a refusal names them, then what its driver must hold.
BUS_PAPERS: tuple[str, ...] = (DocumentKind.BUS_INSPECTION, InsuranceType.BUS_CARRIER_LIABILITY)
DRIVER_PAPERS: tuple[str, ...] = (DocumentKind.DRIVER_QUALIFICATION, DocumentKind.DRIVER_REVIEW)


def driver_of_the_day(session: Session, bus: Asset, pre_trip_check: Any | None) -> Person | None:
    """The bus's driver today: who filed its pre-trip check if they are bus staff, else the
    bus staff member named by the bus's `driver` attribute, else nobody known."""
    school = bus.school
    checker = getattr(pre_trip_check, "submitted_by", None)
    if isinstance(checker, Person) and is_at_school(checker, school, (Role.BUS_STAFF,)):
        return checker
    named = str(bus.attributes.get("driver") or "").strip()
    if not named:
        return None
    staff = people_at_school(session, school, (Role.BUS_STAFF,))
    return next((p for p in staff if named in (p.display_name, p.username)), None)


def _paper_label(paper: str) -> str:
    if paper in INSURANCE_LABELS:
        return INSURANCE_LABELS[InsuranceType(paper)]
    return DOCUMENT_KIND_LABELS[DocumentKind(paper)]


def _paper_of(document: Document) -> str:
    return document.insurance_type or document.kind


def expired_papers(
    session: Session, bus: Asset, driver: Person | None, today: date
) -> list[tuple[str, Document]]:
    """(paper, its current document) for each paper the bus or driver holds only expired."""
    holders = [Document.asset_id == bus.id]
    if driver is not None:
        holders.append(Document.person_id == driver.id)
    current = session.scalars(
        select(Document).where(
            or_(*holders),
            Document.replaced_by_id.is_(None),
            or_(
                Document.kind.in_([DocumentKind.BUS_INSPECTION, *DRIVER_PAPERS]),
                Document.insurance_type == InsuranceType.BUS_CARRIER_LIABILITY,
            ),
        )
    )
    held: dict[str, list[Document]] = {}
    for document in current:
        held.setdefault(_paper_of(document), []).append(document)
    expired = []
    for paper in (*BUS_PAPERS, *(DRIVER_PAPERS if driver is not None else ())):
        documents = held.get(paper, [])
        if documents and not any(d.is_valid_on(today) for d in documents):
            latest = max(documents, key=lambda d: d.expires_on or today)
            expired.append((paper, latest))
    return expired


def expired_papers_refusal(
    session: Session, bus: Asset, driver: Person | None, now: datetime
) -> Message | None:
    """The refusal naming each expired paper, whose it is and when it expired, or None."""
    today = local_today(now, bus.school.district)
    expired = expired_papers(session, bus, driver, today)
    if not expired:
        return None
    papers = {
        locale: GROUP_SEPARATOR[locale].join(
            _paper_text(locale, paper, document) for paper, document in expired
        )
        for locale in LOCALES
    }
    return Message(
        N_(
            "The bus must not leave: %(papers)s. Renew it in the register, "
            "or send another bus or driver."
        ),
        {"papers": papers},
    )


def _paper_text(locale: str, paper: str, document: Document) -> str:
    holder = document.person or document.asset
    return translate(
        locale,
        N_("%(paper)s of %(holder)s expired on %(date)s"),
        paper=translate(locale, _paper_label(paper)),
        holder=holder.display_name if isinstance(holder, Person) else getattr(holder, "name", ""),
        date=str(document.expires_on),
    )


def message_in(locale: str, message: Message) -> str:
    """A domain message in a language, for a notice that quotes it."""
    params = {
        name: pick_text(value, locale) if isinstance(value, dict) else value
        for name, value in message.params.items()
    }
    return translate(locale, message.msgid, **params)
