"""Tasks to do, the schedules that make them, and the district's school calendar."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from models import duties as dt
from models.checklists import latest_template
from models.messages import SubmissionInvalid
from models.org import School
from models.people import visible_school, visible_schools
from models.recurrence import FREQUENCY_LABELS, Frequency, Rule
from webapp import db
from webapp.i18n import translate
from webapp.paging import requested_page

bp = Blueprint("schedules", __name__, template_folder="templates")
MAX_ID = 2**31 - 1
WEEKDAYS = [
    (0, _l("Mon")),
    (1, _l("Tue")),
    (2, _l("Wed")),
    (3, _l("Thu")),
    (4, _l("Fri")),
    (5, _l("Sat")),
    (6, _l("Sun")),
]
# Form field → the domain's name for it, so a message lands next to the right field.
FIELD_NAMES = {
    "remind_before": "remind_before_minutes",
    "escalate_school_after": "escalate_school_hours",
    "escalate_district_after": "escalate_district_hours",
}


class PostForm(FlaskForm):
    """Only the CSRF token; the fields are read from request.form."""


@bp.context_processor
def _helpers() -> dict[str, object]:
    return {
        "frequency_label": lambda f: gettext(FREQUENCY_LABELS[Frequency(f)]),
        "task_status_label": lambda s: gettext(dt.STATUS_LABELS[dt.TaskStatus(s)]),
        "calendar_kind_label": lambda k: gettext(dt.CALENDAR_KIND_LABELS[dt.CalendarKind(k)]),
        "template_title": _template_title,
        "weekday_names": WEEKDAYS,
    }


def _template_title(key: str) -> str:
    from webapp.i18n import current_locale

    template = latest_template(db.session(), key)
    return template.spec.title_text(current_locale()) if template is not None else key


def _school_or_404(school_code: str) -> School:
    school = visible_school(db.session(), current_user, school_code)
    if school is None:
        abort(404)
    return school


# --- tasks ----------------------------------------------------------------------------------


@bp.get("/tasks")
@login_required
def list_tasks() -> str:
    session = db.session()
    now = db.clock().now()
    schools = visible_schools(session, current_user)
    code = request.args.get("school")
    school = next((s for s in schools if s.code == code), None) if code else None
    if code and school is None:
        abort(404)
    # Administrators choose their own tasks (the first tab) or all at their schools.
    manages = dt.sees_all_tasks(session, current_user)
    mine = request.args.get("all") != "1" if manages else True
    tasks = dt.task_page(
        session, current_user, now=now, school=school, mine=mine, page=requested_page()
    )
    return render_template(
        "schedules/tasks.html",
        tasks=tasks,
        now=now,
        schools=schools,
        school=school,
        mine=mine,
        manages=manages,
    )


# --- schedules ------------------------------------------------------------------------------


@bp.get("/schedules/<school_code>")
@login_required
def list_schedules(school_code: str) -> str:
    school = _school_or_404(school_code)
    duties = dt.visible_duties(db.session(), current_user, school)
    return render_template(
        "schedules/schedules.html",
        school=school,
        duties=duties,
        can_edit=lambda duty: dt.can_edit_duty(current_user, duty),
        can_override=current_user.can_manage_school(school),
        overridden={d.template_key for d in duties if d.school_id is not None and d.active},
    )


def _duty_or_404(school: School, duty_id: int) -> dt.Duty:
    duty = dt.visible_duty(db.session(), current_user, duty_id)
    if duty is None or duty.district_id != school.district_id:
        abort(404)
    if duty.school_id is not None and duty.school_id != school.id:
        abort(404)
    return duty


def _int(name: str, default: int, errors: dict[str, str]) -> int:
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        errors[name] = gettext("Enter a whole number.")
        return default


def _fields_from_form(errors: dict[str, str]) -> dt.DutyFields:
    frequency_raw = request.form.get("frequency", "")
    try:
        frequency = Frequency(frequency_raw)
    except ValueError:
        errors["frequency"] = gettext("Choose how often.")
        frequency = Frequency.MONTHLY
    try:
        at = time.fromisoformat((request.form.get("at") or "").strip())
    except ValueError:
        errors["at"] = gettext("Enter a time like 08:30.")
        at = time(17, 0)
    weekdays = tuple(int(v) for v in request.form.getlist("weekdays") if v.isdigit())
    rule = Rule(
        frequency=frequency,
        at=at,
        weekdays=weekdays,
        day=_int("day", 1, errors),
        month=_int("month", 1, errors),
        every_days=_int("every_days", 7, errors),
        school_days_only=request.form.get("school_days_only") == "1",
        winter_every_days=_int("winter_every_days", 0, errors),
    )
    return dt.DutyFields(
        rule=rule,
        remind_before=_int("remind_before_minutes", 60, errors),
        escalate_school_after=_int("escalate_school_hours", 24, errors) * 60,
        escalate_district_after=_int("escalate_district_hours", 72, errors) * 60,
        active=request.form.get("active", "1") == "1",
    )


def _form_values(duty: dt.Duty) -> dict[str, Any]:
    rule = duty.recurrence
    return {
        "frequency": rule.frequency.value,
        "at": rule.at.strftime("%H:%M"),
        "weekdays": [str(d) for d in rule.weekdays],
        "day": rule.day,
        "month": rule.month,
        "every_days": rule.every_days,
        "school_days_only": rule.school_days_only,
        "winter_every_days": rule.winter_every_days,
        "remind_before_minutes": duty.remind_before,
        "escalate_school_hours": duty.escalate_school_after // 60,
        "escalate_district_hours": duty.escalate_district_after // 60,
        "active": duty.active,
    }


def _posted_values() -> dict[str, Any]:
    values: dict[str, Any] = {key: request.form.get(key, "") for key in request.form}
    values["weekdays"] = request.form.getlist("weekdays")
    values["school_days_only"] = request.form.get("school_days_only") == "1"
    values["active"] = request.form.get("active", "1") == "1"
    return values


def _duty_page(
    school: School,
    duty: dt.Duty,
    values: dict[str, Any],
    errors: dict[str, str],
    override: bool,
) -> tuple[str, int]:
    page = render_template(
        "schedules/duty_form.html",
        school=school,
        duty=duty,
        values=values,
        errors=errors,
        override=override,
        form=PostForm(),
        frequencies=list(Frequency),
    )
    return page, 422 if errors else 200


@bp.route(f"/schedules/<school_code>/<int(max={MAX_ID}):duty_id>", methods=["GET", "POST"])
@login_required
def edit_duty(school_code: str, duty_id: int) -> Response | tuple[str, int]:
    """Change a schedule, or (`?override=1`) give the school its own instead of the district's."""
    school = _school_or_404(school_code)
    duty = _duty_or_404(school, duty_id)
    override = request.values.get("override") == "1"
    allowed = (
        current_user.can_manage_school(school) if override else dt.can_edit_duty(current_user, duty)
    )
    if not allowed:
        abort(404)
    if request.method == "GET":
        return _duty_page(school, duty, _form_values(duty), {}, override)
    if not PostForm().validate_on_submit():
        abort(400)
    errors: dict[str, str] = {}
    fields = _fields_from_form(errors)
    try:
        if errors:
            raise SubmissionInvalid(dt.duty_field_problems(fields))
        if override:
            dt.add_duty(
                db.session(),
                current_user,
                template_key=duty.template_key,
                fields=fields,
                school=school,
                now=db.clock().now(),
            )
        else:
            dt.update_duty(db.session(), current_user, duty, fields, now=db.clock().now())
    except SubmissionInvalid as invalid:
        for name, message in invalid.errors.items():
            errors.setdefault(FIELD_NAMES.get(name, name), translate(message))
        return _duty_page(school, duty, _posted_values(), errors, override)
    except dt.DutyRefused as refused:
        flash(translate(refused.message), "error")
        return redirect(url_for("schedules.list_schedules", school_code=school.code))
    flash(gettext("Saved. The next sweep plans the tasks again."), "success")
    return redirect(url_for("schedules.list_schedules", school_code=school.code))


# --- the school calendar ----------------------------------------------------------------------


def _date(name: str) -> date | None:
    try:
        return date.fromisoformat((request.form.get(name) or "").strip())
    except ValueError:
        return None


@bp.route("/schedules/<school_code>/calendar", methods=["GET", "POST"])
@login_required
def calendar(school_code: str) -> Response | tuple[str, int]:
    school = _school_or_404(school_code)
    session = db.session()
    may_edit = current_user.is_district_admin_of(school.district_id)
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    if request.method == "POST":
        if not may_edit:
            abort(404)
        if not PostForm().validate_on_submit():
            abort(400)
        values = {
            key: request.form.get(key, "") for key in ("kind", "starts_on", "ends_on", "name")
        }
        try:
            dt.add_calendar_entry(
                session,
                current_user,
                school.district_id,
                kind=values["kind"],
                starts_on=_date("starts_on"),
                ends_on=_date("ends_on"),
                name=values["name"],
                now=db.clock().now(),
            )
        except SubmissionInvalid as invalid:
            errors = {name: translate(message) for name, message in invalid.errors.items()}
        else:
            flash(gettext("Saved. The next sweep plans the tasks again."), "success")
            return redirect(url_for("schedules.calendar", school_code=school.code))
    page = render_template(
        "schedules/calendar.html",
        school=school,
        entries=dt.calendar_entries(session, school.district_id),
        may_edit=may_edit,
        form=PostForm(),
        errors=errors,
        values=values,
        kinds=list(dt.CalendarKind),
    )
    return page, 422 if errors else 200


@bp.post(f"/schedules/<school_code>/calendar/<int(max={MAX_ID}):entry_id>/delete")
@login_required
def delete_calendar_entry(school_code: str, entry_id: int) -> Response:
    school = _school_or_404(school_code)
    if not PostForm().validate_on_submit():
        abort(400)
    entry = db.session().get(dt.CalendarEntry, entry_id)
    if (
        entry is None
        or entry.district_id != school.district_id
        or not current_user.is_district_admin_of(school.district_id)
    ):
        abort(404)
    dt.remove_calendar_entry(db.session(), current_user, entry, now=db.clock().now())
    flash(gettext("Removed."), "success")
    return redirect(url_for("schedules.calendar", school_code=school.code))
