"""A school's uniform and exercise-book orders per term: added, settled, the late ones marked."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from models import orders as od
from models.messages import SubmissionInvalid
from models.org import School
from models.staff import managed_school
from models.stages import GRADE_LABELS, school_grades
from webapp import db
from webapp.i18n import translate
from webapp.ids import row_id

bp = Blueprint("orders", __name__, template_folder="templates")


class OrderForm(FlaskForm):
    """Only the CSRF token: the fields are read from the request."""


def _managed_school_or_404(school_code: str) -> School:
    school = managed_school(db.session(), current_user, school_code)
    if school is None:
        abort(404)
    return school


def _page(
    school: School, errors: dict[str, str], values: dict[str, Any], status: int = 200
) -> tuple[str, int]:
    session = db.session()
    return render_template(
        "orders/orders.html",
        school=school,
        orders=od.school_orders(session, school),
        today=school.district.local(db.clock().now()).date(),
        suppliers=od.order_suppliers(session, school),
        goods_labels=od.GOODS_LABELS,
        term_labels=od.TERM_LABELS,
        grades=school_grades(school),
        grade_labels=GRADE_LABELS,
        form=OrderForm(),
        errors=errors,
        values=values,
    ), status


@bp.get("/orders/<school_code>")
@login_required
def show_orders(school_code: str) -> tuple[str, int]:
    school = _managed_school_or_404(school_code)
    today = school.district.local(db.clock().now()).date()
    return _page(school, {}, {"year": today.year, "grades": []})


@bp.post("/orders/<school_code>")
@login_required
def add_order(school_code: str) -> Response | tuple[str, int]:
    school = _managed_school_or_404(school_code)
    if not OrderForm().validate_on_submit():
        abort(400)
    values: dict[str, Any] = {k: request.form.get(k, "") for k in request.form}
    values["grades"] = request.form.getlist("grades")
    supplier = request.form.get("supplier", "")
    try:
        od.add_order(
            db.session(),
            current_user,
            school,
            goods=values.get("goods", ""),
            year=values.get("year", ""),
            term=values.get("term", ""),
            grades=values["grades"],
            quantity=values.get("quantity", ""),
            collected=values.get("collected", ""),
            settle_by=values.get("settle_by", ""),
            supplier_id=row_id(supplier),
            note=values.get("note", ""),
            now=db.clock().now(),
        )
    except SubmissionInvalid as invalid:
        errors = {k: translate(m) for k, m in invalid.errors.items()}
        return _page(school, errors, values, 422)
    flash(gettext("Saved."), "success")
    return redirect(url_for(".show_orders", school_code=school.code))


@bp.post("/orders/<school_code>/<id:order_id>/settled")
@login_required
def settle_order(school_code: str, order_id: int) -> Response | tuple[str, int]:
    school = _managed_school_or_404(school_code)
    order = od.visible_order(db.session(), current_user, order_id)
    if order is None or order.school_id != school.id:
        abort(404)
    if not OrderForm().validate_on_submit():
        abort(400)
    today = school.district.local(db.clock().now()).date()
    try:
        od.settle_order(
            db.session(), current_user, order, request.form.get("settled_on", ""), today=today
        )
    except SubmissionInvalid as invalid:
        errors = {f"settled_on-{order.id}": translate(invalid.errors["settled_on"])}
        return _page(school, errors, {"year": today.year, "grades": []}, 422)
    flash(gettext("Saved."), "success")
    return redirect(url_for(".show_orders", school_code=school.code))
