"""Label care for administrators: print sheets of labels (by school, kind, place, a list of
codes, or only the reissued ones, in any layout), print one label again, or replace a lost or
copied one."""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response

from models.assets import KIND_LABELS, Label, find_label_by_token, issue_label
from models.labels import (
    LAYOUT_LABELS,
    LabelChoice,
    LabelsError,
    check_layout,
    choose_labels,
    label_font,
    label_info,
    labels_pdf,
)
from models.org import Location
from models.people import managed_schools
from qr_labels import LAYOUTS, FontMissing, find_cjk_font, render_label
from webapp import db
from webapp.downloads import download

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
    label = issue_label(
        db.session(), asset, now=db.clock().now(), position=old.position, actor=current_user
    )
    flash(
        gettext("A new label was issued. Print it and put it on: the old label no longer works."),
        "success",
    )
    return redirect(url_for("scan.show_asset", token=label.token))


def _choice_from(args: dict[str, str]) -> LabelChoice:
    """The choice in the form's fields; codes are separated by spaces, commas or new lines."""
    codes = args.get("assets", "").replace(",", " ").replace("，", " ").replace("、", " ").split()
    school = args.get("school", "").strip()
    return LabelChoice(
        school_codes=(school,) if school else (),
        kind=args.get("kind", "").strip(),
        building=args.get("building", "").strip(),
        asset_codes=tuple(codes),
        reissued_only=args.get("reissued") == "1",
    )


@bp.get("/labels")
@login_required
def choose_sheet() -> str | Response | tuple[str, int]:
    """Choose labels and a layout; with `print`, the PDF. It only reads: the labels are
    chosen, the read is ended, and the sheet is drawn outside any transaction."""
    session = db.session()
    schools = managed_schools(session, current_user)
    if not schools:
        abort(404)
    buildings = sorted(
        set(
            session.scalars(
                select(Location.building).where(
                    Location.school_id.in_([school.id for school in schools])
                )
            )
        )
    )
    settings = db.settings()
    values = {key: request.args.get(key, "") for key in ("school", "kind", "building", "assets")}
    values["reissued"] = request.args.get("reissued", "")
    values["layout"] = request.args.get("layout", "") or settings.labels.layout
    errors: dict[str, str] = {}
    if "print" in request.args:
        try:
            check_layout(values["layout"])
            infos = choose_labels(
                session,
                _choice_from(values),
                base_url=settings.server.base_url,
                actor=current_user,
            )
            font = label_font(settings.labels.font)
        except LabelsError as refused:
            errors[refused.field or "choice"] = gettext(
                refused.message.msgid, **refused.message.params
            )
        else:
            # The labels are plain values now: end the read before the slow part.
            session.rollback()
            data = labels_pdf(infos, values["layout"], font)
            name = gettext("labels") + f"-{values['school'] or 'all'}-{values['layout']}.pdf"
            return download(data, name, "application/pdf")
    page = render_template(
        "labels/choose.html",
        schools=schools,
        kinds=KIND_LABELS,
        buildings=buildings,
        layouts=LAYOUT_LABELS,
        values=values,
        errors=errors,
    )
    return (page, 422) if errors else page
