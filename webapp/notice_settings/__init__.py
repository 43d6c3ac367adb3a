"""Each person's notification settings: the channels this installation runs, their own e-mail
address, what each linked channel gets and quiet hours; and for administrators, which
channels reach the people of their school."""

from __future__ import annotations

from datetime import time
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, StringField

from models.addresses import EMAIL, address_of, channels_of, set_address
from models.messages import SubmissionInvalid
from models.notice_preferences import choices_of, quiet_hours_of, set_choice, set_quiet_hours
from models.reach import reach_page, unreached_count
from models.severity import Severity
from models.staff import managed_school
from settings import Settings
from webapp import db
from webapp.i18n import translate
from webapp.paging import requested_page

bp = Blueprint("notice_settings", __name__, template_folder="templates")

TELEGRAM, WECOM = "telegram", "wecom"
CHANNEL_LABELS = {TELEGRAM: _l("Telegram"), WECOM: _l("WeCom"), EMAIL: _l("E-mail")}
LOWEST_LABELS = {
    Severity.INFO: _l("Everything"),
    Severity.MINOR: _l("Minor problems and above"),
    Severity.MAJOR: _l("Major problems and critical alerts"),
    Severity.CRITICAL: _l("Critical alerts only"),
}
NOT_A_TIME = _l("Enter a time such as 22:00.")
NOT_OFFERED = _l("Choose one of the options offered.")


def enabled_channels(settings: Settings) -> list[str]:
    """The channels to one person this installation runs, in the order the page shows them."""
    enabled = {
        TELEGRAM: bool(settings.telegram.token),
        WECOM: settings.wecom.app_enabled,
        EMAIL: settings.email.enabled,
    }
    return [channel for channel, on in enabled.items() if on]


@bp.app_context_processor
def _labels() -> dict[str, object]:
    return {"channel_label": lambda channel: str(CHANNEL_LABELS.get(channel, channel))}


class AddressForm(FlaskForm):
    address = StringField()


class ChoicesForm(FlaskForm):
    quiet_starts = StringField()
    quiet_ends = StringField()


def _choices_form(channels: list[str], **kwargs: Any) -> ChoicesForm:
    """The form with a choice of the lowest severity and of the daily summary per channel."""

    class Form(ChoicesForm):
        pass

    for channel in channels:
        setattr(Form, f"lowest_{channel}", StringField(default=Severity.INFO.value))
        setattr(Form, f"digest_{channel}", BooleanField())
    return Form(**kwargs)


def _linked() -> list[str]:
    """The enabled channels the person has an address on."""
    mine = set(channels_of(db.session(), [current_user.id]).get(current_user.id, ()))
    return [c for c in enabled_channels(db.settings()) if c in mine]


def _page(
    choices_form: ChoicesForm | None = None,
    address_form: AddressForm | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    session = db.session()
    linked = _linked()
    if choices_form is None:
        hours = quiet_hours_of(session, current_user)
        data: dict[str, Any] = {
            "quiet_starts": hours.starts.strftime("%H:%M") if hours else "",
            "quiet_ends": hours.ends.strftime("%H:%M") if hours else "",
        }
        for choice in choices_of(session, current_user, linked):
            data[f"lowest_{choice.channel}"] = choice.lowest.value
            data[f"digest_{choice.channel}"] = choice.digest
        choices_form = _choices_form(linked, formdata=None, data=data)
    accounts = {c: address_of(session, current_user, c) for c in enabled_channels(db.settings())}
    if address_form is None:
        email = accounts.get(EMAIL)
        address_form = AddressForm(formdata=None, address=email.address if email else "")
    return render_template(
        "notice_settings/settings.html",
        channels=list(accounts),
        accounts=accounts,
        linked=linked,
        lowest_labels=LOWEST_LABELS,
        form=choices_form,
        address_form=address_form,
        errors=errors or {},
        zone=current_user.timezone,
    ), status


@bp.get("/settings/notices")
@login_required
def show_settings() -> tuple[str, int]:
    return _page()


def _time(form: ChoicesForm, name: str, errors: dict[str, str]) -> time | None:
    raw = (getattr(form, name).data or "").strip()
    if not raw:
        return None
    try:
        return time.fromisoformat(raw)
    except ValueError:
        errors[name] = str(NOT_A_TIME)
        return None


@bp.post("/settings/notices")
@login_required
def save_choices() -> Response | tuple[str, int]:
    linked = _linked()
    form = _choices_form(linked)
    valid = form.validate_on_submit()
    if "csrf_token" in form.errors:
        abort(400)
    errors = {} if valid else {name: str(messages[0]) for name, messages in form.errors.items()}
    starts = _time(form, "quiet_starts", errors)
    ends = _time(form, "quiet_ends", errors)
    lowest: dict[str, Severity] = {}
    for channel in linked:
        name = f"lowest_{channel}"
        try:
            lowest[channel] = Severity(getattr(form, name).data)
        except ValueError:
            errors[name] = str(NOT_OFFERED)
    if errors:
        return _page(form, errors=errors, status=422)
    session = db.session()
    try:
        set_quiet_hours(session, current_user, current_user, starts, ends, now=db.clock().now())
    except SubmissionInvalid as refused:
        errors = {name: translate(message) for name, message in refused.errors.items()}
        return _page(form, errors=errors, status=422)
    for channel in linked:
        set_choice(
            session,
            current_user,
            current_user,
            channel,
            lowest=lowest[channel],
            digest=bool(getattr(form, f"digest_{channel}").data),
        )
    flash(gettext("Your notification settings are saved."), "success")
    return redirect(url_for("notice_settings.show_settings"))


@bp.post("/settings/notices/email")
@login_required
def save_email() -> Response | tuple[str, int]:
    if not db.settings().email.enabled:
        abort(404)
    form = AddressForm()
    if not form.validate_on_submit():
        abort(400)
    address = "" if request.form.get("remove") else form.address.data
    try:
        account = set_address(
            db.session(), current_user, current_user, EMAIL, address, now=db.clock().now()
        )
    except SubmissionInvalid as refused:
        errors = {name: translate(message) for name, message in refused.errors.items()}
        return _page(address_form=form, errors=errors, status=422)
    if account is None:
        flash(gettext("Your e-mail address is removed. Notices stay in Houqin's inbox."), "success")
    else:
        flash(gettext("Notices now reach %(address)s.", address=account.address), "success")
    return redirect(url_for("notice_settings.show_settings"))


@bp.get("/admin/<school_code>/reach")
@login_required
def show_reach(school_code: str) -> tuple[str, int]:
    """Which channels reach each person of the school, and whom none reaches."""
    session = db.session()
    school = managed_school(session, current_user, school_code)
    if school is None:
        abort(404)
    channels = enabled_channels(db.settings())
    unreached_only = request.args.get("only") == "unreached"
    page = reach_page(
        session,
        current_user,
        school,
        channels,
        unreached_only=unreached_only,
        page=requested_page(),
    )
    return render_template(
        "notice_settings/reach.html",
        school=school,
        channels=channels,
        people=page,
        unreached_only=unreached_only,
        unreached=unreached_count(session, current_user, school, channels),
    ), 200
