"""Corrective actions: the list of what to fix, one action with its history, close, reopen."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import TextAreaField

from models.actions import (
    ActionRefused,
    action_page,
    can_close,
    can_reopen,
    close_action,
    reopen_action,
    visible_action,
)
from models.messages import SubmissionInvalid
from models.people import visible_schools
from models.photos import TAKEN_AT_SUFFIX, PhotoRejected, ProcessedPhoto, process_photo
from models.public_reports import references_of
from webapp import db
from webapp.i18n import current_locale, translate
from webapp.paging import requested_page

bp = Blueprint("actions", __name__, template_folder="templates")


class CloseForm(FlaskForm):
    note = TextAreaField()


class ReopenForm(FlaskForm):
    note = TextAreaField()


@bp.get("/actions")
@login_required
def list_actions() -> str:
    session = db.session()
    schools = visible_schools(session, current_user)
    # Administrators oversee their schools' actions; everyone else starts with their own.
    manages = any(current_user.can_manage_school(s) for s in schools)
    mine = request.args.get("all", "1" if manages else "0") != "1"
    # The dashboard links a school's open actions: ?school=<code>, one the reader can see.
    code = request.args.get("school")
    school = next((s for s in schools if s.code == code), None) if code else None
    if code and school is None:
        abort(404)
    actions = action_page(
        session,
        current_user,
        assigned_to_me=mine,
        school_id=school.id if school else None,
        page=requested_page(),
    )
    return render_template(
        "actions/list.html",
        actions=actions,
        # Reported without an account (匿名报告): the reference the reporter was given.
        references=references_of(session, [a.id for a in actions.items]),
        many_schools=len(schools) > 1,
        mine=mine,
        now=db.clock().now(),
        locale=current_locale(),
    )


@bp.route("/actions/<id:action_id>", methods=["GET", "POST"])
@login_required
def show_action(action_id: int) -> str | Response | tuple[str, int]:
    session = db.session()
    action = visible_action(session, current_user, action_id)
    if action is None:
        abort(404)
    close_form, reopen_form = CloseForm(prefix="close"), ReopenForm(prefix="reopen")
    errors: dict[str, str] = {}
    if request.method == "POST":
        now = db.clock().now()
        try:
            if request.form.get("do") == "close" and close_form.validate_on_submit():
                close_action(
                    session,
                    action,
                    actor=current_user,
                    note=close_form.note.data or "",
                    photo=_closing_photo(),
                    store=db.photo_store(),
                    now=now,
                    taken_at=request.form.get(f"photo{TAKEN_AT_SUFFIX}"),
                )
                flash(gettext("Closed. Thank you!"), "success")
                return redirect(url_for("actions.show_action", action_id=action.id))
            if request.form.get("do") == "reopen" and reopen_form.validate_on_submit():
                reopen_action(
                    session, action, actor=current_user, note=reopen_form.note.data or "", now=now
                )
                flash(gettext("Reopened."), "success")
                return redirect(url_for("actions.show_action", action_id=action.id))
            abort(400)
        except SubmissionInvalid as invalid:
            errors.update({k: translate(m) for k, m in invalid.errors.items()})
        except ActionRefused as refused:
            errors["general"] = translate(refused.message)
    page = render_template(
        "actions/action.html",
        action=action,
        reference=references_of(session, [action.id]).get(action.id),
        close_form=close_form,
        reopen_form=reopen_form,
        can_close=can_close(current_user, action),
        can_reopen=can_reopen(current_user, action),
        errors=errors,
        now=db.clock().now(),
        locale=current_locale(),
    )
    return (page, 422) if errors else page


def _closing_photo() -> ProcessedPhoto | None:
    """The photo sent with the closing note, processed but not yet stored."""
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        return None
    try:
        data = upload.read()
    finally:
        upload.close()
    try:
        return process_photo(data, keep_exif=db.settings().storage.keep_exif)
    except PhotoRejected as rejected:
        raise SubmissionInvalid({"photo": rejected.message}) from None
