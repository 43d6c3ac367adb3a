"""The dashboard: a district's schools side by side, one school's figures, and the unreported
list (未上报) — every number a link to the records or tasks behind it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import format_datetime, gettext
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from models import dashboard as dash
from models import duties as dt
from models.catalogue import pick_text
from models.checklists import latest_template
from models.energy import MonthlyUse, energy_use, months_up_to
from models.milk import last_months, rate_history
from models.org import School
from webapp import db
from webapp.dashboard.charts import comparison_chart, energy_chart, trend_chart
from webapp.i18n import current_locale, kind_label
from webapp.schedules import describe_rule
from webapp.score import dashboard_scheme, scores_beside

bp = Blueprint("dashboard", __name__, template_folder="templates")


def _schools() -> list[School]:
    """The schools the reader administers; anyone else is shown nothing (404)."""
    schools = dash.dashboard_schools(db.session(), current_user)
    if not schools:
        abort(404)
    return schools


def _days() -> int:
    days = request.args.get("days", dash.PERIOD_DAYS[0], type=int)
    return days if days in dash.PERIOD_DAYS else dash.PERIOD_DAYS[0]


def _today(schools: list[School]) -> date:
    return schools[0].district.local(db.clock().now()).date()


def _age_label(band: int) -> str:
    """How long an open action has been open: "0–3 days" … "over 30 days"."""
    edges = (0, *(d + 1 for d in dash.AGE_BANDS))
    if band < len(dash.AGE_BANDS):
        return gettext("%(low)d–%(high)d days", low=edges[band], high=dash.AGE_BANDS[band])
    return gettext("Over %(days)d days", days=dash.AGE_BANDS[-1])


def _duty_titles(rows: list[dash.Unreported]) -> Callable[[dash.Unreported], str]:
    """Each duty's title as its school's district has it, looked up once per duty rather than
    once per line of the list."""
    titles = {}
    for key, district_id in {(r.template_key, r.school.district_id) for r in rows}:
        template = latest_template(db.session(), key, district_id=district_id)
        title = template.spec.title_text(current_locale()) if template is not None else key
        titles[(key, district_id)] = title
    return lambda row: titles[(row.template_key, row.school.district_id)]


@dataclass(frozen=True)
class BelowMinimumLine:
    """One schedule saved below its checklist's statutory minimum, as the card lists it."""

    where: str
    checklist: str
    schedule: str
    minimum: str
    confirmed: str
    url: str


def _below_minimum(schools: list[School], school: School | None = None) -> list[BelowMinimumLine]:
    """The schedules below the statutory minimum at these schools, each linked to its page."""
    session, locale = db.session(), current_locale()
    codes = {s.id: s.code for s in schools}
    lines = []
    for duty in dt.schedules_below_minimum(session, current_user, school=school):
        template = latest_template(session, duty.template_key, district_id=duty.district_id)
        if template is None:
            continue
        if duty.asset is not None:
            where = f"{duty.asset.code} {duty.asset.name}"
        else:
            kind = kind_label(duty.asset_kind)
            place = duty.school.name if duty.school is not None else gettext("every school")
            where = f"{kind} · {place}"
        who = duty.below_minimum_confirmed_by
        when = format_datetime(duty.below_minimum_confirmed_at, "yyyy-MM-dd HH:mm")
        code = codes.get(duty.school_id or 0) or (school.code if school else schools[0].code)
        lines.append(
            BelowMinimumLine(
                where=where,
                checklist=template.spec.title_text(locale),
                schedule=describe_rule(duty.recurrence),
                minimum=pick_text(dt.minimum_text(template.spec), locale),
                confirmed=f"{who.display_name if who else '—'} · {when}",
                url=url_for("schedules.edit_duty", school_code=code, duty_id=duty.id),
            )
        )
    return lines


# Months of milk rates and energy use shown: the chart's bars stay readable on a phone.
MONTHS_SHOWN = 6


def _milk_and_energy(schools: list[School], today: date, whole: bool) -> dict[str, object]:
    """The milk subscription rate by month (per class on a school's page, per school on the
    district's) and energy use by month beside last year's (per meter, per school)."""
    session = db.session()
    ids = [s.id for s in schools]
    milk = rate_history(session, ids, last_months(today, MONTHS_SHOWN))
    if whole:
        names = {s.id: s.name for s in schools}
        milk_rows = [(names[i], by) for i, by in milk.schools.items()]
        milk_rows.append((gettext("All schools"), milk.district))
    else:
        milk_rows = [(name, by) for (_, name), by in milk.classes.items()]
        if milk.schools:
            milk_rows.append((gettext("Whole school"), milk.schools[schools[0].id]))
    # Months up to the last whole one: this month's readings are not all in yet.
    months = months_up_to(today.replace(day=1) - timedelta(days=1), MONTHS_SHOWN)
    use = energy_use(session, ids, months)
    locale = current_locale()
    totals = []
    for kind in ("electricity", "water"):
        by_school = {sid: u for (sid, k), u in use.schools.items() if k == kind}
        if not by_school:
            continue
        names = {s.id: s.name for s in schools}
        rows = [(names[sid], u) for sid, u in by_school.items()] if whole else []
        together = _added_up(list(by_school.values()), kind)
        unit = together.unit.get(locale, "")
        totals.append((kind, unit, rows, together, energy_chart(together, months, unit)))
    meters = [] if whole else [(m, u, u.unit.get(locale, "")) for m, u in use.meters]
    return {
        "milk_months": milk.months,
        "milk_rows": milk_rows if any(by for _, by in milk_rows) else [],
        "energy_months": months,
        "energy_totals": totals,
        "energy_meters": meters,
    }


def _added_up(uses: list[MonthlyUse], kind: str) -> MonthlyUse:
    """Several schools' (or meters') use of one kind added up, month by month."""
    months: dict[date, float] = {}
    for use in uses:
        for month, value in use.by_month.items():
            months[month] = months.get(month, 0.0) + value
    return MonthlyUse(kind, months)


@bp.get("/dashboard")
@login_required
def show_district() -> str | Response:
    schools = _schools()
    days = _days()
    if len(schools) == 1:
        return redirect(url_for(".show_school", school_code=schools[0].code, days=days))
    now = db.clock().now()
    span = dash.Span.last_days(_today(schools), days)
    scheme = dashboard_scheme(schools[0].district)
    board = dash.school_dashboard(
        db.session(),
        schools,
        span,
        now=now,
        drill_every_days=scheme.drill_every_days,
        implausible_within=db.implausible_within(),
        photo_older=db.photo_older_than(),
    )
    scores = scores_beside(board.schools, span, scheme)
    return render_template(
        "dashboard/district.html",
        scores=scores,
        figures=board.schools,
        total=dash.total(board.schools),
        span=span,
        days=days,
        choices=dash.PERIOD_DAYS,
        trend=trend_chart(board.weeks),
        comparison=comparison_chart(board.schools),
        below_minimum=_below_minimum(schools),
    )


@bp.get("/dashboard/milk-and-energy")
@login_required
def show_milk_and_energy() -> str:
    """The district's milk subscription rate and energy use by month, school by school: a page
    of its own, since it reads every reading and count of two years."""
    schools = _schools()
    return render_template(
        "dashboard/milk_and_energy.html", **_milk_and_energy(schools, _today(schools), whole=True)
    )


@bp.get("/dashboard/schools/<school_code>")
@login_required
def show_school(school_code: str) -> str:
    school = next((s for s in _schools() if s.code == school_code), None)
    if school is None:
        abort(404)
    days = _days()
    now = db.clock().now()
    span = dash.Span.last_days(_today([school]), days)
    scheme = dashboard_scheme(school.district)
    board = dash.school_dashboard(
        db.session(),
        [school],
        span,
        now=now,
        drill_every_days=scheme.drill_every_days,
        implausible_within=db.implausible_within(),
        photo_older=db.photo_older_than(),
    )
    scores = scores_beside(board.schools, span, scheme)
    rows = dash.unreported(db.session(), [school], span, now=now, limit=10)
    return render_template(
        "dashboard/school.html",
        scores=scores,
        school=school,
        f=board.schools[0],
        span=span,
        days=days,
        choices=dash.PERIOD_DAYS,
        bands=range(len(dash.AGE_BANDS) + 1),
        severities=dash.SEVERITY_ORDER,
        age_label=_age_label,
        trend=trend_chart(board.weeks),
        unreported=rows,
        duty_title=_duty_titles(rows),
        below_minimum=_below_minimum([school], school),
        **_milk_and_energy([school], span.last, whole=False),
    )


@bp.get("/dashboard/unreported")
@login_required
def show_unreported() -> str:
    schools = _schools()
    code = request.args.get("school")
    if code:
        schools = [s for s in schools if s.code == code]
        if not schools:
            abort(404)
    days = _days()
    span = dash.Span.last_days(_today(schools), days)
    rows = dash.unreported(db.session(), schools, span, now=db.clock().now())
    return render_template(
        "dashboard/unreported.html",
        rows=rows,
        school=schools[0] if code else None,
        span=span,
        days=days,
        choices=dash.PERIOD_DAYS,
        limit=dash.UNREPORTED_LIMIT,
        duty_title=_duty_titles(rows),
    )
