"""Tasks to do, the schedules that make them, and the district's school calendar."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from models import duties as dt
from models import task_lists
from models.assets import assets_in_use
from models.catalogue import in_brackets, join_list
from models.checklists import latest_template, latest_templates
from models.messages import SubmissionInvalid
from models.org import School
from models.people import visible_school, visible_schools
from models.recurrence import FREQUENCY_LABELS, Frequency, Rule
from webapp import db
from webapp.i18n import current_locale, translate
from webapp.paging import requested_page

bp = Blueprint("schedules", __name__, template_folder="templates")
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
        "describe_rule": describe_rule,
    }


def describe_rule(rule: Rule) -> str:
    """A recurrence in a few words, for lists that show a schedule beside other things."""
    text = gettext(FREQUENCY_LABELS[rule.frequency])
    if rule.frequency == Frequency.WEEKLY:
        names = [str(name) for day, name in WEEKDAYS if day in rule.weekdays]
        text += in_brackets(join_list(names, current_locale()), current_locale())
    elif rule.frequency == Frequency.EVERY_N_DAYS:
        text = ngettext("every %(num)d day", "every %(num)d days", rule.every_days)
    if rule.meal_times:
        times = [t.strftime("%H:%M") for t in rule.meal_times]
        text += " · " + gettext("meals at %(times)s", times=join_list(times, current_locale()))
    if rule.opens is not None:
        text += " · " + gettext("not before %(time)s", time=rule.opens.strftime("%H:%M"))
    if rule.school_days_only:
        text += " · " + gettext("school days only")
    return text


def _template_title(key: str, district_id: int) -> str:
    template = latest_template(db.session(), key, district_id=district_id)
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
    manages = task_lists.sees_all_tasks(session, current_user)
    mine = request.args.get("all") != "1" if manages else True
    tasks = task_lists.task_page(
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


def _meal_times(errors: dict[str, str]) -> tuple[time, ...]:
    """ "08:00, 12:30, 18:30": a daily duty due once per meal; empty, once a day."""
    raw = (request.form.get("meal_times") or "").replace("，", ",").replace("、", ",")
    try:
        return tuple(time.fromisoformat(t.strip()) for t in raw.split(",") if t.strip())
    except ValueError:
        errors["meal_times"] = gettext("Enter times like 08:00, 12:30, 18:30.")
        return ()


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
    opens = None
    if raw_opens := (request.form.get("opens") or "").strip():
        try:
            opens = time.fromisoformat(raw_opens)
        except ValueError:
            errors["opens"] = gettext("Enter a time like 08:30.")
    weekdays = tuple(int(v) for v in request.form.getlist("weekdays") if v.isdigit())
    rule = Rule(
        meal_times=_meal_times(errors),
        frequency=frequency,
        at=at,
        weekdays=weekdays,
        day=_int("day", 1, errors),
        month=_int("month", 1, errors),
        every_days=_int("every_days", 7, errors),
        school_days_only=request.form.get("school_days_only") == "1",
        winter_every_days=_int("winter_every_days", 0, errors),
        opens=opens,
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
        "meal_times": ", ".join(t.strftime("%H:%M") for t in rule.meal_times),
        "winter_every_days": rule.winter_every_days,
        "opens": rule.opens.strftime("%H:%M") if rule.opens else "",
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
    duty: dt.Duty | None,
    values: dict[str, Any],
    errors: dict[str, str],
    override: bool,
    below_minimum: str = "",
    **new: Any,
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
        below_minimum=below_minimum,
        **new,
    )
    return page, 422 if errors or below_minimum else 200


def _confirmed() -> bool:
    return request.form.get("confirm_below_minimum") == "1"


@bp.route("/schedules/<school_code>/<id:duty_id>", methods=["GET", "POST"])
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
                confirm_below_minimum=_confirmed(),
            )
        else:
            dt.update_duty(
                db.session(),
                current_user,
                duty,
                fields,
                now=db.clock().now(),
                confirm_below_minimum=_confirmed(),
            )
    except dt.BelowMinimum as below:
        return _duty_page(
            school, duty, _posted_values(), errors, override, below_minimum=translate(below.message)
        )
    except SubmissionInvalid as invalid:
        for name, message in invalid.errors.items():
            errors.setdefault(FIELD_NAMES.get(name, name), translate(message))
        return _duty_page(school, duty, _posted_values(), errors, override)
    except dt.DutyRefused as refused:
        flash(translate(refused.message), "error")
        return redirect(url_for("schedules.list_schedules", school_code=school.code))
    flash(gettext("Saved. The next sweep plans the tasks again."), "success")
    return redirect(url_for("schedules.list_schedules", school_code=school.code))


SCOPES = ("school", "asset", "district")


def _new_values() -> dict[str, Any]:
    return {
        "frequency": Frequency.MONTHLY.value,
        "at": "17:00",
        "weekdays": [],
        "day": 1,
        "month": 1,
        "every_days": 7,
        "school_days_only": False,
        "opens": "",
        "remind_before_minutes": 60,
        "escalate_school_hours": 24,
        "escalate_district_hours": 72,
        "active": True,
        "template_key": request.args.get("checklist", ""),
        "scope": "school",
        "asset": "",
    }


@bp.route("/schedules/<school_code>/new", methods=["GET", "POST"])
@login_required
def new_duty(school_code: str) -> Response | tuple[str, int]:
    """A schedule for any checklist: for the district (its administrators), this school's
    assets of the checklist's kind, or one asset here (the school's administrators too)."""
    school = _school_or_404(school_code)
    if not current_user.can_manage_school(school):
        abort(404)
    district_admin = current_user.is_district_admin_of(school.district_id)
    scopes = [s for s in SCOPES if s != "district" or district_admin]
    session = db.session()
    assets = assets_in_use(session, school)
    page_args: dict[str, Any] = {
        "templates": latest_templates(session, school.district_id),
        "assets": assets,
        "scopes": scopes,
        "new": True,
    }
    if request.method == "GET":
        return _duty_page(school, None, _new_values(), {}, False, **page_args)
    if not PostForm().validate_on_submit():
        abort(400)
    values = _posted_values()
    errors: dict[str, str] = {}
    fields = _fields_from_form(errors)
    scope = request.form.get("scope", "school")
    asset = None
    if scope not in scopes:
        errors["scope"] = gettext("Choose where the schedule applies.")
    elif scope == "asset":
        raw = request.form.get("asset", "")
        asset = next((a for a in assets if str(a.id) == raw), None)
        if asset is None:
            errors["asset"] = gettext("Choose an asset of this school.")
    if errors:
        for name, message in dt.duty_field_problems(fields).items():
            errors.setdefault(FIELD_NAMES.get(name, name), translate(message))
        return _duty_page(school, None, values, errors, False, **page_args)
    try:
        dt.add_duty(
            session,
            current_user,
            template_key=request.form.get("template_key", ""),
            fields=fields,
            now=db.clock().now(),
            school=school if scope == "school" else None,
            asset=asset,
            district=school.district if scope == "district" else None,
            confirm_below_minimum=_confirmed(),
        )
    except dt.BelowMinimum as below:
        return _duty_page(
            school, None, values, errors, False, below_minimum=translate(below.message), **page_args
        )
    except SubmissionInvalid as invalid:
        for name, message in invalid.errors.items():
            errors.setdefault(FIELD_NAMES.get(name, name), translate(message))
        return _duty_page(school, None, values, errors, False, **page_args)
    except dt.DutyRefused as refused:
        errors["template_key"] = translate(refused.message)
        return _duty_page(school, None, values, errors, False, **page_args)
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


@bp.post("/schedules/<school_code>/calendar/<id:entry_id>/delete")
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
