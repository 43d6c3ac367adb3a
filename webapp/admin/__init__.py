"""Running a school: its assets, places and people, and importing them from a spreadsheet.

For the school's administrators and the district's; to everyone else these pages do not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField, PasswordField, StringField

from models.accounts import SignInSlip, add_person
from models.addresses import AddressRefused, address_of, set_address
from models.asset_attributes import CHOICE_LABELS, attribute_specs
from models.assets import KIND_LABELS, Asset, AssetKind
from models.duties import set_boarding
from models.import_kinds import ImportKind
from models.imports import (
    IMPORT_KINDS,
    ImportFiles,
    ImportPreview,
    RowsRefused,
    import_kinds_for,
    preview_import,
    save_import,
)
from models.inventory import add_asset, asset_page, school_asset, update_asset
from models.login_sessions import end_sessions_of, sessions_of
from models.messages import SubmissionInvalid
from models.org import School
from models.passwords import (
    issue_sign_in_code,
    new_hashed_sign_in_code,
    reset_password,
    unlock_login,
)
from models.people import ONE_TIME_VALID, ROLE_LABELS, hash_password
from models.places import add_location, location_page, school_locations
from models.positions import set_school_position
from models.retirement import RetirementRefused, reactivate_asset, retire_asset
from models.spreadsheets import MAX_BYTES, MAX_ROWS, ImportRefused
from models.staff import (
    AdminRefused,
    can_grant,
    can_manage_person,
    grant_school_role,
    grantable_roles,
    managed_school,
    people_at_school,
    people_page,
    revoke_school_role,
    school_person,
    school_roles,
    set_login_active,
)
from models.stages import STAGE_LABELS, set_stage
from models.throttle import is_locked_anywhere
from webapp import db
from webapp.i18n import translate
from webapp.ids import row_id
from webapp.paging import requested_page

bp = Blueprint("admin", __name__, template_folder="templates")

# Where the report of a finished import is shown; other kinds go back to the import page.
AFTER_IMPORT: dict[str, tuple[str, dict[str, Any]]] = {
    "assets": ("admin.list_assets", {}),
    "people": ("admin.list_people", {}),
    "suppliers": ("registers.show_register", {"tab": "suppliers"}),
}
GOOD_ROWS_SHOWN = 200


@bp.context_processor
def _helpers() -> dict[str, object]:
    return {
        "role_label": role_label,
        "choice_label": choice_label,
        "import_label": import_label,
        "attribute_specs": attribute_specs,
    }


def role_label(role: str) -> str:
    msgid = ROLE_LABELS.get(role)  # type: ignore[call-overload]
    return gettext(msgid) if msgid else role


def choice_label(choice: str) -> str:
    msgid = CHOICE_LABELS.get(choice)
    return gettext(msgid) if msgid else choice


def import_label(key: str) -> str:
    kind = IMPORT_KINDS.get(key)
    return gettext(kind.label) if kind else key


def _school_or_404(school_code: str) -> School:
    """The school, if the person manages it; otherwise a 404 that says nothing more."""
    school = managed_school(db.session(), current_user, school_code)
    if school is None:
        abort(404)
    return school


def _errors(invalid: SubmissionInvalid) -> dict[str, str]:
    return {field: translate(message) for field, message in invalid.errors.items()}


def _id(value: str | None) -> int | None:
    """A chosen id from a form: None when nothing was chosen, -1 (found nowhere) for junk."""
    value = (value or "").strip()
    if not value:
        return None
    chosen = row_id(value)
    return -1 if chosen is None else chosen


class BoardingForm(FlaskForm):
    boarding = HiddenField()


class StageForm(FlaskForm):
    """Only the CSRF token: the stage is read from the request."""


class SchoolPositionForm(FlaskForm):
    """Where the school stands and its radius, as typed: the domain reads and checks them."""

    latitude = StringField()
    longitude = StringField()
    radius_m = StringField()


def _home(
    school: School,
    errors: dict[str, str] | None = None,
    status: int = 200,
    position: dict[str, str] | None = None,
) -> tuple[str, int]:
    return render_template(
        "admin/home.html",
        school=school,
        boarding_form=BoardingForm(),
        stage_form=StageForm(),
        position_form=SchoolPositionForm(),
        position=position or {},
        stage_labels=STAGE_LABELS,
        sets_stage=current_user.is_district_admin_of(school.district_id),
        errors=errors or {},
    ), status


@bp.get("/admin/<school_code>")
@login_required
def home(school_code: str) -> tuple[str, int]:
    return _home(_school_or_404(school_code))


@bp.post("/admin/<school_code>/stage")
@login_required
def set_school_stage(school_code: str) -> Response | tuple[str, int]:
    """The district's administrators set the school's stage: its orders offer its grades."""
    school = _school_or_404(school_code)
    if not current_user.is_district_admin_of(school.district_id):
        abort(404)
    if not StageForm().validate_on_submit():
        abort(400)
    session = db.begin_writing()
    try:
        set_stage(
            session, current_user, school, request.form.get("stage", ""), now=db.clock().now()
        )
    except SubmissionInvalid as invalid:
        return _home(school, _errors(invalid), 422)
    flash(gettext("Saved."), "success")
    return redirect(url_for("admin.home", school_code=school.code))


@bp.post("/admin/<school_code>/position")
@login_required
def set_school_position_page(school_code: str) -> Response | tuple[str, int]:
    """The district's administrators say where the school stands and the radius around it:
    a record filed farther away is flagged."""
    school = _school_or_404(school_code)
    if not current_user.is_district_admin_of(school.district_id):
        abort(404)
    form = SchoolPositionForm()
    if not form.validate_on_submit():
        abort(400)
    given = {
        "latitude": form.latitude.data or "",
        "longitude": form.longitude.data or "",
        "radius_m": form.radius_m.data or "",
    }
    session = db.begin_writing()
    try:
        set_school_position(
            session,
            current_user,
            school,
            given["latitude"],
            given["longitude"],
            given["radius_m"],
            now=db.clock().now(),
        )
    except SubmissionInvalid as invalid:
        return _home(school, _errors(invalid), 422, position=given)
    flash(gettext("Saved."), "success")
    return redirect(url_for("admin.home", school_code=school.code))


@bp.post("/admin/<school_code>/boarding")
@login_required
def set_school_boarding(school_code: str) -> Response:
    """Mark the school as boarding or not: its night fire patrol and its meals at breakfast and
    dinner start or stop."""
    session = db.begin_writing()
    school = _school_or_404(school_code)
    form = BoardingForm()
    if not form.validate_on_submit() or form.boarding.data not in ("yes", "no"):
        abort(400)
    boarding = form.boarding.data == "yes"
    set_boarding(session, current_user, school, boarding, now=db.clock().now())
    flash(
        gettext(
            "Marked as a boarding school: the night fire patrol, and the accompanied meal and "
            "food samples at breakfast, lunch and dinner, start with the next sweep."
        )
        if boarding
        else gettext(
            "No longer a boarding school: its night fire patrol has stopped, and the accompanied "
            "meal and food samples are due at lunch only."
        ),
        "success",
    )
    return redirect(url_for("admin.home", school_code=school.code))


# --- assets -----------------------------------------------------------------------------


class AssetForm(FlaskForm):
    """Code, name and the two choices; the kind's attributes are read by their names."""

    code = StringField()
    name = StringField()
    location = StringField()
    responsible = StringField()


@bp.get("/admin/<school_code>/assets")
@login_required
def list_assets(school_code: str) -> str:
    school = _school_or_404(school_code)
    kind = request.args.get("kind") or None
    if kind is not None and kind not in KIND_LABELS:
        abort(404)
    search = request.args.get("q", "")
    return render_template(
        "admin/assets.html",
        school=school,
        kind=kind,
        kinds=KIND_LABELS,
        search=search,
        assets=asset_page(db.session(), school, kind, search=search, page=requested_page()),
    )


@bp.route("/admin/<school_code>/assets/new/<kind>", methods=["GET", "POST"])
@login_required
def new_asset(school_code: str, kind: str) -> str | Response | tuple[str, int]:
    school = _school_or_404(school_code)
    if kind not in KIND_LABELS:
        abort(404)
    form = AssetForm()
    errors: dict[str, str] = {}
    if form.validate_on_submit():
        try:
            asset = add_asset(
                db.session(),
                school,
                kind=AssetKind(kind),
                code=form.code.data or "",
                name=form.name.data or "",
                location_id=_id(form.location.data),
                responsible_id=_id(form.responsible.data),
                attributes=request.form,
                now=db.clock().now(),
                actor=current_user,
            )
        except SubmissionInvalid as invalid:
            errors = _errors(invalid)
        else:
            flash(
                gettext("Added %(code)s. Its label is ready to print.", code=asset.code), "success"
            )
            return redirect(url_for("admin.list_assets", school_code=school.code, kind=kind))
    elif form.is_submitted():
        abort(400)
    return _asset_page(school, kind, form, errors, asset=None)


@bp.route("/admin/<school_code>/assets/<id:asset_id>", methods=["GET", "POST"])
@login_required
def edit_asset(school_code: str, asset_id: int) -> str | Response | tuple[str, int]:
    school = _school_or_404(school_code)
    asset = school_asset(db.session(), school, asset_id)
    if asset is None:
        abort(404)
    form = AssetForm()
    errors: dict[str, str] = {}
    if form.validate_on_submit():
        try:
            update_asset(
                db.session(),
                asset,
                name=form.name.data or "",
                location_id=_id(form.location.data),
                responsible_id=_id(form.responsible.data),
                attributes=request.form,
                actor=current_user,
                now=db.clock().now(),
            )
        except SubmissionInvalid as invalid:
            errors = _errors(invalid)
        else:
            flash(gettext("Saved."), "success")
            return redirect(url_for("admin.list_assets", school_code=school.code, kind=asset.kind))
    elif form.is_submitted():
        abort(400)
    else:
        form.name.data = asset.name
        form.location.data = str(asset.location_id or "")
        form.responsible.data = str(asset.responsible_id or "")
    return _asset_page(school, asset.kind, form, errors, asset=asset)


class PostForm(FlaskForm):
    """Only the CSRF token; the fields are read from request.form."""


@bp.post("/admin/<school_code>/assets/<id:asset_id>/retire")
@login_required
def retire(school_code: str, asset_id: int) -> str | Response | tuple[str, int]:
    """Retire an asset (报废/停用) with a reason, or (do=reactivate) bring it back."""
    school = _school_or_404(school_code)
    asset = school_asset(db.session(), school, asset_id)
    if asset is None:
        abort(404)
    if not PostForm().validate_on_submit():
        abort(400)
    now = db.clock().now()
    try:
        if request.form.get("do") == "reactivate":
            reactivate_asset(db.session(), current_user, asset, now=now)
            flash(gettext("Back in use. The next sweep gives it its tasks again."), "success")
        else:
            retire_asset(
                db.session(), current_user, asset, reason=request.form.get("reason", ""), now=now
            )
            flash(gettext("Retired. Its tasks stop; its records stay."), "success")
    except SubmissionInvalid as invalid:
        form = AssetForm(formdata=None, obj=None)
        form.name.data = asset.name
        form.location.data = str(asset.location_id or "")
        form.responsible.data = str(asset.responsible_id or "")
        return _asset_page(school, asset.kind, form, _errors(invalid), asset=asset)
    except RetirementRefused as refused:
        flash(translate(refused.message), "error")
    return redirect(url_for("admin.edit_asset", school_code=school.code, asset_id=asset.id))


def _asset_page(
    school: School, kind: str, form: AssetForm, errors: dict[str, str], asset: Asset | None
) -> str | tuple[str, int]:
    session = db.session()
    people = {p.id: p.display_name for p in people_at_school(session, school)}
    current = asset.responsible if asset is not None else None
    if current is not None and current.id not in people:
        # Still named on the asset although no longer at the school: keep them choosable.
        people = {current.id: current.display_name, **people}
    values: Mapping[str, str] = request.form
    if request.method == "GET":
        attributes = asset.attributes if asset is not None else {}
        values = {name: str(value) for name, value in attributes.items()}
    page = render_template(
        "admin/asset_form.html",
        school=school,
        kind=kind,
        asset=asset,
        form=form,
        values=values,
        locations=school_locations(session, school),
        people=people,
        errors=errors,
        post_form=PostForm(),
    )
    return (page, 422) if errors else page


# --- places -----------------------------------------------------------------------------


class LocationForm(FlaskForm):
    building = StringField()
    floor = StringField()
    room = StringField()


@bp.route("/admin/<school_code>/locations", methods=["GET", "POST"])
@login_required
def list_locations(school_code: str) -> str | Response | tuple[str, int]:
    school = _school_or_404(school_code)
    form = LocationForm()
    errors: dict[str, str] = {}
    if form.validate_on_submit():
        try:
            location = add_location(
                db.session(),
                school,
                building=form.building.data or "",
                floor=form.floor.data or "",
                room=form.room.data or "",
                actor=current_user,
                now=db.clock().now(),
            )
        except SubmissionInvalid as invalid:
            errors = _errors(invalid)
        else:
            flash(gettext("Added %(place)s.", place=location.label), "success")
            return redirect(url_for("admin.list_locations", school_code=school.code))
    elif form.is_submitted():
        abort(400)
    page = render_template(
        "admin/locations.html",
        school=school,
        form=form,
        locations=location_page(db.session(), school, requested_page()),
        errors=errors,
    )
    return (page, 422) if errors else page


# --- people -----------------------------------------------------------------------------


class PersonForm(FlaskForm):
    username = StringField()
    display_name = StringField()
    phone = StringField()
    password = PasswordField()
    role = StringField()


class PersonActionForm(FlaskForm):
    """One of: grant or revoke a role, switch the login off or on, set a one-time password,
    issue a sign-in code, unlock, log out everywhere."""

    do = HiddenField()
    role = StringField()
    password = PasswordField()
    address = StringField()


@bp.get("/admin/<school_code>/people")
@login_required
def list_people(school_code: str) -> str:
    school = _school_or_404(school_code)
    return render_template(
        "admin/people.html",
        school=school,
        people=people_page(db.session(), school, requested_page()),
    )


@bp.route("/admin/<school_code>/people/new", methods=["GET", "POST"])
@login_required
@db.reads_first
def new_person(school_code: str) -> str | Response | tuple[str, int]:
    """The password is hashed before the write transaction; the checks run inside it."""
    school = _school_or_404(school_code)
    form = PersonForm()
    errors: dict[str, str] = {}
    if form.validate_on_submit():
        password = form.password.data or ""
        hashed = hash_password(password) if password else None
        try:
            person = add_person(
                db.begin_writing(),
                current_user,
                school,
                username=form.username.data or "",
                display_name=form.display_name.data or "",
                phone=form.phone.data or "",
                password=password,
                role=form.role.data,
                now=db.clock().now(),
                hashed=hashed,
            )
        except SubmissionInvalid as invalid:
            errors = _errors(invalid)
        else:
            flash(gettext("Added %(name)s.", name=person.display_name), "success")
            return redirect(url_for("admin.list_people", school_code=school.code))
    elif form.is_submitted():
        abort(400)
    page = render_template(
        "admin/person_new.html",
        school=school,
        form=form,
        roles=grantable_roles(current_user, school),
        errors=errors,
    )
    return (page, 422) if errors else page


@bp.route("/admin/<school_code>/people/<id:person_id>", methods=["GET", "POST"])
@login_required
@db.reads_first
def show_person(school_code: str, person_id: int) -> str | Response | tuple[str, int]:
    """A one-time password or sign-in code is hashed before the write transaction; who may
    set it is checked inside it, on the rows as they are then."""
    school = _school_or_404(school_code)
    session = db.session()
    person = school_person(session, school, person_id)
    if person is None:
        abort(404)
    form = PersonActionForm()
    errors: dict[str, str] = {}
    if form.validate_on_submit():
        here = url_for("admin.show_person", school_code=school.code, person_id=person.id)
        password = form.password.data or ""
        hashed = hash_password(password) if form.do.data == "password" and password else None
        prepared = new_hashed_sign_in_code() if form.do.data == "code" else None
        session = db.begin_writing()
        try:
            if form.do.data == "grant":
                grant_school_role(
                    session, current_user, person, form.role.data, school, now=db.clock().now()
                )
                flash(gettext("Role granted."), "success")
            elif form.do.data == "revoke":
                revoke_school_role(
                    session, current_user, person, form.role.data, school, now=db.clock().now()
                )
                flash(gettext("Role removed."), "success")
                if not school_roles(person, school):
                    return redirect(url_for("admin.list_people", school_code=school.code))
            elif form.do.data in ("deactivate", "reactivate"):
                active = form.do.data == "reactivate"
                dropped = set_login_active(
                    session, current_user, person, active=active, now=db.clock().now()
                )
                if active:
                    flash(gettext("Login switched on."), "success")
                elif dropped:
                    flash(
                        ngettext(
                            "Login switched off: %(num)d notice still queued for them will "
                            "not be sent.",
                            "Login switched off: %(num)d notices still queued for them will "
                            "not be sent.",
                            dropped,
                        ),
                        "success",
                    )
                else:
                    flash(gettext("Login switched off."), "success")
            elif form.do.data == "password":
                reset_password(
                    session, current_user, person, password, now=db.clock().now(), hashed=hashed
                )
                flash(
                    gettext(
                        "One-time password set. Tell %(name)s in person: "
                        "they choose their own when they log in.",
                        name=person.display_name,
                    ),
                    "success",
                )
            elif form.do.data == "code":
                code = issue_sign_in_code(
                    session, current_user, person, now=db.clock().now(), prepared=prepared
                )
                slip = SignInSlip(person.username, person.display_name, code)
                return _sign_in_sheet(school, [slip])
            elif form.do.data == "wecom" and db.settings().wecom.app_enabled:
                set_address(
                    session,
                    current_user,
                    person,
                    "wecom",
                    form.address.data or "",
                    now=db.clock().now(),
                    field="wecom",
                )
                flash(gettext("WeCom user id saved."), "success")
            elif form.do.data == "end_sessions":
                end_sessions_of(session, current_user, person, now=db.clock().now())
                flash(
                    gettext("%(name)s is logged out everywhere.", name=person.display_name),
                    "success",
                )
            elif form.do.data == "unlock":
                unlock_login(session, current_user, person, now=db.clock().now())
                flash(
                    gettext("Unlocked: %(name)s can log in again.", name=person.display_name),
                    "success",
                )
            else:
                abort(400)
            return redirect(here)
        except SubmissionInvalid as invalid:
            errors = _errors(invalid)
        except AdminRefused as refused:
            errors = {"general": translate(refused.message)}
        except AddressRefused as refused:
            errors = {"wecom": translate(refused.message)}
    elif form.is_submitted():
        abort(400)
    roles = school_roles(person, school)
    wecom = address_of(session, person, "wecom")
    page = render_template(
        "admin/person.html",
        school=school,
        person=person,
        roles=roles,
        can_revoke={role: can_grant(current_user, role, school) for role in roles},
        grantable=[r for r in grantable_roles(current_user, school) if r not in roles],
        can_manage=can_manage_person(current_user, person),
        is_self=person.id == current_user.id,
        locked=is_locked_anywhere(session, person.id, now=db.clock().now()),
        open_logins=len(
            sessions_of(
                session,
                person,
                now=db.clock().now(),
                lasting=timedelta(days=db.settings().server.remember_days),
            )
        ),
        wecom_enabled=db.settings().wecom.app_enabled,
        wecom_address=form.address.data if "wecom" in errors else (wecom.address if wecom else ""),
        errors=errors,
        failed=form.do.data if errors else "",
    )
    return (page, 422) if errors else page


# --- import -----------------------------------------------------------------------------


class UploadForm(FlaskForm):
    """The kind of rows; the file is read from request.files."""

    kind = StringField()


class ConfirmForm(FlaskForm):
    """The file is carried back by its hash only, and read again from the data folder."""

    kind = HiddenField()
    sha256 = HiddenField()


def _import_files() -> ImportFiles:
    return ImportFiles(db.photo_store())


def _upload_page(
    school: School, form: UploadForm, error: str = "", status: int = 200
) -> tuple[str, int]:
    page = render_template(
        "admin/import.html",
        school=school,
        form=form,
        kinds=import_kinds_for(current_user, school),
        error=error,
        max_mb=MAX_BYTES // 2**20,
        max_rows=MAX_ROWS,
    )
    return page, status


def _preview_page(
    school: School, preview: ImportPreview, sha256: str, error: str = "", status: int = 200
) -> tuple[str, int]:
    confirm = ConfirmForm(formdata=None, kind=preview.kind.key, sha256=sha256)
    summary_columns = [c.key for c in preview.kind.columns if c.required][:3]
    page = render_template(
        "admin/preview.html",
        school=school,
        preview=preview,
        confirm=confirm,
        summary_columns=summary_columns,
        shown=preview.good[:GOOD_ROWS_SHOWN],
        error=error,
    )
    return page, status


@bp.get("/admin/<school_code>/import")
@login_required
def start_import(school_code: str) -> tuple[str, int]:
    school = _school_or_404(school_code)
    form = UploadForm(formdata=None, kind=request.args.get("kind", "assets"))
    return _upload_page(school, form)


@bp.get("/admin/<school_code>/import/<kind>.csv")
@login_required
def import_template(school_code: str, kind: str) -> Response:
    return Response(
        _import_kind_or_404(school_code, kind).template_csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=houqin-{kind}.csv"},
    )


XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _import_kind_or_404(school_code: str, kind: str) -> ImportKind:
    """An import the person may run at this school; any other is not there for them."""
    import_kind = import_kinds_for(current_user, _school_or_404(school_code)).get(kind)
    if import_kind is None:
        abort(404)
    return import_kind


@bp.get("/admin/<school_code>/import/<kind>.xlsx")
@login_required
def import_template_xlsx(school_code: str, kind: str) -> Response:
    """The template as Excel: an example row, the allowed values, a sheet explaining each."""
    return Response(
        _import_kind_or_404(school_code, kind).template_xlsx(),
        mimetype=XLSX_MIMETYPE,
        headers={"Content-Disposition": f"attachment; filename=houqin-{kind}.xlsx"},
    )


@bp.post("/admin/<school_code>/import/preview")
@login_required
@db.reads_first
def preview_upload(school_code: str) -> tuple[str, int]:
    school = _school_or_404(school_code)
    form = UploadForm()
    if not form.validate_on_submit():
        abort(400)
    kind = form.kind.data or ""
    if kind not in import_kinds_for(current_user, school):
        return _upload_page(school, form, gettext("Choose what to import."), 422)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _upload_page(school, form, gettext("Choose a file."), 422)
    try:
        data = upload.stream.read(MAX_BYTES + 1)
    finally:
        upload.close()
    try:
        preview = preview_import(
            db.session(),
            kind,
            school=school,
            actor=current_user,
            data=data,
            now=db.clock().now(),
        )
    except ImportRefused as refused:
        return _upload_page(school, form, translate(refused.message), 422)
    # Only a file that can be imported as it is waits for its confirmation.
    sha256 = _import_files().put(data) if preview.rows and not preview.refused else ""
    return _preview_page(school, preview, sha256)


@bp.post("/admin/<school_code>/import/confirm")
@login_required
@db.reads_first
def confirm_import(school_code: str) -> str | Response | tuple[str, int]:
    """Check the file while reading only, then save it in a short write transaction."""
    school = _school_or_404(school_code)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    kind, sha256 = form.kind.data or "", form.sha256.data or ""
    upload_form = UploadForm(formdata=None, kind=kind)
    files = _import_files()
    data = files.get(sha256)
    if kind not in IMPORT_KINDS or data is None:
        message = gettext("The uploaded file is no longer here. Upload it again.")
        return _upload_page(school, upload_form, message, 422)
    now = db.clock().now()
    try:
        preview = preview_import(
            db.session(), kind, school=school, actor=current_user, data=data, now=now
        )
        done = save_import(
            db.begin_writing(), preview, school=school, actor=current_user, now=now, file=sha256
        )
    except RowsRefused as refused:
        return _preview_page(school, refused.preview, "", translate(refused.message), 422)
    except ImportRefused as refused:
        return _upload_page(school, upload_form, translate(refused.message), 422)
    files.discard(sha256)
    flash(ngettext("Imported %(num)d row.", "Imported %(num)d rows.", done.count), "success")
    if done.sign_in:
        return _sign_in_sheet(school, done.sign_in)
    endpoint, arguments = AFTER_IMPORT.get(kind, ("admin.start_import", {}))
    return redirect(url_for(endpoint, school_code=school.code, **arguments))


def _sign_in_sheet(school: School, slips: list[SignInSlip]) -> Response:
    """One-time sign-in codes, shown once: a page to print and cut, one slip per person."""
    page = render_template(
        "admin/sign_in_sheet.html",
        school=school,
        slips=slips,
        login_url=db.settings().server.base_url.rstrip("/") + url_for("auth.login"),
        expires=db.clock().now() + ONE_TIME_VALID,
    )
    return Response(page, mimetype="text/html", headers={"Cache-Control": "no-store"})
