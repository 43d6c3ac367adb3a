"""Label care for administrators: print one label again, or replace a lost or copied one."""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from models.assets import Label, find_label_by_token, issue_label
from models.labels import label_info
from qr_labels import LAYOUTS, FontMissing, find_cjk_font, render_label
from webapp import db

bp = Blueprint("labels", __name__, template_folder="templates")


class ReplaceLabelForm(FlaskForm):
    """Only the CSRF token: replacing needs no other input."""


def _managed_label_or_404(token: str) -> Label:
    label = find_label_by_token(db.session(), token)
    if label is None or not current_user.can_manage_school(label.asset.school):
        abort(404)
    return label


@bp.get("/s/<token>/label.png")
@login_required
def label_png(token: str) -> Response:
    label = _managed_label_or_404(token)
    asset = label.asset
    settings = db.settings()
    try:
        font = find_cjk_font(settings.labels.font or None)
    except FontMissing:
        abort(503)
    info = label_info(asset, settings.server.base_url, label.position)
    image = render_label(info, LAYOUTS[settings.labels.layout], font)
    out = io.BytesIO()
    image.save(out, "PNG", dpi=(300, 300))
    out.seek(0)
    return send_file(out, mimetype="image/png", download_name=f"{asset.code}.png")


@bp.route("/s/<token>/label/replace", methods=["GET", "POST"])
@login_required
def replace_label(token: str) -> str | Response:
    """Asks first: a replaced label cannot be brought back, and every printed copy dies."""
    old = _managed_label_or_404(token)
    asset = old.asset
    form = ReplaceLabelForm()
    if request.method == "GET":
        return render_template("labels/replace.html", asset=asset, token=token, form=form)
    if not form.validate_on_submit():
        abort(400)
    label = issue_label(db.session(), asset, now=db.clock().now(), position=old.position)
    flash(
        gettext("A new label was issued. Print it and put it on: the old label no longer works."),
        "success",
    )
    return redirect(url_for("scan.show_asset", token=label.token))
