"""The canteen's statutory food-safety reports: the month's list, a day's record, a week's
report and a month's minutes, each with its print page and PDF (printing.py), and the form
its signer (the food-safety officer the week, the school's head the month) signs it with."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import TextAreaField

from models.food_safety import (
    CHECK_LABELS,
    DAY_TITLE,
    KIND_TITLES,
    PROBLEM_LABELS,
    RULE,
    STATUS_LABELS,
    VERDICT_LABELS,
    ReportKind,
    ReportRefused,
    build_report,
    can_sign,
    daily_report,
    deadline,
    period_begun,
    period_of,
    report_row,
    report_status,
    reports_of_month,
    save_notes,
    sign_report,
    who_signs,
)
from models.org import School
from models.people import visible_school
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
        "day_title": DAY_TITLE,
    }


@bp.get("/reports/<school_code>/food-safety")
@login_required
def list_reports(school_code: str) -> str:
    school = _school(school_code)
    now = db.clock().now()
    today = school.district.local(now).date()
    month = period_of(
        ReportKind.MONTHLY,
        _day(request.args["month"] + "-01") if "month" in request.args else today,
    )[0]
    first, last = period_of(ReportKind.MONTHLY, month)
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


def _period(school: School, kind: str, starts_on: str) -> tuple[ReportKind, date]:
    """The report's kind and first day; 404 for anything else."""
    if kind not in ReportKind.__members__.values():
        abort(404)
    report_kind = ReportKind(kind)
    first = period_of(report_kind, _day(starts_on))[0]
    if first.isoformat() != starts_on:
        abort(404)
    return report_kind, first


@bp.get("/reports/<school_code>/food-safety/<kind>/<starts_on>/print")
@login_required
def print_report(school_code: str, kind: str, starts_on: str) -> str:
    school = _school(school_code)
    report_kind, first = _period(school, kind, starts_on)
    now = db.clock().now()
    return printing.report_page(db.session(), school, report_kind, first, now=now, labels=_labels())


@bp.get("/reports/<school_code>/food-safety/<kind>/<starts_on>/pdf")
@login_required
def pdf_report(school_code: str, kind: str, starts_on: str) -> Response:
    school = _school(school_code)
    report_kind, first = _period(school, kind, starts_on)
    now = db.clock().now()
    return printing.report_pdf(db.session(), school, report_kind, first, now=now, **_labels())


@bp.route("/reports/<school_code>/food-safety/<kind>/<starts_on>", methods=["GET", "POST"])
@login_required
def show_report(school_code: str, kind: str, starts_on: str) -> str | Response | tuple[str, int]:
    school = _school(school_code)
    if kind not in ReportKind.__members__.values():
        abort(404)
    report_kind = ReportKind(kind)
    first = period_of(report_kind, _day(starts_on))[0]
    if first.isoformat() != starts_on:
        return redirect(
            url_for(
                "reports.show_report",
                school_code=school.code,
                kind=kind,
                starts_on=first.isoformat(),
            )
        )
    session = db.session()
    now = db.clock().now()
    row = report_row(session, school, report_kind, first)
    form = NotesForm(data={"notes": row.notes if row else ""})
    error = None
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        notes = form.notes.data or ""
        try:
            if request.form.get("do") == "sign":
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
        "reports/report.html",
        school=school,
        kind=report_kind,
        report=report,
        row=row,
        form=form,
        error=error,
        status=report_status(school, report_kind, first, row, now=now),
        deadline=deadline(school, report_kind, first),
        may_sign=can_sign(session, current_user, school, report_kind),
        signed_by_whom=translate(who_signs(session, school, report_kind)),
        begun=period_begun(school, report_kind, first, now=now),
        locale=current_locale(),
        **_labels(),
    )
    return (page, 422) if error else page
