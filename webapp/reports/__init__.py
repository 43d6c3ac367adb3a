"""The statutory reports: the month's list of every family's, the canteen's day record, week's
report and month's minutes, the monthly fire check record, the quarterly drinking-water report,
each with its print page and PDF (printing.py), the form its signer (the food-safety officer the
week, the school's head the others) signs it with, and the district's view of who signed."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request
from flask_babel import gettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import TextAreaField

from models.food_safety import (
    CHECK_LABELS,
    DAY_TITLE,
    DRILL,
    FAMILIES,
    FIRE,
    FOOD,
    KIND_TITLES,
    KINDS,
    PATROL,
    PROBLEM_LABELS,
    RULE,
    STATUS_LABELS,
    VERDICT_LABELS,
    WATER,
    ReportKind,
    ReportRefused,
    build_report,
    can_sign,
    daily_report,
    deadline,
    kind_at,
    period_begun,
    period_of,
    report_path,
    report_row,
    report_status,
    reports_of_month,
    save_notes,
    sign_report,
    who_signs,
)
from models.org import School
from models.people import visible_school
from models.report_statuses import report_statuses
from webapp import db
from webapp.i18n import current_locale, translate
from webapp.reports import printing

bp = Blueprint("reports", __name__, template_folder="templates")


class NotesForm(FlaskForm):
    notes = TextAreaField()


def _school(school_code: str) -> School:
    school = visible_school(db.session(), current_user, school_code)
    if school is None:
        abort(404)
    return school


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        abort(404)


def _labels() -> dict[str, object]:
    return {
        "rule": gettext(RULE),
        "verdicts": VERDICT_LABELS,
        "checks_labels": CHECK_LABELS,
        "problem_labels": PROBLEM_LABELS,
        "statuses": STATUS_LABELS,
        "kinds": KIND_TITLES,
        "kind_specs": KINDS,
        "families": FAMILIES,
        "day_title": DAY_TITLE,
        "patrol": PATROL,
        "drill": DRILL,
    }


def _month(today: date) -> date:
    """The month the query's `month` (YYYY-MM) names, else today's."""
    chosen = _day(request.args["month"] + "-01") if "month" in request.args else today
    return period_of(ReportKind.MONTHLY, chosen)[0]


@bp.get("/reports/<school_code>/food-safety")
@login_required
def list_reports(school_code: str) -> str:
    school = _school(school_code)
    now = db.clock().now()
    today = school.district.local(now).date()
    first, last = period_of(ReportKind.MONTHLY, _month(today))
    days = [first + timedelta(days=n) for n in range((min(last, today) - first).days + 1)]
    return render_template(
        "reports/list.html",
        school=school,
        month=first,
        earlier=period_of(ReportKind.MONTHLY, first - timedelta(days=1))[0],
        later=last + timedelta(days=1) if last < today else None,
        listed=reports_of_month(db.session(), school, first, now=now),
        days=days,
        **_labels(),
    )


@bp.get("/reports/<school_code>/food-safety/day/<day>")
@login_required
def show_day(school_code: str, day: str) -> str:
    school = _school(school_code)
    report = daily_report(db.session(), school, _day(day), now=db.clock().now())
    return render_template("reports/day.html", school=school, report=report, **_labels())


@bp.get("/reports/<school_code>/food-safety/day/<day>/print")
@login_required
def print_day(school_code: str, day: str) -> str:
    school = _school(school_code)
    now = db.clock().now()
    return printing.day_page(db.session(), school, _day(day), now=now, labels=_labels())


@bp.get("/reports/<school_code>/food-safety/day/<day>/pdf")
@login_required
def pdf_day(school_code: str, day: str) -> Response:
    school = _school(school_code)
    return printing.day_pdf(db.session(), school, _day(day), now=db.clock().now(), **_labels())


def _food_kind(kind: str) -> ReportKind:
    report_kind = kind_at(FOOD.key, kind)
    if report_kind is None:
        abort(404)
    return report_kind


def _period(report_kind: ReportKind, starts_on: str) -> tuple[ReportKind, date]:
    """The report's kind and first day; 404 for a day that does not start its period."""
    first = period_of(report_kind, _day(starts_on))[0]
    if first.isoformat() != starts_on:
        abort(404)
    return report_kind, first


@bp.get("/reports/<school_code>/food-safety/<kind>/<starts_on>/print")
@login_required
def print_report(school_code: str, kind: str, starts_on: str) -> str:
    school = _school(school_code)
    report_kind, first = _period(_food_kind(kind), starts_on)
    now = db.clock().now()
    return printing.report_page(db.session(), school, report_kind, first, now=now, labels=_labels())


@bp.get("/reports/<school_code>/food-safety/<kind>/<starts_on>/pdf")
@login_required
def pdf_report(school_code: str, kind: str, starts_on: str) -> Response:
    school = _school(school_code)
    report_kind, first = _period(_food_kind(kind), starts_on)
    now = db.clock().now()
    return printing.report_pdf(db.session(), school, report_kind, first, now=now, **_labels())


@bp.route("/reports/<school_code>/food-safety/<kind>/<starts_on>", methods=["GET", "POST"])
@login_required
def show_report(school_code: str, kind: str, starts_on: str) -> str | Response | tuple[str, int]:
    school = _school(school_code)
    return _report_page(school, _food_kind(kind), starts_on, "reports/report.html")


# The fire record's and the water report's pages; the canteen's keep theirs above.
PAGES = {FIRE.key: "reports/fire.html", WATER.key: "reports/water.html"}


@bp.route("/reports/<school_code>/<family>/<period>/<starts_on>", methods=["GET", "POST"])
@login_required
def show_family_report(
    school_code: str, family: str, period: str, starts_on: str
) -> str | Response | tuple[str, int]:
    school = _school(school_code)
    return _report_page(school, _family_kind(family, period), starts_on, PAGES[family])


def _family_kind(family: str, period: str) -> ReportKind:
    report_kind = kind_at(family, period)
    if report_kind is None or family not in PAGES:
        abort(404)
    return report_kind


@bp.get("/reports/<school_code>/<family>/<period>/<starts_on>/print")
@login_required
def print_family_report(school_code: str, family: str, period: str, starts_on: str) -> str:
    school = _school(school_code)
    report_kind, first = _period(_family_kind(family, period), starts_on)
    now = db.clock().now()
    return printing.report_page(db.session(), school, report_kind, first, now=now, labels=_labels())


@bp.get("/reports/<school_code>/<family>/<period>/<starts_on>/pdf")
@login_required
def pdf_family_report(school_code: str, family: str, period: str, starts_on: str) -> Response:
    school = _school(school_code)
    report_kind, first = _period(_family_kind(family, period), starts_on)
    now = db.clock().now()
    return printing.report_pdf(db.session(), school, report_kind, first, now=now, **_labels())


def _report_page(
    school: School, report_kind: ReportKind, starts_on: str, template: str
) -> str | Response | tuple[str, int]:
    """A report read, its notes saved and signed: one page for every family."""
    first = period_of(report_kind, _day(starts_on))[0]
    if first.isoformat() != starts_on:
        return redirect(report_path(school, report_kind, first))
    session = db.session()
    now = db.clock().now()
    row = report_row(session, school, report_kind, first)
    form = NotesForm(data={"notes": row.notes if row else ""})
    error = confirm_error = None
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        notes = form.notes.data or ""
        signing = request.form.get("do") == "sign"
        if signing and request.form.get("confirm") != "yes":
            # Signing is final, so it takes a ticked box too, which works without scripts.
            confirm_error = gettext("Tick the box to confirm you sign this report.")
        else:
            try:
                if signing:
                    sign_report(session, current_user, school, report_kind, first, notes, now=now)
                    flash(gettext("Signed. The report can no longer change."), "success")
                else:
                    save_notes(session, current_user, school, report_kind, first, notes, now=now)
                    flash(gettext("Saved."), "success")
                return redirect(request.path)
            except ReportRefused as refused:
                error = translate(refused.message)
    content = row.content if row is not None and row.content is not None else None
    report = content or build_report(session, school, report_kind, first, now=now)
    page = render_template(
        template,
        school=school,
        kind=report_kind,
        spec=KINDS[report_kind],
        report=report,
        row=row,
        form=form,
        error=error,
        confirm_error=confirm_error,
        status=report_status(school, report_kind, first, row, now=now),
        deadline=deadline(school, report_kind, first),
        may_sign=can_sign(session, current_user, school, report_kind),
        signed_by_whom=translate(who_signs(session, school, report_kind)),
        begun=period_begun(school, report_kind, first, now=now),
        locale=current_locale(),
        **_labels(),
    )
    return (page, 422) if error or confirm_error else page


@bp.get("/reports/status")
@login_required
def show_statuses() -> str:
    """The month's reports of every school the reader may see, each signed, due or not owed."""
    session = db.session()
    now = db.clock().now()
    district = current_user.home_district
    today = (district.local(now) if district is not None else now).date()
    month = _month(today)
    table = report_statuses(session, current_user, month, now=now)
    return render_template(
        "reports/statuses.html",
        table=table,
        month=month,
        earlier=period_of(ReportKind.MONTHLY, month - timedelta(days=1))[0],
        later=period_of(ReportKind.MONTHLY, month + timedelta(days=31))[0],
        locale=current_locale(),
        **_labels(),
    )
