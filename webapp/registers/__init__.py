"""Registers: staff certificates, the district's suppliers, insurances, extinguishers' service
and scrap dates, what expires soon.

Anyone with a role at a school reads its registers, and opens the papers `_visible_documents`
(models/documents.py) lets them: a colleague's certificate shows as its kind and status only;
its administrators (and the district's) add and renew documents; district administrators keep
the supplier register. Everyone else gets a 404 on the forms, as if they were not there.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import StringField, TextAreaField

from models import documents as docs
from models import extinguishers as ext
from models import suppliers as sup
from models.assets import Asset, AssetKind
from models.messages import SubmissionInvalid
from models.org import School
from models.people import ROLE_LABELS, visible_school
from models.stored_files import DocumentFile
from models.supplier_licences import unlicensed_for_categories
from webapp import db
from webapp.i18n import translate
from webapp.stored_files import stored_file_response

bp = Blueprint("registers", __name__, template_folder="templates")

PAGE_SIZE = 20
# Ids in URLs stay within a PostgreSQL integer, so a huge number is a 404, not an error.
TABS = {
    "people": _l("Staff certificates"),
    "suppliers": _l("Suppliers"),
    "insurance": _l("Insurance"),
    "extinguishers": _l("Extinguishers"),
    "expiring": _l("Expiring"),
}
HOLDER_ASSET_KINDS = (AssetKind.BUS, AssetKind.CANTEEN)


@bp.context_processor
def _labels() -> dict[str, Any]:
    """The register's labels, translated for the reader; only this blueprint's pages see them."""

    def label(table: dict[Any, str]) -> Any:
        return lambda key: gettext(table[key]) if key in table else key

    return {
        "doc_kind_label": label(docs.DOCUMENT_KIND_LABELS),
        "insurance_label": label(docs.INSURANCE_LABELS),
        "status_label": label(docs.STATUS_LABELS),
        "category_label": label(sup.SUPPLY_CATEGORIES),
        "role_label": label(ROLE_LABELS),
    }


class DocumentForm(FlaskForm):
    """Plain text fields: the domain checks every value and says what is wrong with it."""

    holder = StringField()
    kind = StringField()
    title = StringField()
    number = StringField()
    insurance_type = StringField()
    issued_on = StringField()
    expires_on = StringField()


class SupplierForm(FlaskForm):
    name = StringField()
    contact = StringField()
    phone = StringField()
    brands = TextAreaField()


def _school_or_404(school_code: str) -> School:
    school = visible_school(db.session(), current_user, school_code)
    if school is None:
        abort(404)
    return school


def _managed_school_or_404(school_code: str) -> School:
    school = _school_or_404(school_code)
    if not current_user.can_manage_school(school):
        abort(404)
    return school


def _supplier_school_or_404(school_code: str) -> School:
    """The school whose district's suppliers a district administrator is editing."""
    school = _school_or_404(school_code)
    if not sup.is_district_admin(current_user, school.district_id):
        abort(404)
    return school


def _document_or_404(school: School, document_id: int) -> docs.Document:
    """A document the reader may see, reached through a school it belongs to."""
    document = docs.visible_document(db.session(), current_user, document_id)
    if document is None or document.district_id != school.district_id:
        abort(404)
    if document.school_id is not None and document.school_id != school.id:
        abort(404)
    return document


def _today(school: School) -> date:
    return docs.local_today(db.clock().now(), school.district)


def _page_of(items: list[Any]) -> tuple[int, list[Any], int, int]:
    """One small page of a list, for phones: (total, items, page, pages)."""
    pages = max(1, -(-len(items) // PAGE_SIZE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    return len(items), items[(page - 1) * PAGE_SIZE : page * PAGE_SIZE], page, pages


def _shares(school: School, today: date) -> list[tuple[str, str, int, int]]:
    """(role, kind, with a valid certificate, staff) for each certificate a role needs."""
    return [
        (share.role.value, share.kind.value, share.valid, share.staff)
        for share in docs.certificate_shares(db.session(), school.id, today)
    ]


@bp.get("/registers/<school_code>")
@login_required
def show_register(school_code: str) -> str:
    school = _school_or_404(school_code)
    tab = request.args.get("tab", "people")
    if tab not in TABS:
        abort(404)
    session = db.session()
    today = _today(school)
    visible = docs.visible_document_ids(session, current_user, [school.id])
    context: dict[str, Any] = {"visible": visible}
    if tab == "people":
        context["shares"] = _shares(school, today)
        context["total"], context["items"], context["page"], context["pages"] = _page_of(
            docs.people_register(session, school, today)
        )
    elif tab == "suppliers":
        category = request.args.get("category") or None
        if category is not None and category not in sup.SUPPLY_CATEGORIES:
            abort(404)
        is_admin = sup.is_district_admin(current_user, school.district_id)
        suppliers = sup.suppliers_for(
            session, school.district_id, category, active_only=not is_admin
        )
        context["category"] = category
        context["total"], context["items"], context["page"], context["pages"] = _page_of(suppliers)
        context["unlicensed"] = unlicensed_for_categories(session, context["items"], today)
    elif tab == "extinguishers":
        context["total"], context["items"], context["page"], context["pages"] = _page_of(
            ext.extinguisher_register(session, school, today)
        )
    elif tab == "insurance":
        context["policies"] = [
            d for d in docs.insurance_policies(session, school) if d.id in visible
        ]
        context["missing"] = docs.missing_insurances(session, school, today)
    else:
        context["total"], context["items"], context["page"], context["pages"] = _page_of(
            docs.expiring_documents(session, current_user, today, school=school)
        )
    return render_template(
        "registers/register.html",
        school=school,
        tab=tab,
        tabs=TABS,
        today=today,
        can_manage=current_user.can_manage_school(school),
        manages_suppliers=sup.is_district_admin(current_user, school.district_id),
        categories=sup.SUPPLY_CATEGORIES,
        **context,
    )


@bp.get("/registers/<school_code>/documents/<id:document_id>")
@login_required
def show_document(school_code: str, document_id: int) -> str:
    school = _school_or_404(school_code)
    document = _document_or_404(school, document_id)
    return render_template(
        "registers/document.html",
        school=school,
        document=document,
        history=docs.document_history(db.session(), document),
        today=_today(school),
        can_manage=docs.can_manage_document(current_user, document),
    )


def _upload() -> DocumentFile | None:
    """The scan sent with the form, read and closed at once."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return None
    try:
        return DocumentFile(
            data=upload.read(), filename=upload.filename, content_type=upload.mimetype or ""
        )
    finally:
        upload.close()


def _holder_choices(school: School) -> list[tuple[str, list[tuple[str, str]]]]:
    """The holders a form offers, in groups: the school, its people, buses and canteens, and
    for district administrators the district's suppliers."""
    session = db.session()
    groups = [
        (gettext("The school itself"), [("school", school.name)]),
        (
            gettext("People"),
            [
                (docs.holder_key(person), person.display_name)
                for person, _roles in docs.school_staff(session, school)
            ],
        ),
        (
            gettext("Buses and canteens"),
            [
                (docs.holder_key(asset), f"{asset.code} {asset.name}")
                for asset in session.scalars(
                    select(Asset)
                    .where(Asset.school_id == school.id, Asset.kind.in_(HOLDER_ASSET_KINDS))
                    .order_by(Asset.kind, Asset.code)
                )
            ],
        ),
    ]
    if sup.is_district_admin(current_user, school.district_id):
        groups.append(
            (
                gettext("Suppliers"),
                [
                    (docs.holder_key(s), s.name)
                    for s in sup.suppliers_for(session, school.district_id, active_only=False)
                ],
            )
        )
    return [(name, options) for name, options in groups if options]


def _document_page(
    school: School,
    form: DocumentForm,
    errors: dict[str, str],
    old: docs.Document | None = None,
) -> str | tuple[str, int]:
    page = render_template(
        "registers/document_form.html",
        school=school,
        form=form,
        errors=errors,
        old=old,
        holders=_holder_choices(school) if old is None else [],
        kinds=docs.DOCUMENT_KIND_LABELS,
        insurance_types=docs.INSURANCE_LABELS,
    )
    return (page, 422) if errors else page


@bp.route("/registers/<school_code>/documents/new", methods=["GET", "POST"])
@login_required
def add_document(school_code: str) -> str | Response | tuple[str, int]:
    school = _managed_school_or_404(school_code)
    form = DocumentForm()
    if request.method == "GET":
        form.holder.data = request.args.get("holder", "school")
        form.kind.data = request.args.get("kind", "")
        return _document_page(school, form, {})
    if not form.validate_on_submit():
        abort(400)
    session = db.session()
    errors: dict[str, str] = {}
    try:
        document = docs.add_document(
            session,
            current_user,
            school=school,
            holder=docs.find_holder(session, form.holder.data or ""),
            upload=_upload(),
            store=db.photo_store(),
            now=db.clock().now(),
            keep_exif=db.settings().storage.keep_exif,
            **_document_fields(form, with_kind=True),
        )
    except SubmissionInvalid as invalid:
        errors = {k: translate(m) for k, m in invalid.errors.items()}
    except sup.RegisterRefused as refused:
        errors = {"holder": translate(refused.message)}
    if errors:
        return _document_page(school, form, errors)
    flash(gettext("Saved."), "success")
    return redirect(
        url_for("registers.show_document", school_code=school.code, document_id=document.id)
    )


def _document_fields(form: DocumentForm, *, with_kind: bool) -> dict[str, Any]:
    fields = {
        "title": form.title.data or "",
        "number": form.number.data or "",
        "insurance_type": form.insurance_type.data or None,
        "issued_on": form.issued_on.data or None,
        "expires_on": form.expires_on.data or None,
    }
    if with_kind:
        fields["kind"] = form.kind.data or ""
    return fields


@bp.route(
    "/registers/<school_code>/documents/<id:document_id>/renew",
    methods=["GET", "POST"],
)
@login_required
def renew_document(school_code: str, document_id: int) -> str | Response | tuple[str, int]:
    school = _school_or_404(school_code)
    old = _document_or_404(school, document_id)
    if not docs.can_manage_document(current_user, old) or not old.is_current:
        abort(404)
    form = DocumentForm()
    if request.method == "GET":
        form.title.data = old.title
        form.number.data = old.number
        form.insurance_type.data = old.insurance_type or ""
        return _document_page(school, form, {}, old)
    if not form.validate_on_submit():
        abort(400)
    errors: dict[str, str] = {}
    try:
        new = docs.renew_document(
            db.session(),
            current_user,
            old,
            upload=_upload(),
            store=db.photo_store(),
            now=db.clock().now(),
            keep_exif=db.settings().storage.keep_exif,
            **_document_fields(form, with_kind=False),
        )
    except SubmissionInvalid as invalid:
        errors = {k: translate(m) for k, m in invalid.errors.items()}
    except sup.RegisterRefused as refused:
        errors = {"general": translate(refused.message)}
    if errors:
        return _document_page(school, form, errors, old)
    flash(gettext("Renewed. The old document is kept in the history."), "success")
    return redirect(url_for("registers.show_document", school_code=school.code, document_id=new.id))


def _file_response(document_id: int, *, thumbnail: bool) -> Response:
    """A document's scan, only to people who may see the document's school or district.

    A PDF is the bytes as uploaded, so it is only ever saved, never opened in the app's own
    origin (X-Content-Type-Options: nosniff is on every response); a photo was re-encoded
    when stored and is shown."""
    document = docs.visible_document(db.session(), current_user, document_id)
    if document is None:
        abort(404)
    if document.photo is not None:
        photo = document.photo
        return stored_file_response(
            photo.thumb_key if thumbnail else photo.storage_key,
            content_type="image/jpeg",
            etag=photo.sha256,
        )
    if document.file is None or thumbnail:
        abort(404)
    stored = document.file
    return stored_file_response(
        stored.storage_key,
        content_type=stored.content_type,
        etag=stored.sha256,
        download_name=f"document-{document.id}.pdf",
        as_attachment=True,
    )


@bp.get("/registers/documents/<id:document_id>")
@login_required
def find_document(document_id: int) -> Response:
    """A document's page under a school the reader sees: the link of a district-wide document's
    notice, and of notices queued before links named the school."""
    session = db.session()
    document = docs.visible_document(session, current_user, document_id)
    school = docs.school_to_show_document(session, current_user, document) if document else None
    if document is None or school is None:
        abort(404)
    return redirect(
        url_for("registers.show_document", school_code=school.code, document_id=document.id)
    )


@bp.get("/registers/documents/<id:document_id>/file")
@login_required
def document_file(document_id: int) -> Response:
    return _file_response(document_id, thumbnail=False)


@bp.get("/registers/documents/<id:document_id>/thumb.jpg")
@login_required
def document_thumbnail(document_id: int) -> Response:
    return _file_response(document_id, thumbnail=True)


def _supplier_page(
    school: School,
    form: SupplierForm,
    errors: dict[str, str],
    chosen: list[str],
    active: bool,
    supplier: sup.Supplier | None = None,
) -> str | tuple[str, int]:
    page = render_template(
        "registers/supplier_form.html",
        school=school,
        form=form,
        errors=errors,
        chosen=chosen,
        active=active,
        supplier=supplier,
        categories=sup.SUPPLY_CATEGORIES,
    )
    return (page, 422) if errors else page


def _supplier_fields(form: SupplierForm) -> dict[str, Any]:
    return {
        "name": form.name.data or "",
        "contact": form.contact.data or "",
        "phone": form.phone.data or "",
        "categories": request.form.getlist("categories"),
        "designated_brands": sup.split_list(form.brands.data or ""),
    }


def _back_to_suppliers(school: School) -> Response:
    return redirect(url_for("registers.show_register", school_code=school.code, tab="suppliers"))


@bp.route("/registers/<school_code>/suppliers/new", methods=["GET", "POST"])
@login_required
def add_supplier(school_code: str) -> str | Response | tuple[str, int]:
    school = _supplier_school_or_404(school_code)
    form = SupplierForm()
    if request.method == "GET":
        return _supplier_page(school, form, {}, [], True)
    if not form.validate_on_submit():
        abort(400)
    fields = _supplier_fields(form)
    try:
        sup.add_supplier(
            db.session(), current_user, school.district_id, now=db.clock().now(), **fields
        )
    except SubmissionInvalid as invalid:
        errors = {k: translate(m) for k, m in invalid.errors.items()}
        return _supplier_page(school, form, errors, fields["categories"], True)
    flash(gettext("Saved."), "success")
    return _back_to_suppliers(school)


@bp.route(
    "/registers/<school_code>/suppliers/<id:supplier_id>/edit",
    methods=["GET", "POST"],
)
@login_required
def edit_supplier(school_code: str, supplier_id: int) -> str | Response | tuple[str, int]:
    school = _supplier_school_or_404(school_code)
    supplier = sup.visible_supplier(db.session(), current_user, supplier_id)
    if supplier is None or supplier.district_id != school.district_id:
        abort(404)
    form = SupplierForm()
    if request.method == "GET":
        form.name.data = supplier.name
        form.contact.data = supplier.contact
        form.phone.data = supplier.phone
        form.brands.data = "\n".join(supplier.designated_brands)
        return _supplier_page(
            school, form, {}, list(supplier.categories), supplier.active, supplier
        )
    if not form.validate_on_submit():
        abort(400)
    fields = _supplier_fields(form)
    active = request.form.get("active") == "1"
    try:
        sup.update_supplier(
            db.session(), current_user, supplier, active=active, now=db.clock().now(), **fields
        )
    except SubmissionInvalid as invalid:
        errors = {k: translate(m) for k, m in invalid.errors.items()}
        return _supplier_page(school, form, errors, fields["categories"], active, supplier)
    flash(gettext("Saved."), "success")
    return _back_to_suppliers(school)
