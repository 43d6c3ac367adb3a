"""Where a scanned label lands: the asset page and the record form."""

from __future__ import annotations

import uuid
from dataclasses import replace

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response
from wtforms import HiddenField

from models.actions import visible_actions
from models.assets import Asset, find_asset_by_token
from models.messages import DomainError, SubmissionInvalid
from models.people import can_see_school
from models.photos import PhotoRejected, process_photo
from models.records import (
    AlreadySent,
    Channel,
    NotAllowed,
    Upload,
    directory_for,
    recent_records,
    submit_record,
)
from models.templates import FormTemplate, latest_template, templates_for_kind
from models.trips import open_trip
from webapp import db, drafts
from webapp.i18n import current_locale, translate

bp = Blueprint("scan", __name__, template_folder="templates")


class RecordForm(FlaskForm):
    """The answers are read from the template's items; this carries the CSRF token and key."""

    submission_key = HiddenField()


def _uploads() -> list[Upload]:
    """The photos sent with the form, read and closed at once."""
    uploads = []
    for name, file in request.files.items(multi=True):
        try:
            if file.filename:
                uploads.append(Upload(item_key=name, data=file.read()))
        finally:
            file.close()
    return uploads


def _prepared(uploads: list[Upload]) -> list[Upload]:
    """Photos decoded and resized now, before the write lock; a bad one is left as it came,
    for the domain to refuse with its message."""
    keep_exif = db.settings().storage.keep_exif
    prepared = []
    for upload in uploads:
        try:
            prepared.append(
                replace(upload, processed=process_photo(upload.data, keep_exif=keep_exif))
            )
        except PhotoRejected:
            prepared.append(upload)
    return prepared


def _asset_or_404(token: str) -> Asset:
    asset = find_asset_by_token(db.session(), token)
    if asset is None or not can_see_school(db.session(), current_user, asset.school_id):
        abort(404)
    return asset


@bp.get("/s/<token>")
@login_required
def show_asset(token: str) -> str:
    asset = _asset_or_404(token)
    session = db.session()
    return render_template(
        "scan/asset.html",
        asset=asset,
        token=token,
        templates=_in_order(templates_for_kind(session, asset.kind), asset),
        records=recent_records(session, asset, limit=3),
        actions=visible_actions(session, current_user, asset_id=asset.id),
        locale=current_locale(),
    )


def _in_order(templates: list[FormTemplate], asset: Asset) -> list[FormTemplate]:
    """A bus on the road offers its arrival first; one in the yard its departure."""
    if asset.kind != "bus":
        return templates
    first = "arrival" if open_trip(db.session(), asset) is not None else "departure"
    return sorted(
        templates,
        key=lambda t: (t.spec.trip != first, t.spec.trip is None, t.key),
    )


def _template_or_404(asset: Asset, key: str) -> FormTemplate:
    template = latest_template(db.session(), key)
    if template is None or template.kind != asset.kind:
        abort(404)
    return template


@bp.route("/s/<token>/record/<template_key>", methods=["GET", "POST"])
@login_required
@db.reads_first
def file_record(token: str, template_key: str) -> Response | tuple[str, int]:
    asset = _asset_or_404(token)
    template = _template_or_404(asset, template_key)
    form = RecordForm()
    errors: dict[str, str] = {}
    general_error = ""
    # Answers kept when the page or the login had expired (webapp/drafts.py).
    draft_id = request.values.get("draft") or None
    draft = drafts.load(draft_id, request.path)
    values = request.form if request.method == "POST" else MultiDict()
    if request.method == "GET":
        form.submission_key.data = uuid.uuid4().hex
        if draft is not None:
            values = draft.values
            form.submission_key.data = draft.values.get("submission_key") or uuid.uuid4().hex
    elif form.validate_on_submit():
        uploads = _uploads()
        if draft is not None:
            sent = {upload.item_key for upload in uploads}
            uploads += [
                Upload(item_key=item, data=data)
                for item, photos in draft.photos.items()
                if item not in sent
                for data in photos
            ]
        uploads = _prepared(uploads)
        try:
            submission = submit_record(
                db.begin_writing(),
                actor=current_user,
                asset=asset,
                template=template,
                answers=request.form,
                uploads=uploads,
                key=form.submission_key.data or "",
                channel=Channel.WEB,
                clock=db.clock(),
                store=db.photo_store(),
                keep_exif=db.settings().storage.keep_exif,
            )
        except SubmissionInvalid as invalid:
            errors = {key: translate(message) for key, message in invalid.errors.items()}
            # A refusal writes nothing but the alerts it raised (an overloaded bus): keep them.
            db.session().commit()
        except NotAllowed:
            abort(404)
        except AlreadySent as refused:
            general_error = translate(refused.message)
            form.submission_key.data = uuid.uuid4().hex
        except DomainError as refused:
            general_error = translate(refused.message)
        else:
            drafts.discard(draft_id)
            return redirect(url_for("records.show_record", record_id=submission.record.id, done=1))
    page = render_template(
        "scan/form.html",
        asset=asset,
        token=token,
        template=template,
        spec=template.spec,
        form=form,
        values=values,
        directory=directory_for(db.session(), template.spec, asset),
        errors=errors,
        general_error=general_error,
        last=next(iter(recent_records(db.session(), asset, limit=1)), None),
        had_photos=request.method == "POST" and any(f.filename for f in request.files.values()),
        draft_id=draft_id if draft is not None else None,
        restored=draft is not None and request.method == "GET",
        kept_photos={item: len(photos) for item, photos in (draft.photos if draft else {}).items()},
        locale=current_locale(),
    )
    return (page, 422) if request.method == "POST" else (page, 200)
