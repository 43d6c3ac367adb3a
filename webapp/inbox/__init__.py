"""Each person's inbox: every notice queued for them, newest first."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from models.notifications import Notification, inbox_page, mark_read
from webapp import db
from webapp.auth import safe_next
from webapp.paging import requested_page

bp = Blueprint("inbox", __name__, template_folder="templates")


class OpenForm(FlaskForm):
    """Only the CSRF token: opening a notice marks it read."""


@bp.get("/inbox")
@login_required
def show_inbox() -> str:
    return render_template(
        "inbox/inbox.html",
        notices=inbox_page(db.session(), current_user, requested_page()),
        form=OpenForm(),
    )


@bp.post("/inbox/<id:notification_id>")
@login_required
def open_notice(notification_id: int) -> Response:
    if not OpenForm().validate_on_submit():
        abort(400)
    session = db.session()
    if not mark_read(session, current_user, notification_id, now=db.clock().now()):
        abort(404)
    notice = session.get_one(Notification, notification_id)
    return redirect(safe_next(notice.link) if notice.link else url_for("inbox.show_inbox"))
