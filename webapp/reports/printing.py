"""The statutory reports on paper: an A4 print page for each daily record, weekly report,
monthly minutes, monthly fire check record and quarterly water report, and the same page as PDF
(webapp.downloads, as the ledgers do).

A signed report prints what was signed (its frozen content) with its signer and time on the
signer's line; an unsigned one prints the live draft, marked 草稿. A day's record is a draft
until the day is over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import render_template
from flask_babel import format_datetime, gettext
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from models.catalogue import date_range
from models.checklists import (
    Checklist,
    checklist_bases,
    latest_template,
    templates_for_kind,
)
from models.food_safety import (
    DAY_TITLE,
    FOOD,
    KIND_TITLES,
    KINDS,
    Family,
    FoodSafetyReport,
    ReportKind,
    build_report,
    daily_report,
    period_of,
    report_row,
    report_status,
)
from models.messages import N_
from models.org import School
from webapp.downloads import pdf_download
from webapp.i18n import current_locale

FILLED_IN_BY = N_("Filled in by")
OFFICER = N_("Food-safety officer")
PRINCIPAL = N_("Principal")
FIRE_MANAGER = N_("Fire safety manager")
# Who puts their name under each paper, the signer last: the officer signs the week, the
# head (校长) the month; a day's record is filled in and checked by the officer.
SIGNATURE_LINES = {
    "day": (FILLED_IN_BY, OFFICER),
    ReportKind.WEEKLY: (FILLED_IN_BY, OFFICER),
    ReportKind.MONTHLY: (FILLED_IN_BY, OFFICER, PRINCIPAL),
    ReportKind.FIRE: (FILLED_IN_BY, FIRE_MANAGER, PRINCIPAL),
    ReportKind.WATER: (FILLED_IN_BY, PRINCIPAL),
}
# The lines of the reports that are not the canteen's, on their page and on paper alike.
BODIES = {
    ReportKind.FIRE: "reports/_fire_body.html",
    ReportKind.WATER: "reports/_water_body.html",
}


@dataclass
class SignatureLine:
    label: str
    signed: str = ""  # "name · time" on the signer's line once signed


def _signature_lines(kind: str, row: FoodSafetyReport | None) -> list[SignatureLine]:
    lines = [SignatureLine(label) for label in SIGNATURE_LINES[kind]]
    if row is not None and row.signed_at is not None and row.signed_by is not None:
        when = format_datetime(row.signed_at, "yyyy-MM-dd HH:mm")
        lines[-1].signed = f"{row.signed_by.display_name} · {when}"
    return lines


def _bases(session: Session, school: School, family: Family) -> list[tuple[str, str]]:
    """Each checklist the report reads as the school's district has it, with the rule it
    serves (those that name one)."""
    district_id = school.district_id
    templates: list[Checklist] = []
    if family.checklists:
        found = (
            latest_template(session, key, district_id=district_id) for key in family.checklists
        )
        templates = [t for t in found if t is not None]
    else:
        templates = [
            t for kind in family.asset_kinds for t in templates_for_kind(session, district_id, kind)
        ]
    return checklist_bases(templates, current_locale())


def day_page(
    session: Session, school: School, day: date, *, now: datetime, labels: dict[str, Any]
) -> str:
    """The day's 每日食品安全检查记录 as it will print."""
    report = daily_report(session, school, day, now=now)
    return render_template(
        "reports/print.html",
        school=school,
        title=gettext(DAY_TITLE),
        period=day.isoformat(),
        day=report,
        status=None,
        draft=day >= school.district.local(now).date(),
        signature_lines=_signature_lines("day", None),
        bases=_bases(session, school, FOOD),
        printed_at=now,
        **labels,
    )


def report_page(
    session: Session,
    school: School,
    kind: ReportKind,
    first: date,
    *,
    now: datetime,
    labels: dict[str, Any],
) -> str:
    """The report as it will print: frozen once signed."""
    row = report_row(session, school, kind, first)
    content = row.content if row is not None else None
    report = content or build_report(session, school, kind, first, now=now)
    last = period_of(kind, first)[1]
    # The rule the report serves: the canteen's is the labels' own.
    labels = labels | ({"rule": gettext(KINDS[kind].family.rule)} if kind in BODIES else {})
    return render_template(
        "reports/print.html",
        school=school,
        title=gettext(KIND_TITLES[kind]),
        period=date_range(first.isoformat(), last.isoformat(), current_locale()),
        kind=kind,
        body=BODIES.get(kind),
        report=report,
        notes=row.notes if row is not None else "",
        status=report_status(school, kind, first, row, now=now),
        draft=content is None,
        signature_lines=_signature_lines(kind, row),
        bases=_bases(session, school, KINDS[kind].family),
        printed_at=now,
        **labels,
    )


def day_pdf(
    session: Session, school: School, day: date, *, now: datetime, **labels: Any
) -> Response:
    html = day_page(session, school, day, now=now, labels=labels)
    return pdf_download(html, f"{school.name}-{gettext(DAY_TITLE)}-{day.isoformat()}.pdf")


def report_pdf(
    session: Session, school: School, kind: ReportKind, first: date, *, now: datetime, **labels: Any
) -> Response:
    html = report_page(session, school, kind, first, now=now, labels=labels)
    name = f"{school.name}-{gettext(KIND_TITLES[kind])}-{first.isoformat()}.pdf"
    return pdf_download(html, name)
