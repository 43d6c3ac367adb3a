"""What a bus and its driver must hold before the bus may leave (校车安全管理条例 §§20–26):
the bus's safety inspection and carrier-liability insurance, the driver's qualification and
annual review. An expired one refuses the departure, naming the paper and the day it expired;
a missing one (never registered) refuses it too, naming the paper and whose it should be.

The driver whose papers count is whoever filed the day's pre-trip check, when they are bus
staff at the school (§41 has the driver check the bus); else the bus staff member the bus's
`driver` attribute names. With no driver known, only the bus's own papers are checked.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models.assets import Asset
from models.catalogue import GROUP_SEPARATOR, LOCALES, join_list, pick_text, translate
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


def _current_papers(
    session: Session, bus: Asset, driver: Person | None
) -> dict[str, list[Document]]:
    """The current (not replaced) documents of each paper the bus and its driver must hold."""
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
    return held


def _required(driver: Person | None) -> tuple[str, ...]:
    return (*BUS_PAPERS, *(DRIVER_PAPERS if driver is not None else ()))


def expired_papers(
    session: Session, bus: Asset, driver: Person | None, today: date
) -> list[tuple[str, Document]]:
    """(paper, its current document) for each paper the bus or driver holds only expired."""
    held = _current_papers(session, bus, driver)
    expired = []
    for paper in _required(driver):
        documents = held.get(paper, [])
        if documents and not any(d.is_valid_on(today) for d in documents):
            latest = max(documents, key=lambda d: d.expires_on or today)
            expired.append((paper, latest))
    return expired


def missing_papers(
    session: Session, bus: Asset, driver: Person | None
) -> list[tuple[str, Asset | Person]]:
    """(paper, who should hold it) for each paper the bus or its driver has none of on file."""
    held = _current_papers(session, bus, driver)
    return [
        (paper, bus if paper in BUS_PAPERS or driver is None else driver)
        for paper in _required(driver)
        if paper not in held
    ]


def papers_refusal(
    session: Session, bus: Asset, driver: Person | None, now: datetime
) -> Message | None:
    """The refusal naming each expired paper (whose it is, when it expired) and each missing
    one (whose it should be, and who adds it), or None when every paper is in date; with no
    driver known (§23: only a qualified driver drives a school bus) the bus does not leave."""
    if driver is None:
        return Message(
            N_(
                "The bus must not leave: no driver of it is known today, so the driver's "
                "qualification and review cannot be checked. The driver (bus staff) files the "
                "pre-trip check, or the school's administrator names a registered driver on the "
                "bus's page."
            )
        )
    today = local_today(now, bus.school.district)
    expired = expired_papers(session, bus, driver, today)
    missing = missing_papers(session, bus, driver)
    if not expired and not missing:
        return None
    papers = {
        locale: GROUP_SEPARATOR[locale].join(
            _paper_text(locale, paper, document) for paper, document in expired
        )
        for locale in LOCALES
    }
    lacking = {locale: _missing_text(locale, missing) for locale in LOCALES}
    if not missing:
        return Message(
            N_(
                "The bus must not leave: %(papers)s. Renew it in the register, "
                "or send another bus or driver."
            ),
            {"papers": papers},
        )
    if not expired:
        return Message(
            N_(
                "The bus must not leave. Missing: %(missing)s. The school's administrator "
                "adds it in the register (Add a document), or send another bus or driver."
            ),
            {"missing": lacking},
        )
    return Message(
        N_(
            "The bus must not leave: %(papers)s. Missing: %(missing)s. The school's "
            "administrator renews or adds them in the register, or send another bus or driver."
        ),
        {"papers": papers, "missing": lacking},
    )


def _holder_name(holder: Any) -> str:
    return holder.display_name if isinstance(holder, Person) else getattr(holder, "name", "")


def _paper_text(locale: str, paper: str, document: Document) -> str:
    return translate(
        locale,
        N_("%(paper)s of %(holder)s expired on %(date)s"),
        paper=translate(locale, _paper_label(paper)),
        holder=_holder_name(document.person or document.asset),
        date=str(document.expires_on),
    )


def _missing_text(locale: str, missing: list[tuple[str, Asset | Person]]) -> str:
    """The missing papers grouped by holder: 1号校车的校车安全技术检验、校车承运人责任险."""
    by_holder: dict[str, list[str]] = {}
    for paper, holder in missing:
        by_holder.setdefault(_holder_name(holder), []).append(
            translate(locale, _paper_label(paper))
        )
    return GROUP_SEPARATOR[locale].join(
        translate(
            locale, N_("%(papers)s of %(holder)s"), papers=join_list(papers, locale), holder=holder
        )
        for holder, papers in by_holder.items()
    )


def message_in(locale: str, message: Message) -> str:
    """A domain message in a language, for a notice that quotes it."""
    params = {
        name: pick_text(value, locale) if isinstance(value, dict) else value
        for name, value in message.params.items()
    }
    return translate(locale, message.msgid, **params)
