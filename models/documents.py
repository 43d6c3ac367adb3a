"""Documents: people's certificates, suppliers' papers, assets' approvals, insurances.

A document (certificate, licence, test report, policy) belongs to a school, or, for a
supplier's papers, to the whole district. It is held by a person, a supplier, an asset (a
bus's approval or insurance) or by nobody (a school-wide policy). A renewal is a new document
that replaces the old one, so the history stays.
"""

from __future__ import annotations

import enum
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, and_, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.assets import Asset, AssetKind
from models.audit import audit, differences, fields_of
from models.base import Base
from models.messages import N_, Message, SubmissionInvalid
from models.org import District, School
from models.people import Person, Role, RoleGrant, visible_school_ids
from models.photos import Photo, PhotoRejected, PhotoStore, ProcessedPhoto, store_photo
from models.staff import STAFF_ROLES, is_at_school, people_at_school, school_roles
from models.stored_files import DocumentFile, PdfFile, StoredFile, read_document_file, store_pdf
from models.suppliers import RegisterRefused, Supplier, is_district_admin, viewer_district_ids
from models.training import TrainingSession, trainings_in_force

EXPIRING_WITHIN = timedelta(days=30)


class DocumentKind(enum.StrEnum):
    HEALTH_CERTIFICATE = "health_certificate"
    TRAINING_CERTIFICATE = "training_certificate"
    DRIVER_APPROVAL = "driver_approval"
    # A school-bus driver's own papers (校车安全管理条例 §§23–24), held by the driver.
    DRIVER_QUALIFICATION = "driver_qualification"
    DRIVER_REVIEW = "driver_review"
    # A bus's semi-annual safety inspection and its maintenance file (§§20–22), held by the bus.
    BUS_INSPECTION = "bus_inspection"
    BUS_MAINTENANCE = "bus_maintenance"
    # A food supplier's licence: a trader's 食品经营许可证, or a producer's 食品生产许可证 whose
    # number starts SC (it replaced the old QS mark in 2015).
    FOOD_BUSINESS_LICENCE = "food_business_licence"
    FOOD_PRODUCTION_LICENCE = "food_production_licence"
    TEST_REPORT = "test_report"
    BUSINESS_LICENCE = "business_licence"
    INSURANCE_POLICY = "insurance_policy"
    OTHER = "other"


DOCUMENT_KIND_LABELS = {
    DocumentKind.HEALTH_CERTIFICATE: N_("Health certificate"),
    DocumentKind.TRAINING_CERTIFICATE: N_("Training certificate"),
    DocumentKind.DRIVER_APPROVAL: N_("Driver approval"),
    DocumentKind.DRIVER_QUALIFICATION: N_("School-bus driving qualification"),
    DocumentKind.DRIVER_REVIEW: N_("Driving licence annual review"),
    DocumentKind.BUS_INSPECTION: N_("Bus safety inspection"),
    DocumentKind.BUS_MAINTENANCE: N_("Bus maintenance file"),
    DocumentKind.FOOD_BUSINESS_LICENCE: N_("Food business licence"),
    DocumentKind.FOOD_PRODUCTION_LICENCE: N_("Food production licence (SC)"),
    DocumentKind.TEST_REPORT: N_("Test report"),
    DocumentKind.BUSINESS_LICENCE: N_("Business licence"),
    DocumentKind.INSURANCE_POLICY: N_("Insurance policy"),
    DocumentKind.OTHER: N_("Other document"),
}


class InsuranceType(enum.StrEnum):
    STUDENT_ACCIDENT = "student_accident"
    SCHOOL_LIABILITY = "school_liability"
    MEDICAL = "medical"
    BUS_CARRIER_LIABILITY = "bus_carrier_liability"


INSURANCE_LABELS = {
    InsuranceType.STUDENT_ACCIDENT: N_("Student accident insurance"),
    InsuranceType.SCHOOL_LIABILITY: N_("School liability insurance"),
    InsuranceType.MEDICAL: N_("Medical insurance"),
    InsuranceType.BUS_CARRIER_LIABILITY: N_("Bus carrier liability insurance"),
}

# What every school must hold itself, and what every bus must hold.
SCHOOL_INSURANCES = (
    InsuranceType.STUDENT_ACCIDENT,
    InsuranceType.SCHOOL_LIABILITY,
    InsuranceType.MEDICAL,
)
BUS_INSURANCES = (InsuranceType.BUS_CARRIER_LIABILITY,)


class DocumentStatus(enum.StrEnum):
    VALID = "valid"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    NO_EXPIRY = "no_expiry"


STATUS_LABELS = {
    DocumentStatus.VALID: N_("Valid"),
    DocumentStatus.EXPIRING: N_("Expiring soon"),
    DocumentStatus.EXPIRED: N_("Expired"),
    DocumentStatus.NO_EXPIRY: N_("No expiry"),
}


# Who must hold what (source point 9): canteen workers a health certificate, dormitory staff
# (managers, guards, cleaners) a training certificate; those who supply or look after the
# drinking water a health certificate (《生活饮用水卫生监督管理办法》第十一条).
REQUIRED_CERTIFICATES = {
    Role.CANTEEN_STAFF: (DocumentKind.HEALTH_CERTIFICATE,),
    Role.DORM_STAFF: (DocumentKind.TRAINING_CERTIFICATE,),
    Role.GUARD: (DocumentKind.TRAINING_CERTIFICATE,),
    Role.CLEANER: (DocumentKind.TRAINING_CERTIFICATE,),
    Role.WATER_STAFF: (DocumentKind.HEALTH_CERTIFICATE,),
}

# A training attended in the last year (models/training.py) stands in for this certificate.
TRAINED_KIND = DocumentKind.TRAINING_CERTIFICATE

# The papers a bus holds, and those its driver (a person with the bus staff role) holds.
BUS_DOCUMENTS = frozenset({DocumentKind.BUS_INSPECTION, DocumentKind.BUS_MAINTENANCE})
DRIVER_DOCUMENTS = frozenset({DocumentKind.DRIVER_QUALIFICATION, DocumentKind.DRIVER_REVIEW})

# Which holders fit which kind of document: "school" means nobody in particular.
HOLDERS_FOR_KIND = {
    DocumentKind.HEALTH_CERTIFICATE: {"person"},
    DocumentKind.TRAINING_CERTIFICATE: {"person"},
    DocumentKind.DRIVER_APPROVAL: {"asset"},
    DocumentKind.DRIVER_QUALIFICATION: {"person"},
    DocumentKind.DRIVER_REVIEW: {"person"},
    DocumentKind.BUS_INSPECTION: {"asset"},
    DocumentKind.BUS_MAINTENANCE: {"asset"},
    DocumentKind.FOOD_BUSINESS_LICENCE: {"supplier"},
    DocumentKind.FOOD_PRODUCTION_LICENCE: {"supplier"},
    # Held by the school: its drinking-water test report (models/water.py).
    DocumentKind.TEST_REPORT: {"supplier", "asset", "school"},
    DocumentKind.BUSINESS_LICENCE: {"supplier", "asset", "school"},
    DocumentKind.INSURANCE_POLICY: {"asset", "school"},
    DocumentKind.OTHER: {"person", "supplier", "asset", "school"},
}


class Document(Base):
    """A certificate, licence, test report or policy, with its dates and a scan."""

    __tablename__ = "document"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN person_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN supplier_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN asset_id IS NULL THEN 0 ELSE 1 END) <= 1",
            name="one_holder",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), index=True)
    # None for a supplier's papers, which the whole district relies on.
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    number: Mapped[str] = mapped_column(String(100), default="")
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("supplier.id"), index=True)
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("asset.id"), index=True)
    insurance_type: Mapped[str | None] = mapped_column(String(32))
    issued_on: Mapped[date | None]
    expires_on: Mapped[date | None] = mapped_column(index=True)
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("photo.id"))
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    # The nearest step (30, 7, 1 or 0 days before it expires) already announced.
    expiry_notice_days: Mapped[int | None]

    school: Mapped[School | None] = relationship()
    person: Mapped[Person | None] = relationship(foreign_keys=[person_id])
    supplier: Mapped[Supplier | None] = relationship(back_populates="documents")
    asset: Mapped[Asset | None] = relationship()
    photo: Mapped[Photo | None] = relationship()
    file: Mapped[StoredFile | None] = relationship()
    created_by: Mapped[Person | None] = relationship(foreign_keys=[created_by_id])
    replaced_by: Mapped[Document | None] = relationship(remote_side=[id])

    def status(self, today: date) -> DocumentStatus:
        """Valid through the expiry date itself; expiring in the 30 days before it."""
        if self.expires_on is None:
            return DocumentStatus.NO_EXPIRY
        if self.expires_on < today:
            return DocumentStatus.EXPIRED
        if self.expires_on - today <= EXPIRING_WITHIN:
            return DocumentStatus.EXPIRING
        return DocumentStatus.VALID

    def is_valid_on(self, today: date) -> bool:
        return self.status(today) != DocumentStatus.EXPIRED

    @property
    def is_current(self) -> bool:
        return self.replaced_by_id is None

    @property
    def holder_kind(self) -> str:
        if self.person_id is not None:
            return "person"
        if self.supplier_id is not None:
            return "supplier"
        if self.asset_id is not None:
            return "asset"
        return "school"

    @property
    def holder_name(self) -> str:
        if self.person is not None:
            return self.person.display_name
        if self.supplier is not None:
            return self.supplier.name
        if self.asset is not None:
            return f"{self.asset.code} {self.asset.name}"
        return self.school.name if self.school is not None else ""


Holder = Person | Asset | Supplier | None


def local_today(now: datetime, district: District) -> date:
    """The date on the district's calendar: at 17:00 UTC it is already tomorrow in Shanghai."""
    return district.local(now).date()


def can_manage_document(person: Person, document: Document) -> bool:
    if document.school is not None:
        return person.can_manage_school(document.school)
    return is_district_admin(person, document.district_id)


DateInput = date | str | None
_DATE_SEPARATORS = re.compile(r"[/.年月]")


def parse_date(value: DateInput) -> date | None:
    """A date from a date input (2026-03-31) or as typed (2026/3/31, 2026年3月31日)."""
    if value is None or isinstance(value, date):
        return value
    text = _DATE_SEPARATORS.sub("-", value.strip()).removesuffix("日").strip("-")
    if not text:
        return None
    parts = text.split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(value)
    return date(int(parts[0]), int(parts[1]), int(parts[2]))


@dataclass
class _Checked:
    errors: dict[str, Message] = field(default_factory=dict)
    issued_on: date | None = None
    expires_on: date | None = None
    insurance_type: str | None = None
    attachment: ProcessedPhoto | PdfFile | None = None


def _check_fields(
    *,
    kind: str,
    title: str,
    number: str,
    insurance_type: str | None,
    issued_on: DateInput,
    expires_on: DateInput,
    upload: DocumentFile | None,
    keep_exif: bool,
) -> _Checked:
    checked = _Checked()
    errors = checked.errors
    if kind not in DOCUMENT_KIND_LABELS:
        errors["kind"] = Message(N_("Choose the kind of document."))
    if not title.strip():
        errors["title"] = Message(N_("Enter a title."))
    elif len(title.strip()) > 200:
        errors["title"] = Message(N_("At most %(count)d characters."), {"count": 200})
    if len(number.strip()) > 100:
        errors["number"] = Message(N_("At most %(count)d characters."), {"count": 100})
    for name, value in (("issued_on", issued_on), ("expires_on", expires_on)):
        try:
            setattr(checked, name, parse_date(value))
        except ValueError:
            errors[name] = Message(N_("Enter a date like 2026-03-31."))
    if (
        checked.issued_on is not None
        and checked.expires_on is not None
        and checked.expires_on <= checked.issued_on
    ):
        errors["expires_on"] = Message(N_("The expiry date must be after the issue date."))
    if kind == DocumentKind.INSURANCE_POLICY:
        if insurance_type not in INSURANCE_LABELS:
            errors["insurance_type"] = Message(N_("Choose the type of insurance."))
        else:
            checked.insurance_type = insurance_type
    if upload is not None:
        try:
            checked.attachment = read_document_file(upload, keep_exif=keep_exif)
        except PhotoRejected as rejected:
            errors["file"] = rejected.message
    return checked


def _holder_kind(holder: Holder) -> str:
    if isinstance(holder, Person):
        return "person"
    if isinstance(holder, Supplier):
        return "supplier"
    if isinstance(holder, Asset):
        return "asset"
    return "school"


def holder_key(holder: Holder) -> str:
    """How a form names a holder: "school", "person-12", "asset-3" or "supplier-5"."""
    return "school" if holder is None else f"{_holder_kind(holder)}-{holder.id}"


_HOLDER_TYPES: dict[str, type[Person | Asset | Supplier]] = {
    "person": Person,
    "asset": Asset,
    "supplier": Supplier,
}


def find_holder(session: Session, key: str) -> Holder:
    """The holder a form named; whether it fits the school is checked when adding."""
    if key == "school":
        return None
    kind, _, number = key.partition("-")
    holder_type = _HOLDER_TYPES.get(kind)
    # At most nine digits: a longer number is no id, and PostgreSQL would refuse it.
    found = (
        session.get(holder_type, int(number))
        if holder_type and number.isdigit() and len(number) < 10
        else None
    )
    if not isinstance(found, Person | Asset | Supplier):
        raise SubmissionInvalid({"holder": Message(N_("Choose who holds this document."))})
    return found


def _check_holder(
    session: Session,
    actor: Person,
    school: School | None,
    holder: Holder,
    kind: str,
    insurance_type: str | None,
) -> tuple[dict[str, Message], int | None]:
    """Errors about who holds the document, and the district it then belongs to."""
    errors: dict[str, Message] = {}
    holder_kind = _holder_kind(holder)
    if isinstance(holder, Supplier):
        if school is not None and school.district_id != holder.district_id:
            errors["holder"] = Message(N_("This supplier serves another district."))
        return errors, holder.district_id
    if school is None:
        errors["holder"] = Message(N_("Choose who holds this document."))
        return errors, None
    if isinstance(holder, Person) and not is_at_school(holder, school, STAFF_ROLES):
        errors["holder"] = Message(N_("This person has no role at this school."))
    if isinstance(holder, Asset) and holder.school_id != school.id:
        errors["holder"] = Message(N_("This asset belongs to another school."))
    fits = HOLDERS_FOR_KIND.get(kind)  # type: ignore[call-overload]
    if "holder" not in errors and fits is not None and holder_kind not in fits:
        errors["holder"] = Message(N_("Choose a holder that fits this kind of document."))
    if (
        "holder" not in errors
        and insurance_type == InsuranceType.BUS_CARRIER_LIABILITY
        and not (isinstance(holder, Asset) and holder.kind == AssetKind.BUS)
    ):
        errors["holder"] = Message(N_("Carrier liability insurance is held by a bus."))
    if (
        "holder" not in errors
        and kind in BUS_DOCUMENTS
        and not (isinstance(holder, Asset) and holder.kind == AssetKind.BUS)
    ):
        errors["holder"] = Message(N_("A bus's inspection and maintenance file are held by a bus."))
    if (
        "holder" not in errors
        and kind in DRIVER_DOCUMENTS
        and not (isinstance(holder, Person) and is_at_school(holder, school, (Role.BUS_STAFF,)))
    ):
        errors["holder"] = Message(N_("A driver's papers are held by a member of the bus staff."))
    return errors, school.district_id


def _refuse_unless_can_add(actor: Person, school: School | None, holder: Holder) -> None:
    """A school's administrators (or the district's) add its papers; suppliers' papers are
    the district's, so only its administrators add those."""
    if isinstance(holder, Supplier):
        if not is_district_admin(actor, holder.district_id):
            raise RegisterRefused(
                Message(N_("Only a district administrator can manage suppliers' documents."))
            )
    elif school is not None and not actor.can_manage_school(school):
        raise RegisterRefused(Message(N_("Only the school's administrators can do this.")))


# What a document's audit entries compare: never its scan, only what is typed about it.
DOCUMENT_FIELDS = ("kind", "title", "number", "insurance_type", "issued_on", "expires_on")


def _document_fields(document: Document) -> dict[str, Any]:
    return {**fields_of(document, DOCUMENT_FIELDS), "holder": document.holder_name}


def _document_label(document: Document) -> str:
    """A document as its audit entries name it: its title and who holds it."""
    return " · ".join(part for part in (document.title, document.holder_name) if part)[:200]


def add_document(
    session: Session,
    actor: Person,
    *,
    school: School | None,
    holder: Holder,
    kind: str,
    title: str,
    number: str = "",
    insurance_type: str | None = None,
    issued_on: DateInput = None,
    expires_on: DateInput = None,
    upload: DocumentFile | None = None,
    store: PhotoStore,
    now: datetime,
    keep_exif: bool = False,
    replacing: Document | None = None,
) -> Document:
    """Register a document held by a person, an asset or the school; a supplier's for the
    whole district (then `school` only says where the administrator was looking). Logged as
    added, or, `replacing` an older one (`renew_document`), as that one renewed."""
    _refuse_unless_can_add(actor, school, holder)
    checked = _check_fields(
        kind=kind,
        title=title,
        number=number,
        insurance_type=insurance_type,
        issued_on=issued_on,
        expires_on=expires_on,
        upload=upload,
        keep_exif=keep_exif,
    )
    holder_errors, district_id = _check_holder(
        session, actor, school, holder, kind, checked.insurance_type
    )
    errors = {**checked.errors, **holder_errors}
    if errors:
        raise SubmissionInvalid(errors)
    assert district_id is not None
    document = Document(
        district_id=district_id,
        school=None if isinstance(holder, Supplier) else school,
        kind=kind,
        title=title.strip(),
        number=number.strip(),
        person=holder if isinstance(holder, Person) else None,
        supplier=holder if isinstance(holder, Supplier) else None,
        asset=holder if isinstance(holder, Asset) else None,
        insurance_type=checked.insurance_type,
        issued_on=checked.issued_on,
        expires_on=checked.expires_on,
        created_at=now,
        created_by=actor,
    )
    session.add(document)
    _attach(session, document, checked.attachment, store, now)
    session.flush()
    label = _document_label(document)
    if replacing is None:
        added = _document_fields(document)
        audit(session, actor, "document.added", document, {}, added, now=now, label=label)
        return document
    replacing.replaced_by = document
    session.flush()
    before, after = differences(_document_fields(replacing), _document_fields(document))
    audit(session, actor, "document.renewed", document, before, after, now=now, label=label)
    return document


def _attach(
    session: Session,
    document: Document,
    attachment: ProcessedPhoto | PdfFile | None,
    store: PhotoStore,
    now: datetime,
) -> None:
    if isinstance(attachment, PdfFile):
        document.file = store_pdf(session, store, attachment, now=now)
    elif attachment is not None:
        document.photo = store_photo(session, store, attachment, now=now)


def renew_document(
    session: Session,
    actor: Person,
    old: Document,
    *,
    title: str,
    number: str = "",
    insurance_type: str | None = None,
    issued_on: DateInput = None,
    expires_on: DateInput = None,
    upload: DocumentFile | None = None,
    store: PhotoStore,
    now: datetime,
    keep_exif: bool = False,
) -> Document:
    """A new document of the same kind for the same holder; the old one is kept, replaced."""
    if not can_manage_document(actor, old):
        raise RegisterRefused(Message(N_("Only the school's administrators can do this.")))
    if old.replaced_by_id is not None:
        raise RegisterRefused(Message(N_("This document has already been renewed.")))
    holder: Holder = old.person or old.supplier or old.asset
    return add_document(
        session,
        actor,
        school=old.school,
        holder=holder,
        kind=old.kind,
        title=title,
        number=number,
        insurance_type=insurance_type if insurance_type is not None else old.insurance_type,
        issued_on=issued_on,
        expires_on=expires_on,
        upload=upload,
        store=store,
        now=now,
        keep_exif=keep_exif,
        replacing=old,
    )


def _schools_where(viewer: Person, role: Role) -> list[int]:
    return [g.school_id for g in viewer.grants if g.role == role and g.school_id is not None]


def _visible_documents(viewer: Person) -> Any:
    """Who sees which paper (README, "Who may see and do what"): a person's own papers (health
    and training certificates, a driver's qualification) their holder, the school's and the
    district's administrators, and for health certificates the school's food-safety officer;
    insurance policies the administrators, and a bus's policies the school's bus staff; every
    other paper of a school everyone with a role there; a supplier's, the whole district."""
    district_ids = sorted(i for i in viewer_district_ids(viewer) if viewer.is_district_admin_of(i))
    managed = or_(
        Document.school_id.in_(_schools_where(viewer, Role.SCHOOL_ADMIN)),
        Document.district_id.in_(district_ids),
    )
    personal = Document.person_id.is_not(None)
    insurance = Document.kind == DocumentKind.INSURANCE_POLICY
    return or_(
        and_(Document.school_id.in_(visible_school_ids(viewer)), ~personal, ~insurance),
        and_(
            Document.school_id.is_(None),
            Document.district_id.in_(sorted(viewer_district_ids(viewer))),
        ),
        and_(
            personal,
            or_(
                Document.person_id == viewer.id,
                managed,
                and_(
                    Document.kind == DocumentKind.HEALTH_CERTIFICATE,
                    Document.school_id.in_(_schools_where(viewer, Role.FOOD_SAFETY_OFFICER)),
                ),
            ),
        ),
        and_(
            insurance,
            or_(
                managed,
                and_(
                    Document.asset_id.is_not(None),
                    Document.school_id.in_(_schools_where(viewer, Role.BUS_STAFF)),
                ),
            ),
        ),
    )


def visible_document_ids(session: Session, viewer: Person, school_ids: Sequence[int]) -> set[int]:
    """The ids of the schools' papers this viewer may open, for a list that names them all:
    the others show their kind and status, not their number or scan."""
    return set(
        session.scalars(
            select(Document.id).where(
                Document.school_id.in_(list(school_ids)), _visible_documents(viewer)
            )
        )
    )


def _at_school(school: School) -> Any:
    """A school's own documents and the district-wide ones it relies on."""
    return or_(
        Document.school_id == school.id,
        and_(Document.school_id.is_(None), Document.district_id == school.district_id),
    )


def visible_document(session: Session, viewer: Person, document_id: int) -> Document | None:
    return session.scalar(
        select(Document).where(Document.id == document_id, _visible_documents(viewer))
    )


def document_link(document: Document) -> str:
    """The path of a document's page: under its school; a district-wide one (a supplier's)
    through the path that finds a school of the reader's to show it under."""
    if document.school is not None:
        return f"/registers/{document.school.code}/documents/{document.id}"
    return f"/registers/documents/{document.id}"


def school_to_show_document(session: Session, viewer: Person, document: Document) -> School | None:
    """The school whose register shows the document to this reader: its own, else the first
    of the reader's schools in its district."""
    if document.school is not None:
        return document.school
    return session.scalar(
        select(School)
        .where(
            School.district_id == document.district_id, School.id.in_(visible_school_ids(viewer))
        )
        .order_by(School.code)
        .limit(1)
    )


def person_certificates(
    session: Session, person: Person, *, school_id: int | None = None
) -> list[Document]:
    """The person's current documents (renewed ones left out), soonest to expire first."""
    query = select(Document).where(
        Document.person_id == person.id, Document.replaced_by_id.is_(None)
    )
    if school_id is not None:
        query = query.where(Document.school_id == school_id)
    return list(session.scalars(query.order_by(*_by_expiry())))


def _by_expiry() -> tuple[Any, ...]:
    # Documents without an expiry last, on SQLite and PostgreSQL alike.
    return (Document.expires_on.is_(None), Document.expires_on, Document.id)


def expiring_documents(
    session: Session,
    viewer: Person,
    today: date,
    within_days: int = 30,
    *,
    school: School | None = None,
) -> list[Document]:
    """Current documents the viewer may see that expired or expire within the window,
    the longest expired first."""
    query = select(Document).where(
        _visible_documents(viewer),
        Document.replaced_by_id.is_(None),
        Document.expires_on.is_not(None),
        Document.expires_on <= today + timedelta(days=within_days),
    )
    if school is not None:
        query = query.where(_at_school(school))
    return list(session.scalars(query.order_by(Document.expires_on, Document.id)))


def school_staff(session: Session, school: School) -> list[tuple[Person, list[Role]]]:
    """The people at the school who work there, by name, with their roles there: district
    administrators hold papers for no school, so they are listed only with another role."""
    return [
        (person, [role for role in school_roles(person, school) if role in STAFF_ROLES])
        for person in people_at_school(session, school, STAFF_ROLES)
    ]


def valid_certificate_share(
    session: Session, school_id: int, kind: str, role: Role, today: date
) -> tuple[list[Person], list[Person]]:
    """(people with a valid certificate of that kind, people with that role) at the school."""
    school = session.get(School, school_id)
    staff = people_at_school(session, school, (role,)) if school is not None else []
    documents = session.scalars(
        select(Document).where(
            Document.school_id == school_id,
            Document.kind == kind,
            Document.person_id.in_([p.id for p in staff]),
            Document.replaced_by_id.is_(None),
        )
    )
    certified = {d.person_id for d in documents if d.is_valid_on(today)}
    if kind == TRAINED_KIND:
        certified |= set(trainings_in_force(session, [p.id for p in staff], today))
    return [p for p in staff if p.id in certified], staff


@dataclass(frozen=True)
class CertificateShare:
    """How many of a school's staff in a role hold a valid certificate of a kind it needs."""

    role: Role
    kind: DocumentKind
    valid: int
    staff: int


def certificate_shares(session: Session, school_id: int, today: date) -> list[CertificateShare]:
    """For each certificate a role needs (REQUIRED_CERTIFICATES), the share of the school's
    staff in that role who hold a valid one; roles nobody holds are left out."""
    return certificate_shares_at(session, [school_id], today).get(school_id, [])


def _staff_and_certified(
    session: Session, school_ids: Sequence[int], today: date
) -> tuple[dict[tuple[int, Role], set[int]], dict[tuple[int, str], set[int]]]:
    """(the active people per school and role that needs a certificate, the people per school
    and kind holding a valid one, a training in the last year counting as the training
    certificate), read in three queries."""
    staff: dict[tuple[int, Role], set[int]] = defaultdict(set)
    for school_id, role, person_id in session.execute(
        select(RoleGrant.school_id, RoleGrant.role, RoleGrant.person_id)
        .join(Person, Person.id == RoleGrant.person_id)
        .where(
            RoleGrant.school_id.in_(school_ids),
            RoleGrant.role.in_(list(REQUIRED_CERTIFICATES)),
            Person.active,
        )
    ):
        if school_id is not None:
            staff[(school_id, Role(role))].add(person_id)
    kinds = {kind for needed in REQUIRED_CERTIFICATES.values() for kind in needed}
    certified: dict[tuple[int, str], set[int]] = defaultdict(set)
    for document in session.scalars(
        select(Document).where(
            Document.school_id.in_(school_ids),
            Document.kind.in_(list(kinds)),
            Document.person_id.is_not(None),
            Document.replaced_by_id.is_(None),
        )
    ):
        if document.school_id is not None and document.is_valid_on(today):
            certified[(document.school_id, document.kind)].add(document.person_id or 0)
    trained = set(trainings_in_force(session, {p for ids in staff.values() for p in ids}, today))
    for school_id in school_ids:
        certified[(school_id, TRAINED_KIND)] |= trained
    return staff, certified


def certificate_shares_at(
    session: Session, school_ids: Sequence[int], today: date
) -> dict[int, list[CertificateShare]]:
    """`certificate_shares` of many schools, read in three queries (a district's score)."""
    staff, certified = _staff_and_certified(session, school_ids, today)
    shares: dict[int, list[CertificateShare]] = {}
    for school_id in school_ids:
        for role, needed in REQUIRED_CERTIFICATES.items():
            people = staff.get((school_id, role), set())
            for kind in needed:
                if people:
                    valid = len(people & certified.get((school_id, kind), set()))
                    shares.setdefault(school_id, []).append(
                        CertificateShare(role, kind, valid, len(people))
                    )
    return shares


def missing_papers_at(session: Session, school_ids: Sequence[int], today: date) -> dict[int, int]:
    """Per school, the papers it should hold and holds no valid one of, as its registers list
    them: each certificate a person's roles need (once per person and kind) and each insurance
    the school or one of its buses needs."""
    staff, certified = _staff_and_certified(session, school_ids, today)
    gaps: dict[int, set[tuple[int, str]]] = defaultdict(set)
    for (school_id, role), people in staff.items():
        for kind in REQUIRED_CERTIFICATES[role]:
            held = certified.get((school_id, kind), set())
            gaps[school_id] |= {(person_id, kind) for person_id in people - held}
    insured = insurance_in_force(session, school_ids, today)
    return {
        school_id: len(gaps[school_id])
        + (insured[school_id][1] - insured[school_id][0] if school_id in insured else 0)
        for school_id in school_ids
    }


@dataclass(frozen=True)
class StaffEntry:
    """One line of the people register: a person, their roles, papers and what is missing."""

    person: Person
    roles: list[Role]
    documents: list[Document]
    missing: list[DocumentKind]
    # The training that counts as their training certificate, when they need one and hold none.
    training: TrainingSession | None = None


def people_register(session: Session, school: School, today: date) -> list[StaffEntry]:
    """The school's staff with their papers and the certificates their roles need and they do
    not hold; a training attended in the last year counts as the training certificate."""
    staff = school_staff(session, school)
    trained = trainings_in_force(session, [person.id for person, _ in staff], today)
    documents: dict[int, list[Document]] = {}
    for document in session.scalars(
        select(Document)
        .where(
            Document.school_id == school.id,
            Document.person_id.is_not(None),
            Document.replaced_by_id.is_(None),
        )
        .order_by(*_by_expiry())
    ):
        documents.setdefault(document.person_id or 0, []).append(document)
    entries = []
    for person, roles in staff:
        held = documents.get(person.id, [])
        needed = [k for r in roles for k in REQUIRED_CERTIFICATES.get(r, ())]
        missing = [
            k
            for k in dict.fromkeys(needed)
            if not any(d.kind == k and d.is_valid_on(today) for d in held)
        ]
        training = trained.get(person.id) if TRAINED_KIND in missing else None
        if training is not None:
            missing.remove(TRAINED_KIND)
        entries.append(StaffEntry(person, roles, held, missing, training))
    return entries


def insurance_policies(session: Session, school: School) -> list[Document]:
    """The school's current insurance policies, its own and its buses'."""
    return list(
        session.scalars(
            select(Document)
            .where(
                Document.school_id == school.id,
                Document.kind == DocumentKind.INSURANCE_POLICY,
                Document.replaced_by_id.is_(None),
            )
            .order_by(Document.asset_id.is_not(None), Document.insurance_type, *_by_expiry())
        )
    )


def required_insurances(
    session: Session, school_ids: Sequence[int]
) -> dict[int, list[tuple[str, Asset | None]]]:
    """Per school, the insurance it must hold: its own (SCHOOL_INSURANCES) and each bus's
    (BUS_INSURANCES), the buses by code; what the score, the register and its ledger read."""
    buses: dict[int, list[Asset]] = defaultdict(list)
    for bus in session.scalars(
        select(Asset)
        .where(Asset.school_id.in_(school_ids), Asset.kind == AssetKind.BUS)
        .order_by(Asset.code)
    ):
        buses[bus.school_id].append(bus)
    return {
        school_id: [(t.value, None) for t in SCHOOL_INSURANCES]
        + [(t.value, bus) for bus in buses[school_id] for t in BUS_INSURANCES]
        for school_id in school_ids
    }


def _insured(session: Session, school_ids: Sequence[int], today: date) -> dict[int, set[Any]]:
    """Per school, the (insurance type, bus id or None) its current valid policies cover."""
    held: dict[int, set[tuple[str, int | None]]] = defaultdict(set)
    for document in session.scalars(
        select(Document).where(
            Document.school_id.in_(school_ids),
            Document.kind == DocumentKind.INSURANCE_POLICY,
            Document.replaced_by_id.is_(None),
        )
    ):
        if document.school_id is not None and document.is_valid_on(today):
            held[document.school_id].add((str(document.insurance_type), document.asset_id))
    return held


def insurance_in_force(
    session: Session, school_ids: Sequence[int], today: date
) -> dict[int, tuple[int, int]]:
    """Per school, (policies in force, policies required), as `missing_insurances` lists the
    gap, read in two queries (a district's score)."""
    held = _insured(session, school_ids, today)
    return {
        school_id: (
            sum((kind, bus.id if bus else None) in held[school_id] for kind, bus in wanted),
            len(wanted),
        )
        for school_id, wanted in required_insurances(session, school_ids).items()
    }


def missing_insurances(
    session: Session, school: School, today: date
) -> list[tuple[str, Asset | None]]:
    """Insurance the school or one of its buses should hold and has no valid policy for."""
    held = _insured(session, [school.id], today)[school.id]
    return [
        (kind, bus)
        for kind, bus in required_insurances(session, [school.id])[school.id]
        if (kind, bus.id if bus else None) not in held
    ]


def document_history(session: Session, document: Document) -> list[Document]:
    """The documents this one replaced, newest first."""
    history: list[Document] = []
    current = document
    while True:
        previous = session.scalar(select(Document).where(Document.replaced_by_id == current.id))
        if previous is None:
            return history
        history.append(previous)
        current = previous
