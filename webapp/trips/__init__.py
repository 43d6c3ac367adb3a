"""The trip ledger: every bus ride with its teacher, driver, times and head counts."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from models.people import visible_school
from models.trips import trip_page
from webapp import db
from webapp.paging import requested_page

bp = Blueprint("trips", __name__, template_folder="templates")


@bp.get("/trips/<school_code>")
@login_required
def show_trips(school_code: str) -> str:
    session = db.session()
    school = visible_school(session, current_user, school_code)
    if school is None:
        abort(404)
    return render_template(
        "trips/trips.html",
        school=school,
        trips=trip_page(session, current_user, school.id, requested_page()),
    )
