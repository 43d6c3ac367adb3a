"""The registers' ledgers (证照台账): staff certificates, suppliers, insurance and the schools'
other documents, for a school or the district and a period, as plain columns and rows that
the screen, the Excel file and the printed page all show alike.

A register reads as of the period's end: the papers held then (issued by then and not yet
renewed), their status on that day, and for one that expired, when."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models.assets import Asset
from models.catalogue import join_list, translate
from models.documents import (
    DOCUMENT_KIND_LABELS,
    INSURANCE_LABELS,
    REQUIRED_CERTIFICATES,
    STATUS_LABELS,
    Document,
    DocumentKind,
    DocumentStatus,
    required_insurances,
    visible_document_ids,
)
from models.messages import N_
from models.org import District, School
from models.people import ROLE_LABELS, Person, visible_school_ids
from models.periods import Period
from models.staff import STAFF_ROLES, people_at_school, school_roles
from models.supplier_licences import LICENCE_KINDS, needed_names
from models.suppliers import SUPPLY_CATEGORIES, Supplier, licence_need, viewer_district_ids


class Register(enum.StrEnum):
    CERTIFICATES = "certificates"
    SUPPLIERS = "suppliers"
    INSURANCE = "insurance"
    DOCUMENTS = "documents"


REGISTER_TITLES = {
    Register.CERTIFICATES: N_("Staff certificates ledger"),
    Register.SUPPLIERS: N_("Suppliers ledger"),
    Register.INSURANCE: N_("Insurance ledger"),
    Register.DOCUMENTS: N_("Documents ledger"),
}

# A staff member's papers (the certificates register); the rest is the documents register.
PERSONAL_KINDS = (DocumentKind.HEALTH_CERTIFICATE, DocumentKind.TRAINING_CERTIFICATE)

# What a row's status may be beyond a document's own: a paper someone must hold and does not,
# a staff member whose roles need none, a supplier the district no longer designates.
MISSING = "missing"
NONE_NEEDED = "none_needed"
EXTRA_STATUS_LABELS = {
    MISSING: N_("Missing"),
    NONE_NEEDED: N_("None required"),
}
# The status filter's choices, and the row statuses each keeps.
STATUS_FILTERS = {
    "valid": (DocumentStatus.VALID, DocumentStatus.NO_EXPIRY),
    "expiring": (DocumentStatus.EXPIRING,),
    "expired": (DocumentStatus.EXPIRED,),
    MISSING: (MISSING,),
}
STATUS_FILTER_LABELS = {
    "valid": N_("Valid"),
    "expiring": N_("Expiring soon"),
    "expired": N_("Expired"),
    MISSING: N_("Missing"),
}

# Each register's columns, in order: a RegisterRow field and its header.
COLUMNS: dict[Register, tuple[tuple[str, str], ...]] = {
    Register.CERTIFICATES: (
        ("school", N_("School")),
        ("holder", N_("Staff member")),
        ("detail", N_("Roles")),
        ("kind", N_("Certificate")),
        ("number", N_("Number")),
        ("issued_on", N_("Issued on")),
        ("expires_on", N_("Expires on")),
        ("status", N_("Status")),
        ("note", N_("In the period")),
    ),
    Register.SUPPLIERS: (
        ("school", N_("School")),
        ("holder", N_("Supplier")),
        ("detail", N_("Categories approved")),
        ("approval", N_("Approval")),
        ("kind", N_("Licence")),
        ("number", N_("Number")),
        ("expires_on", N_("Expires on")),
        ("status", N_("Status")),
        ("note", N_("In the period")),
    ),
    Register.INSURANCE: (
        ("school", N_("School")),
        ("kind", N_("Insurance")),
        ("holder", N_("Insured")),
        ("title", N_("Policy")),
        ("number", N_("Number")),
        ("issued_on", N_("Issued on")),
        ("expires_on", N_("Expires on")),
        ("status", N_("Status")),
        ("note", N_("In the period")),
    ),
    Register.DOCUMENTS: (
        ("school", N_("School")),
        ("kind", N_("Kind")),
        ("title", N_("Document")),
        ("number", N_("Number")),
        ("holder", N_("Holder")),
        ("issued_on", N_("Issued on")),
        ("expires_on", N_("Expires on")),
        ("status", N_("Status")),
        ("note", N_("In the period")),
    ),
}


@dataclass(frozen=True)
class RegisterFilters:
    """What narrows a register's ledger: a status (valid, expiring, expired, missing), a kind
    of paper, and words in the holder's name."""

    status: str | None = None
    kind: str | None = None
    holder: str | None = None


@dataclass(frozen=True)
class RegisterRow:
    school: str
    holder: str
    kind: str
    title: str
    number: str
    issued_on: date | None
    expires_on: date | None
    status: str
    # valid, expiring, expired, no_expiry, missing or none_needed: what colours the status.
    status_key: str
    # What the period saw: valid through it, or the day the paper expired.
    note: str = ""
    detail: str = ""
    approval: str = ""
    kind_key: str = ""
    document_id: int | None = None

    def value(self, key: str) -> object:
        return getattr(self, key)


@dataclass(frozen=True)
class RegisterLedger:
    register: Register
    title: str
    scope: str  # the school's name, or the district's
    period: Period
    period_label: str
    keys: tuple[str, ...]
    headers: tuple[str, ...]
    rows: list[RegisterRow]
    # The kinds the kind filter offers: (key, label).
    kinds: list[tuple[str, str]]
    # The day the statuses are read on: the period's end, or today while it has not come.
    status_on: date

    def count(self, status_key: str) -> int:
        return sum(1 for r in self.rows if r.status_key == status_key)


def _started(document: Document, end: date, after: datetime) -> bool:
    """Whether a paper was in the school's hands by the period's end: issued by then, or
    without an issue date, registered by then."""
    if document.issued_on is not None:
        return document.issued_on <= end
    return document.created_at < after


def held_at_end(document: Document, end: date, after: datetime) -> bool:
    """Held at the period's end: started by then and not yet replaced by a renewal that was."""
    renewal = document.replaced_by
    return _started(document, end, after) and not (
        renewal is not None and _started(renewal, end, after)
    )


def _status(document: Document | None, period: Period, locale: str) -> tuple[str, str, str]:
    """(status, its key, what the period saw) of a paper, as of the period's end."""
    if document is None:
        return (
            translate(locale, EXTRA_STATUS_LABELS[MISSING]),
            MISSING,
            translate(locale, N_("Not held")),
        )
    status = document.status(period.end)
    text = translate(locale, STATUS_LABELS[status])
    expires = document.expires_on
    if status == DocumentStatus.EXPIRED and expires is not None:
        if expires >= period.start:
            note = translate(locale, N_("Expired during the period, on %(date)s"), date=expires)
        else:
            note = translate(locale, N_("Expired on %(date)s"), date=expires)
    else:
        note = translate(locale, N_("Valid through the period"))
    return text, status.value, note


def _row(
    document: Document | None,
    period: Period,
    locale: str,
    *,
    school: str,
    holder: str,
    kind: str,
    kind_key: str,
    detail: str = "",
    approval: str = "",
) -> RegisterRow:
    status, key, note = _status(document, period, locale)
    return RegisterRow(
        school=school,
        holder=holder,
        kind=kind,
        kind_key=kind_key,
        title=document.title if document else "",
        number=document.number if document else "",
        issued_on=document.issued_on if document else None,
        expires_on=document.expires_on if document else None,
        status=status,
        status_key=key,
        note=note,
        detail=detail,
        approval=approval,
        document_id=document.id if document else None,
    )


def _kind_label(kind: str, locale: str) -> str:
    return translate(locale, DOCUMENT_KIND_LABELS.get(kind, kind))  # type: ignore[call-overload]


def _schools(
    session: Session, viewer: Person, district: District, school: School | None
) -> list[School]:
    """The schools the ledger covers, of those the viewer may see: one, or the district's."""
    query = select(School).where(
        School.district_id == district.id, School.id.in_(visible_school_ids(viewer))
    )
    if school is not None:
        query = query.where(School.id == school.id)
    return list(session.scalars(query.order_by(School.code)))


def _held(
    session: Session, period: Period, zone_after: datetime, *criteria: object
) -> list[Document]:
    documents = session.scalars(
        select(Document)
        .where(*criteria)  # type: ignore[arg-type]
        .options(selectinload(Document.replaced_by))
        .order_by(Document.expires_on.is_(None), Document.expires_on, Document.id)
    )
    return [d for d in documents if held_at_end(d, period.end, zone_after)]


def _unseen_numbers_blank(
    session: Session, viewer: Person, schools: list[School], rows: list[RegisterRow]
) -> list[RegisterRow]:
    """A paper the viewer may not open (a colleague's certificate) keeps its kind and status
    in the list, not its number (models/documents.py `_visible_documents`)."""
    visible = visible_document_ids(session, viewer, [s.id for s in schools])
    return [
        row if row.document_id is None or row.document_id in visible else replace(row, number="")
        for row in rows
    ]


def _certificates(
    session: Session, schools: list[School], period: Period, after: datetime, locale: str
) -> list[RegisterRow]:
    """Each staff member at the school, with each certificate they hold and each one their
    roles need and they do not hold."""
    rows = []
    held: dict[tuple[int, int], list[Document]] = defaultdict(list)
    for document in _held(
        session,
        period,
        after,
        Document.school_id.in_([s.id for s in schools]),
        Document.person_id.is_not(None),
    ):
        held[(document.school_id or 0, document.person_id or 0)].append(document)
    for school in schools:
        for person in people_at_school(session, school, STAFF_ROLES):
            roles = [r for r in school_roles(person, school) if r in STAFF_ROLES]
            roles_text = join_list((translate(locale, ROLE_LABELS[r]) for r in roles), locale)
            theirs = held.get((school.id, person.id), [])
            needed = [k for r in roles for k in REQUIRED_CERTIFICATES.get(r, ())]
            lines = [
                _row(
                    d,
                    period,
                    locale,
                    school=school.name,
                    holder=person.display_name,
                    kind=_kind_label(d.kind, locale),
                    kind_key=d.kind,
                    detail=roles_text,
                )
                for d in theirs
            ]
            lines += [
                _row(
                    None,
                    period,
                    locale,
                    school=school.name,
                    holder=person.display_name,
                    kind=_kind_label(kind, locale),
                    kind_key=kind,
                    detail=roles_text,
                )
                for kind in dict.fromkeys(needed)
                if not any(d.kind == kind for d in theirs)
            ]
            if not lines:
                lines = [
                    RegisterRow(
                        school=school.name,
                        holder=person.display_name,
                        kind="",
                        title="",
                        number="",
                        issued_on=None,
                        expires_on=None,
                        status=translate(locale, EXTRA_STATUS_LABELS[NONE_NEEDED]),
                        status_key=NONE_NEEDED,
                        detail=roles_text,
                    )
                ]
            rows += lines
    return rows


def _suppliers(
    session: Session,
    viewer: Person,
    district: District,
    period: Period,
    after: datetime,
    locale: str,
) -> list[RegisterRow]:
    """The district's designated suppliers, each with its licences (or a row saying none)."""
    if district.id not in viewer_district_ids(viewer):
        return []
    suppliers = list(
        session.scalars(
            select(Supplier).where(Supplier.district_id == district.id).order_by(Supplier.name)
        )
    )
    papers: dict[int, list[Document]] = defaultdict(list)
    for document in _held(
        session, period, after, Document.supplier_id.in_([s.id for s in suppliers])
    ):
        papers[document.supplier_id or 0].append(document)
    approved = translate(locale, N_("Approved"))
    withdrawn = translate(locale, N_("Withdrawn"))
    rows = []
    for supplier in suppliers:
        categories = join_list(
            (
                translate(locale, label)
                for c, label in SUPPLY_CATEGORIES.items()
                if c in supplier.categories
            ),
            locale,
        )
        common = {
            "school": district.name,
            "holder": supplier.name,
            "detail": categories,
            "approval": approved if supplier.active else withdrawn,
        }
        documents = papers.get(supplier.id, [])
        for document in documents:
            rows.append(
                _row(
                    document,
                    period,
                    locale,
                    kind=_kind_label(document.kind, locale),
                    kind_key=document.kind,
                    **common,
                )
            )
        if not documents:
            # The licence its goods need (a food licence for food), as the receiving form asks.
            need = licence_need(supplier.categories[0] if supplier.categories else None)
            rows.append(
                _row(
                    None,
                    period,
                    locale,
                    kind=needed_names(need)[locale],
                    kind_key=LICENCE_KINDS[need][0],
                    **common,
                )
            )
    return rows


def _insurance(
    session: Session, schools: list[School], period: Period, after: datetime, locale: str
) -> list[RegisterRow]:
    """Each policy a school and each of its buses must hold (a row saying missing when none
    is), then any other policies it holds."""
    ids = [s.id for s in schools]
    policies: dict[tuple[int, str, int | None], list[Document]] = defaultdict(list)
    for document in _held(
        session,
        period,
        after,
        Document.school_id.in_(ids),
        Document.kind == DocumentKind.INSURANCE_POLICY,
    ):
        key = (document.school_id or 0, str(document.insurance_type), document.asset_id)
        policies[key].append(document)
    required = required_insurances(session, ids)
    assets = {
        a.id: a
        for a in session.scalars(
            select(Asset).where(Asset.id.in_({k[2] for k in policies if k[2] is not None}))
        )
    }

    def holder(school: School, bus: Asset | None) -> str:
        return f"{bus.code} {bus.name}" if bus is not None else school.name

    rows = []
    for school in schools:
        wanted = required.get(school.id, [])
        for kind, bus in wanted:
            found = policies.pop((school.id, kind, bus.id if bus else None), [])
            for document in found or [None]:  # type: ignore[list-item]
                rows.append(
                    _row(
                        document,
                        period,
                        locale,
                        school=school.name,
                        holder=holder(school, bus),
                        kind=translate(locale, INSURANCE_LABELS[kind]),  # type: ignore[index]
                        kind_key=kind,
                    )
                )
        for (school_id, kind, asset_id), found in sorted(
            policies.items(), key=lambda kv: (kv[0][1], kv[0][2] or 0)
        ):
            if school_id != school.id:
                continue
            for document in found:
                rows.append(
                    _row(
                        document,
                        period,
                        locale,
                        school=school.name,
                        holder=holder(school, assets.get(asset_id or 0)),
                        kind=translate(locale, INSURANCE_LABELS.get(kind, kind)),  # type: ignore[call-overload]
                        kind_key=kind,
                    )
                )
    return rows


def _documents(
    session: Session, schools: list[School], period: Period, after: datetime, locale: str
) -> list[RegisterRow]:
    """The schools' other papers: licences, approvals, test reports, anything else."""
    names = {s.id: s.name for s in schools}
    rows = []
    documents = _held(
        session,
        period,
        after,
        Document.school_id.in_(list(names)),
        Document.kind.not_in([*PERSONAL_KINDS, DocumentKind.INSURANCE_POLICY]),
        # A person's papers, whatever their kind, are in the certificates register.
        Document.person_id.is_(None),
    )
    for document in sorted(
        documents, key=lambda d: (names[d.school_id or 0], d.kind, d.expires_on or date.max)
    ):
        rows.append(
            _row(
                document,
                period,
                locale,
                school=names[document.school_id or 0],
                holder=document.holder_name,
                kind=_kind_label(document.kind, locale),
                kind_key=document.kind,
            )
        )
    return rows


def _matches(row: RegisterRow, filters: RegisterFilters) -> bool:
    if filters.status and row.status_key not in STATUS_FILTERS.get(filters.status, ()):
        return False
    if filters.kind and row.kind_key != filters.kind:
        return False
    return not (filters.holder and filters.holder.strip().lower() not in row.holder.lower())


def register_ledger(
    session: Session,
    viewer: Person,
    register: Register,
    *,
    district: District,
    period: Period,
    locale: str,
    school: School | None = None,
    filters: RegisterFilters = RegisterFilters(),
    today: date | None = None,
) -> RegisterLedger:
    """One register's ledger of a school (or, without `school`, of every school of the
    district the viewer sees, each row naming its school) as of the period's end, or of
    `today` while the period runs on: a status is never read on a day still to come."""
    shown = period
    if today is not None and today < period.end:
        period = replace(period, end=max(today, period.start))
    _first, after = period.bounds(district.zone)
    schools = _schools(session, viewer, district, school)
    if register == Register.SUPPLIERS:
        rows = _suppliers(session, viewer, district, period, after, locale) if schools else []
    elif register == Register.CERTIFICATES:
        rows = _certificates(session, schools, period, after, locale)
        rows = _unseen_numbers_blank(session, viewer, schools, rows)
    elif register == Register.INSURANCE:
        rows = _insurance(session, schools, period, after, locale)
        rows = _unseen_numbers_blank(session, viewer, schools, rows)
    else:
        rows = _documents(session, schools, period, after, locale)
    kinds = list(dict.fromkeys((r.kind_key, r.kind) for r in rows if r.kind_key))
    keys = tuple(k for k, _label in COLUMNS[register] if school is None or k != "school")
    labels = dict(COLUMNS[register])
    return RegisterLedger(
        register=register,
        title=translate(locale, REGISTER_TITLES[register]),
        scope=school.name if school is not None else district.name,
        period=shown,
        period_label=shown.label(locale),
        keys=keys,
        headers=tuple(translate(locale, labels[k]) for k in keys),
        rows=[r for r in rows if _matches(r, filters)],
        kinds=sorted(kinds, key=lambda kv: kv[1]),
        status_on=period.end,
    )


def register_ledgers(
    session: Session,
    viewer: Person,
    *,
    district: District,
    period: Period,
    locale: str,
    school: School | None = None,
    today: date | None = None,
) -> list[RegisterLedger]:
    """The four registers' ledgers, in order: what an inspection pack holds."""
    return [
        register_ledger(
            session,
            viewer,
            register,
            district=district,
            period=period,
            locale=locale,
            school=school,
            today=today,
        )
        for register in Register
    ]


def expiry_counts(ledgers: Iterable[RegisterLedger]) -> tuple[int, int, int, int]:
    """(papers listed, expiring, expired, missing) over registers: the pack's cover."""
    rows = [r for ledger in ledgers for r in ledger.rows if r.status_key != NONE_NEEDED]
    return (
        sum(1 for r in rows if r.status_key != MISSING),
        sum(1 for r in rows if r.status_key == DocumentStatus.EXPIRING),
        sum(1 for r in rows if r.status_key == DocumentStatus.EXPIRED),
        sum(1 for r in rows if r.status_key == MISSING),
    )
