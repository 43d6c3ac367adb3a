"""A label scanned by someone without an account: the asset's name, a login link, 报告问题.

Nothing else is shown: no records, no people, no location; of the school only its name.
"""

from __future__ import annotations

import uuid

from flask import abort, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField, TextAreaField

from models.actions import REPORT_DESCRIPTION_MAX
from models.assets import Label
from models.messages import SubmissionInvalid
from models.photos import PhotoRejected, ProcessedPhoto, prepare_photo
from models.public_reports import (
    PublicReport,
    ReportRefused,
    ReportThrottled,
    check_limits,
    earlier_report,
    label_for_public,
    refusal,
    report_without_account,
)
from webapp import db
from webapp.i18n import translate

# The reference last handed out on this phone, so its page can be shown again after a redirect.
REPORTED = "public_report"


class PublicReportForm(FlaskForm):
    """The description; the photo is read from the request, the CSRF token checked here.
    The submission key makes a send retried on a weak signal, or tapped twice, one report."""

    description = TextAreaField()
    submission_key = HiddenField()


def _label_or_404(token: str) -> Label:
    label = label_for_public(db.session(), token)
    if label is None:
        abort(404)
    return label


def show_public(token: str) -> tuple[str, int]:
    """The asset's name and school, a login link, and 报告问题 unless no report is taken."""
    label = _label_or_404(token)
    reason = refusal(label)
    page = render_template(
        "scan/public.html",
        label=label,
        token=token,
        refused=translate(reason) if reason is not None else "",
        login_next=url_for("scan.show_asset", token=token),
    )
    # A withdrawn label is gone for good; a retired asset's label still names it.
    return page, 410 if label.revoked_at is not None else 200


def _source() -> str:
    """The client address (the phone's, behind a proxy that server.proxy_hops names)."""
    return request.remote_addr or ""


def _photo(errors: dict[str, str]) -> ProcessedPhoto | None:
    """The optional photo, decoded and written before the write lock; a bad one is refused."""
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        return None
    try:
        data = upload.read()
    finally:
        upload.close()
    try:
        return prepare_photo(data, db.photo_store(), keep_exif=db.settings().storage.keep_exif)
    except PhotoRejected as rejected:
        errors["photo"] = translate(rejected.message)
        return None


def report_problem(token: str) -> Response | str | tuple[str, int]:
    """The short form, and what it sends: a corrective action and a reference to quote."""
    label = _label_or_404(token)
    reason = refusal(label)
    if reason is not None:
        return show_public(token)
    form = PublicReportForm()
    errors: dict[str, str] = {}
    status = 200
    if request.method == "GET":
        form.submission_key.data = uuid.uuid4().hex
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        earlier = earlier_report(db.session(), label, form.submission_key.data)
        if earlier is not None:  # sent before: its reference again, nothing counted twice
            return _reported(token, earlier)
        try:
            # Counted before the photo is decoded and written, so a flood costs no disk;
            # counted again in the write transaction.
            check_limits(
                db.session(), label, _source(), limits=db.report_limits(), now=db.clock().now()
            )
        except ReportThrottled as throttled:
            errors["general"] = translate(throttled.message)
            status = 429
        photo = None if errors else _photo(errors)
        if not errors:
            try:
                report = report_without_account(
                    db.begin_writing(),
                    label,
                    description=form.description.data or "",
                    photo=photo,
                    source=_source(),
                    limits=db.report_limits(),
                    store=db.photo_store(),
                    now=db.clock().now(),
                    key=form.submission_key.data,
                )
            except SubmissionInvalid as invalid:
                errors = {key: translate(message) for key, message in invalid.errors.items()}
            except ReportThrottled as throttled:
                errors["general"] = translate(throttled.message)
                status = 429
            except ReportRefused:
                return show_public(token)
            else:
                return _reported(token, report)
        status = status if status != 200 else 422
    page = render_template(
        "scan/public_form.html",
        label=label,
        token=token,
        form=form,
        errors=errors,
        max_length=REPORT_DESCRIPTION_MAX,
    )
    return page, status


def _reported(token: str, report: PublicReport) -> Response:
    """To the thanks page with the report's reference (kept for it in the phone's session)."""
    session[REPORTED] = {"token": token, "reference": report.reference}
    return redirect(url_for("scan.show_reported", token=token))


def show_reported(token: str) -> Response | str:
    """Thanks, and the reference, on the phone that sent the report."""
    reported = session.get(REPORTED)
    if not isinstance(reported, dict) or reported.get("token") != token:
        return redirect(url_for("scan.show_asset", token=token))
    label = _label_or_404(token)
    return render_template(
        "scan/public_done.html", label=label, token=token, reference=reported["reference"]
    )
