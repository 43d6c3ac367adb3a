"""Drinking water (point 20): the supplier's water test report, once filed, is a document in the
school's register that expires on the report's own date, so the register and the sweep's
reminders (30, 7 and 1 days before, and on the day) ask for the next one in time."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.catalogue import translate
from models.documents import Document, DocumentKind
from models.messages import N_

if TYPE_CHECKING:
    from models.records import Record

WATER_TEST = "water_quarterly_report"
REPORT_PHOTO = "report_photo"
TITLE = N_("Drinking-water test report (%(supplier)s)")


def current_water_test_report(session: Session, school_id: int) -> Document | None:
    """The school's test report now in force: a school-wide test report held by nobody."""
    return session.scalar(
        select(Document).where(
            Document.school_id == school_id,
            Document.kind == DocumentKind.TEST_REPORT,
            Document.person_id.is_(None),
            Document.supplier_id.is_(None),
            Document.asset_id.is_(None),
            Document.replaced_by_id.is_(None),
        )
    )


def register_water_test_report(session: Session, record: Record, *, now: datetime) -> None:
    """A filed water test report renews the school's one in the register (nothing for others,
    nor for a report that says no valid-until date)."""
    if record.template.key != WATER_TEST:
        return
    try:
        expires_on = date.fromisoformat(str(record.answers.get("valid_until") or ""))
    except ValueError:
        return
    issued = str(record.answers.get("report_date") or "")
    photo = next((p.photo for p in record.photos if p.item_key == REPORT_PHOTO), None)
    district = record.asset.school.district
    document = Document(
        district_id=district.id,
        school_id=record.school_id,
        kind=DocumentKind.TEST_REPORT,
        title=translate(district.locale, TITLE, supplier=str(record.answers.get("supplier", "")))[
            :200
        ],
        issued_on=date.fromisoformat(issued) if issued else None,
        expires_on=expires_on,
        photo=photo,
        created_at=now,
        created_by_id=record.submitted_by_id,
    )
    old = current_water_test_report(session, record.school_id)
    session.add(document)
    session.flush()
    if old is not None:
        old.replaced_by = document
        session.flush()
