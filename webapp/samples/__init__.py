"""Food samples' second step: recording a sample's disposal once its 48 hours are over."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from models.assets import Asset, find_asset_by_token
from models.catalogue import pick_text
from models.food_samples import DisposalRefused, KeptSample, dispose_sample, kept_samples
from models.people import can_see_school
from models.records import visible_record
from webapp import db
from webapp.i18n import current_locale, translate

bp = Blueprint("samples", __name__)


class DisposeForm(FlaskForm):
    """Only the CSRF token: the sample is in the address."""


def samples_shown(asset: Asset) -> list[tuple[KeptSample, str]]:
    """The canteen's samples still kept, each with its meal in the reader's language."""
    samples = kept_samples(db.session(), asset, db.clock().now())
    shown = []
    for sample in samples:
        spec = sample.record.template.spec
        meal = ""
        if spec.has("meal"):
            option = next((o for o in spec.item("meal").options if o.value == sample.meal), None)
            meal = pick_text(option.label, current_locale()) if option else ""
        shown.append((sample, meal))
    return shown


@bp.post("/s/<token>/samples/<id:record_id>/dispose")
@login_required
def dispose(token: str, record_id: int) -> Response:
    session = db.session()
    asset = find_asset_by_token(session, token)
    if asset is None or not can_see_school(session, current_user, asset.school_id):
        abort(404)
    record = visible_record(session, current_user, record_id)
    if record is None or record.asset_id != asset.id:
        abort(404)
    if not DisposeForm().validate_on_submit():
        abort(400)
    try:
        dispose_sample(session, current_user, record, db.clock().now())
    except DisposalRefused as refused:
        flash(translate(refused.message), "error")
    else:
        flash(gettext("The sample's disposal is recorded."), "success")
    return redirect(url_for("scan.show_asset", token=token))
