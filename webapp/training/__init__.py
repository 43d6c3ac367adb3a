"""A school's training sessions, added by its administrators, and each person's history."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from models import training as tr
from models.messages import SubmissionInvalid
from models.org import School
from models.people import Person
from models.staff import managed_school, school_roles
from webapp import db
from webapp.admin import role_label
from webapp.i18n import translate
from webapp.ids import row_id

bp = Blueprint("training", __name__, template_folder="templates")


@bp.context_processor
def _helpers() -> dict[str, object]:
    return {"role_label": role_label}


class TrainingForm(FlaskForm):
    """Only the CSRF token: the fields are read from the request."""


def _managed_school_or_404(school_code: str) -> School:
    school = managed_school(db.session(), current_user, school_code)
    if school is None:
        abort(404)
    return school


def _page(school: School, errors: dict[str, str], values: dict[str, Any], status: int = 200):
    session = db.session()
    return render_template(
        "training/trainings.html",
        school=school,
        trainings=tr.school_trainings(session, school),
        people=tr.trainable_people(session, school),
        form=TrainingForm(),
        errors=errors,
        values=values,
    ), status


@bp.get("/training/<school_code>")
@login_required
def show_trainings(school_code: str) -> tuple[str, int]:
    school = _managed_school_or_404(school_code)
    return _page(school, {}, {"attendees": []})


@bp.post("/training/<school_code>")
@login_required
def add_training(school_code: str) -> Response | tuple[str, int]:
    school = _managed_school_or_404(school_code)
    if not TrainingForm().validate_on_submit():
        abort(400)
    values: dict[str, Any] = {k: request.form.get(k, "") for k in request.form}
    values["attendees"] = [
        i for i in (row_id(v) for v in request.form.getlist("attendees")) if i is not None
    ]
    now = db.clock().now()
    try:
        tr.add_training(
            db.session(),
            current_user,
            school,
            topic=values.get("topic", ""),
            held_on=values.get("held_on", ""),
            trainer=values.get("trainer", ""),
            hours=values.get("hours", ""),
            attendee_ids=values["attendees"],
            today=school.district.local(now).date(),
            now=now,
        )
    except SubmissionInvalid as invalid:
        errors = {k: translate(m) for k, m in invalid.errors.items()}
        return _page(school, errors, values, 422)
    flash(gettext("Saved."), "success")
    return redirect(url_for(".show_trainings", school_code=school.code))


@bp.get("/training/<school_code>/people/<id:person_id>")
@login_required
def show_history(school_code: str, person_id: int) -> str:
    school = _managed_school_or_404(school_code)
    person = db.session().get(Person, person_id)
    if person is None or not school_roles(person, school):
        abort(404)
    return render_template(
        "training/history.html",
        school=school,
        person=person,
        roles=school_roles(person, school),
        trainings=tr.training_history(db.session(), person),
    )
