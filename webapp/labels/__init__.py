"""Label care for administrators: print one label again, or replace a lost or copied one."""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, send_file, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from houqin.i18n import gettext as catalogue_gettext
from models.assets import KIND_LABELS, Asset, AssetKind, find_asset_by_token, issue_label
from qr_labels import LAYOUTS, FontMissing, LabelInfo, find_cjk_font, label_url, render_label
from webapp import db

bp = Blueprint("labels", __name__)


class ReplaceLabelForm(FlaskForm):
    """Only the CSRF token: replacing needs no other input."""


def _managed_asset_or_404(token: str) -> Asset:
    asset = find_asset_by_token(db.session(), token)
    if asset is None or not current_user.can_manage_school(asset.school):
        abort(404)
    return asset


@bp.get("/s/<token>/label.png")
@login_required
def label_png(token: str) -> Response:
    asset = _managed_asset_or_404(token)
    settings = db.settings()
    try:
        font = find_cjk_font(settings.labels.font or None)
    except FontMissing:
        abort(503)
    info = LabelInfo(
        url=label_url(settings.server.base_url, token),
        name=asset.name,
        code=asset.code,
        school=asset.school.name,
        kind=catalogue_gettext("zh_CN", KIND_LABELS[AssetKind(asset.kind)]),
    )
    image = render_label(info, LAYOUTS[settings.labels.layout], font)
    out = io.BytesIO()
    image.save(out, "PNG", dpi=(300, 300))
    out.seek(0)
    return send_file(out, mimetype="image/png", download_name=f"{asset.code}.png")


@bp.post("/s/<token>/label/replace")
@login_required
def replace_label(token: str) -> Response:
    asset = _managed_asset_or_404(token)
    if not ReplaceLabelForm().validate_on_submit():
        abort(400)
    label = issue_label(db.session(), asset, now=db.clock().now())
    flash(gettext("A new label was issued. Print it and put it on: the old label no longer works."))
    return redirect(url_for("scan.show_asset", token=label.token))
