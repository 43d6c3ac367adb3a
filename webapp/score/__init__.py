"""The school score: the district's ranking, each school's breakdown with the records that lost
points, the scheme's weights and bands (versioned), publishing a period's scores (frozen), and
the yearly export for the awards."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import openpyxl
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime, gettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from openpyxl.styles import Font
from werkzeug.wrappers import Response

from models import published_scores as ps
from models import score as sc
from models.checklists import latest_template
from models.dashboard import SchoolFigures, Span
from models.org import District, School
from models.people import Person, Role, visible_school
from models.periods import (
    PERIOD_KIND_LABELS,
    Period,
    PeriodInvalid,
    PeriodKind,
    parse_period,
    period_of,
)
from models.spreadsheets import keep_typed_text
from webapp import db
from webapp.i18n import current_locale, translate

bp = Blueprint("score", __name__, template_folder="templates")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class PostForm(FlaskForm):
    """Only the CSRF token; the weights are read from request.form."""


# What the scheme's fields take: a whole number of a few digits (a weight, a band, days).
WHOLE_NUMBER = re.compile(r"-?[0-9]{1,9}")


@bp.context_processor
def _helpers() -> dict[str, object]:
    return {
        "template_title": _template_title,
        "indicators": sc.INDICATORS,
        "indicator_names": sc.INDICATOR_NAMES,
        "bands": sc.BANDS,
    }


def _template_title(key: str, district_id: int) -> str:
    template = latest_template(db.session(), key, district_id=district_id)
    return template.spec.title_text(current_locale()) if template is not None else key


def _defaults() -> sc.Scheme:
    """The configuration's [score] section, as the scheme a district starts with."""
    config = current_app.extensions["houqin.settings"].score
    return sc.Scheme(
        {k: getattr(config, f"weight_{k}") for k in sc.INDICATORS},
        {b: getattr(config, f"band_{b.lower()}") for b in sc.BANDS},
        config.drill_every_days,
    )


def _district_or_404(person: Person) -> District:
    """The district a district administrator answers for; 404 for everyone else."""
    ids = [g.district_id for g in person.grants if g.role == Role.DISTRICT_ADMIN]
    district = db.session().get(District, ids[0]) if ids else None
    if district is None:
        abort(404)
    return district


def _scheme(district_id: int) -> sc.Scheme:
    """The version asked for (`?version=`), else the current one."""
    version = request.args.get("version", type=int)
    if version:
        scheme = sc.scheme_version(db.session(), district_id, version)
        if scheme is None:
            abort(404)
        return scheme
    return sc.current_scheme(db.session(), district_id, _defaults())


def _publication(district_id: int, period: Period) -> ps.PublishedScore | None:
    """The period's publication in force, unless the reader asks for the live figures
    (`?live=1`) or for a scheme version of their choosing."""
    if request.args.get("live") or request.args.get("version"):
        return None
    return ps.latest_publication(db.session(), district_id, period)


def _period_and_error(district: District) -> tuple[Period, str]:
    """The period the arguments name as the ledger's do (`period`, `on`, `from`, `to`), else
    the term of today in the district's calendar; the year, while its calendar has no term or
    the arguments name no period, with what was wrong with them for the page to show."""
    now = db.clock().now()
    try:
        return parse_period(
            db.session(), request.args, district=district, now=now, default=PeriodKind.TERM
        ), ""
    except PeriodInvalid as invalid:
        # With no period asked for, a calendar without terms falls back to the year unsaid.
        asked = any(request.args.get(k) for k in ("period", "on", "from", "to"))
        error = translate(invalid.message) if asked else ""
        return period_of(PeriodKind.YEAR, district.local(now).date()), error


def _period(district: District) -> Period:
    return _period_and_error(district)[0]


# The periods a score is read over: those of the ledger, a range of dates aside.
SCORE_PERIOD_KINDS = {k: v for k, v in PERIOD_KIND_LABELS.items() if k != PeriodKind.RANGE}


@bp.get("/score")
@login_required
def show_ranking() -> Response | str:
    """District administrators: every school ranked. A school's administrator: their school."""
    if not current_user.is_district_admin:
        own = [g.school_id for g in current_user.grants if g.role == Role.SCHOOL_ADMIN]
        school = db.session().get(School, own[0]) if own else None
        if school is None:
            abort(404)
        return redirect(url_for("score.show_school", school_code=school.code))
    district = _district_or_404(current_user)
    (period, period_error), scheme = _period_and_error(district), _scheme(district.id)
    session = db.session()
    publication = _publication(district.id, period)
    if publication is not None:
        ranked = ps.published_ranking(session, current_user, publication)
    else:
        ranked = sc.district_ranking(
            session,
            current_user,
            district,
            period,
            scheme,
            db.clock().now(),
            implausible_within=db.implausible_within(),
            photo_older=db.photo_older_than(),
        )
    return render_template(
        "score/ranking.html",
        district=district,
        period=period,
        period_error=period_error,
        period_kinds=SCORE_PERIOD_KINDS,
        scheme=scheme,
        ranked=ranked,
        publication=publication,
        history=ps.publications(session, district.id, period),
        form=PostForm(),
    )


@bp.post("/score/publish")
@login_required
def publish() -> Response:
    """Freeze the period's scores as they stand (the current scheme, or `?version=`)."""
    district = _district_or_404(current_user)
    if not PostForm().validate_on_submit():
        abort(400)
    (period, period_error), scheme = _period_and_error(district), _scheme(district.id)
    back: dict[str, Any] = dict(period.query_args())
    if period_error:
        flash(period_error, "error")
        return redirect(url_for("score.show_ranking", **back))
    if request.form.get("confirm") != "yes":
        # Publishing is final for the period, so it takes a ticked box (required in the page).
        flash(gettext("Tick the box to confirm you publish these scores."), "error")
        return redirect(url_for("score.show_ranking", **back))
    try:
        ps.publish_scores(
            db.begin_writing(),
            current_user,
            district,
            period,
            scheme,
            now=db.clock().now(),
            implausible_within=db.implausible_within(),
            photo_older=db.photo_older_than(),
        )
    except ps.PublishRefused as refused:
        flash(translate(refused.message), "error")
    else:
        flash(gettext("Published: these scores stay as they are now."), "success")
    return redirect(url_for("score.show_ranking", **back))


@bp.get("/score/<school_code>")
@login_required
def show_school(school_code: str) -> str:
    """One school's score, each indicator's value, weight and points lost, and what lost them."""
    session = db.session()
    school = visible_school(session, current_user, school_code)
    if school is None or not current_user.can_manage_school(school):
        abort(404)
    (period, period_error), scheme = _period_and_error(school.district), _scheme(school.district_id)
    now = db.clock().now()
    publication = _publication(school.district_id, period)
    entry = ps.published_school(publication, school.id) if publication is not None else None
    if entry is not None:
        score, figures, place = entry.score, entry.figures, entry.rank
    else:
        publication = None
        score, figures = sc.school_score(
            session,
            school,
            period,
            scheme,
            now,
            implausible_within=db.implausible_within(),
            photo_older=db.photo_older_than(),
        )
        place = None
    return render_template(
        "score/school.html",
        school=school,
        period=period,
        period_error=period_error,
        period_kinds=SCORE_PERIOD_KINDS,
        scheme=scheme,
        score=score,
        figures=figures,
        place=place,
        publication=publication,
        losses=sc.losses(
            session,
            school,
            period,
            now,
            implausible_within=db.implausible_within(),
            photo_older=db.photo_older_than(),
        ),
    )


@bp.route("/score/scheme", methods=["GET", "POST"])
@login_required
def edit_scheme() -> Response | str | tuple[str, int]:
    """The district's weights and bands; saving makes a new version."""
    district = _district_or_404(current_user)
    session = db.session()
    current = sc.current_scheme(session, district.id, _defaults())
    typed: dict[str, str] = {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not PostForm().validate_on_submit():
            abort(400)
        names = [
            *(f"weight_{k}" for k in sc.INDICATORS),
            *(f"band_{b}" for b in sc.BANDS),
            "drill_every_days",
        ]
        typed = {name: request.form.get(name, "") for name in names}
        numbers = {}
        for name, text in typed.items():
            if WHOLE_NUMBER.fullmatch(text.strip()):
                numbers[name] = int(text.strip())
            else:
                errors[name] = gettext("Enter a whole number.")
        if not errors:
            posted = sc.Scheme(
                {k: numbers[f"weight_{k}"] for k in sc.INDICATORS},
                {b: numbers[f"band_{b}"] for b in sc.BANDS},
                numbers["drill_every_days"],
            )
            try:
                row = sc.save_scheme(
                    db.begin_writing(), current_user, district, posted, now=db.clock().now()
                )
            except sc.SchemeRefused as refused:
                errors = {k: translate(m) for k, m in refused.errors.items()}
                if not errors:
                    flash(translate(refused.message), "error")
            else:
                flash(gettext("Saved as version %(n)d.", n=row.version), "success")
                return redirect(url_for("score.edit_scheme"))
    page = render_template(
        "score/scheme.html",
        district=district,
        scheme=current,
        typed=typed,
        errors=errors,
        drill_max=sc.DRILL_EVERY_DAYS_MAX,
        versions=sc.scheme_versions(session, district.id),
        form=PostForm(),
    )
    return (page, 422) if errors else page


@bp.get("/score/<int(min=2000,max=2100):year>.xlsx")
@login_required
def export_year(year: int) -> Response:
    """The year's ranking as Excel, one row per school with each indicator, for the awards."""
    district = _district_or_404(current_user)
    session = db.session()
    scheme = _scheme(district.id)
    period = period_of(PeriodKind.YEAR, date(year, 1, 1))
    publication = _publication(district.id, period)
    if publication is not None:
        ranked = ps.published_ranking(session, current_user, publication)
        version = publication.scheme_version
        status = gettext(
            "Published on %(time)s by %(name)s",
            time=format_datetime(publication.published_at, "yyyy-MM-dd HH:mm"),
            name=publication.published_by.display_name,
        )
    else:
        ranked = sc.district_ranking(
            session,
            current_user,
            district,
            period,
            scheme,
            db.clock().now(),
            implausible_within=db.implausible_within(),
            photo_older=db.photo_older_than(),
        )
        version = scheme.version
        status = gettext("Live, not published")
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = str(year)
    headers = [gettext("Rank"), gettext("School code"), gettext("School"), gettext("Score")]
    headers += [gettext("Grade")] + [gettext(sc.INDICATOR_NAMES[k]) for k in sc.INDICATORS]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    no_data = gettext("No data")
    for r in ranked:
        row: list[object] = [r.rank or no_data, r.school.code, r.school.name]
        row += [r.score.total if r.score.has_data else no_data, r.score.band or ""]
        row += [line.points if line.measured else no_data for line in r.score.lines]
        sheet.append(row)
    sheet.append([])
    sheet.append([gettext("Scheme version"), version or gettext("Defaults")])
    sheet.append([gettext("Scores"), status])
    sheet.freeze_panes = "A2"
    sheet.column_dimensions["C"].width = 24
    data = io.BytesIO()
    keep_typed_text(book).save(data)
    return Response(
        data.getvalue(),
        mimetype=XLSX_MIMETYPE,
        headers={"Content-Disposition": f"attachment; filename=houqin-score-{year}.xlsx"},
    )


@dataclass(frozen=True)
class ScoresBeside:
    """The scores the dashboard shows beside its figures: the published ones when the score's
    period of today (the term, else the year) was published, else the live score over the
    dashboard's own days; `period` is the one the numbers link to."""

    by_school: dict[int, sc.Score]
    period: Period
    publication: ps.PublishedScore | None


def dashboard_scheme(district: District) -> sc.Scheme:
    """The district's current scheme: the dashboard counts drills by its interval too."""
    return sc.current_scheme(db.session(), district.id, _defaults())


def scores_beside(board: list[SchoolFigures], span: Span, scheme: sc.Scheme) -> ScoresBeside:
    """For the dashboard door: each of its schools' score, published or live."""
    days = Period(PeriodKind.RANGE, span.first, span.last)
    session = db.session()
    district = board[0].school.district
    term = _period(district)
    publication = ps.latest_publication(session, district.id, term)
    if publication is not None:
        wanted = {f.school.id for f in board}
        published = ps.published_ranking(session, current_user, publication)
        scores = {r.school.id: r.score for r in published if r.school.id in wanted}
        return ScoresBeside(scores, term, publication)
    scores = sc.dashboard_scores(session, board, days, scheme, db.clock().now())
    return ScoresBeside(scores, days, None)
