"""通知渠道: administrators' WeCom and DingTalk staff groups (group robots) for their schools."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from models.org import School
from models.people import ROLE_LABELS, Role, managed_schools
from models.robot_groups import (
    NEEDS_SECRET,
    ROBOT_CHANNEL_LABELS,
    GroupRefused,
    add_group,
    disable_group,
    groups_for,
    last_deliveries,
    queue_test_post,
)
from models.severity import SEVERITY_LABELS
from webapp import db

bp = Blueprint("channel_groups", __name__, template_folder="templates")

CHANNEL_LABELS = {code: _l(msgid) for code, msgid in ROBOT_CHANNEL_LABELS.items()}
MIN_SEVERITY_LABELS = {str(code): _l(msgid) for code, msgid in SEVERITY_LABELS.items()}


class PostForm(FlaskForm):
    """Only the CSRF token."""


class GroupForm(FlaskForm):
    channel = SelectField(
        _l("Channel"), choices=[SelectChoice(k, v) for k, v in CHANNEL_LABELS.items()]
    )
    school = SelectField(_l("School"))
    role = SelectField(_l("Who it is for"))
    label = StringField(_l("Group name"), validators=[DataRequired(), Length(max=100)])
    address = PasswordField(
        _l("Webhook key or access token"), validators=[DataRequired(), Length(min=8, max=200)]
    )
    signing_secret = PasswordField(
        _l("Signing secret (DingTalk)"), validators=[Optional(), Length(max=200)]
    )
    min_severity = SelectField(
        _l("Notices from"), choices=[SelectChoice(k, v) for k, v in MIN_SEVERITY_LABELS.items()]
    )


def _form(schools: list[School]) -> GroupForm:
    form = GroupForm()
    choices = [SelectChoice(s.code, s.name) for s in schools]
    if current_user.is_district_admin:
        choices.insert(0, SelectChoice("", _l("The whole district")))
    form.school.choices = choices
    form.role.choices = [
        SelectChoice("", _l("Everyone")),
        *(SelectChoice(r.value, _l(ROLE_LABELS[r])) for r in Role),
    ]
    return form


def _require_admin() -> list[School]:
    schools = managed_schools(db.session(), current_user)
    if not schools:
        abort(403)
    return schools


def _page(form: GroupForm, status: int = 200) -> tuple[str, int]:
    groups = groups_for(db.session(), current_user)
    return (
        render_template(
            "channel_groups/list.html",
            groups=groups,
            last=last_deliveries(db.session(), [g.id for g in groups]),
            form=form,
            post_form=PostForm(),
            channel_labels=CHANNEL_LABELS,
            severity_labels=MIN_SEVERITY_LABELS,
        ),
        status,
    )


@bp.get("/admin/channels")
@login_required
def list_groups() -> tuple[str, int]:
    return _page(_form(_require_admin()))


@bp.post("/admin/channels")
@login_required
def add() -> Response | tuple[str, int]:
    schools = _require_admin()
    form = _form(schools)
    if not form.validate_on_submit():
        return _page(form, 422)
    school = next((s for s in schools if s.code == form.school.data), None)
    district = school.district if school else schools[0].district
    try:
        add_group(
            db.begin_writing(),
            current_user,
            channel=form.channel.data or "",
            district=district,
            school=school,
            role=form.role.data or None,
            label=form.label.data or "",
            address=form.address.data or "",
            signing_secret=form.signing_secret.data,
            min_severity=form.min_severity.data or "info",
            now=db.clock().now(),
        )
    except GroupRefused as refused:
        msgid = refused.message.msgid
        field = form.signing_secret if msgid == NEEDS_SECRET else form.school
        field.errors = [gettext(msgid)]
        return _page(form, 422)
    flash(gettext("The group is added. Send it a test message to check the key."), "success")
    return redirect(url_for("channel_groups.list_groups"))


@bp.post("/admin/channels/<id:group_id>/disable")
@login_required
def disable(group_id: int) -> Response:
    _require_admin()
    if not PostForm().validate_on_submit():
        abort(400)
    if disable_group(db.begin_writing(), current_user, group_id, now=db.clock().now()) is None:
        abort(404)
    flash(gettext("The group gets no more notices."), "success")
    return redirect(url_for("channel_groups.list_groups"))


@bp.post("/admin/channels/<id:group_id>/test")
@login_required
def send_test(group_id: int) -> Response:
    _require_admin()
    if not PostForm().validate_on_submit():
        abort(400)
    if queue_test_post(db.begin_writing(), current_user, group_id, now=db.clock().now()) is None:
        abort(404)
    flash(gettext("A test message is on its way to the group."), "success")
    return redirect(url_for("channel_groups.list_groups"))
