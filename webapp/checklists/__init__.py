"""Checklists for district administrators: read the district's templates (the built-in ones
and its own), edit one in a form or as TOML for the district, keep versions. Another
district's own checklists are not there (404)."""

from __future__ import annotations

import tomllib
from collections.abc import Callable

import tomli_w
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import TextAreaField

from models.assets import KIND_LABELS, AssetKind
from models.checklist_drafts import (
    ITEM_TYPE_LABELS,
    ChecklistDraft,
    apply_action,
    draft_from_form,
    draft_from_spec,
    field_of,
    free_checklist_key,
    new_draft,
    spec_from_draft,
)
from models.checklist_roles import (
    ADMIN_ROLES,
    RolesRefused,
    filing_roles,
    is_overridden,
    set_filing_roles,
)
from models.checklists import (
    MINIMUM_FREQUENCY_LABELS,
    SEVERITIES,
    FormTemplate,
    TemplateError,
    latest_template,
    latest_templates,
    may_edit_checklists,
    save_checklist,
    spec_from_json,
    template_versions,
)
from models.people import ROLE_LABELS, Role
from webapp import db
from webapp.i18n import current_locale, severity_label, translate

bp = Blueprint("checklists", __name__, template_folder="templates")

NEW_TEMPLATE = """key = "new_checklist"
kind = "school_office"
title = { zh_CN = "新检查表", en = "New checklist" }

[[items]]
key = "first_item"
type = "pass_fail"
label = { zh_CN = "第一项", en = "First item" }
fail_label = { zh_CN = "第一项不合格", en = "First item failed" }
"""


class ChecklistForm(FlaskForm):
    source = TextAreaField()


class RolesForm(FlaskForm):
    """The roles are read as checkboxes named `roles`; this carries the CSRF token."""


def _district_admin_only() -> int:
    """A district's checklists reach every school of it, so only its administrators change
    them: the district they administer."""
    district_id = _district_id()
    if district_id is None or not current_user.is_district_admin_of(district_id):
        abort(404)
    return district_id


@bp.get("/checklists")
@login_required
def list_checklists() -> str:
    return render_template(
        "checklists/list.html",
        templates=latest_templates(db.session(), _district_id()),
        can_edit=may_edit_checklists(current_user),
        locale=current_locale(),
    )


@bp.get("/checklists/<key>")
@login_required
def show_checklist(key: str) -> str:
    versions = _versions(key)
    if not versions:
        abort(404)
    return _show(versions)


def _versions(key: str) -> list[FormTemplate]:
    return template_versions(db.session(), key, district_id=_district_id())


def _district_id() -> int | None:
    """The district whose choices a person sees: the first they administer, else their own."""
    grants = sorted(current_user.grants, key=lambda g: g.role != Role.DISTRICT_ADMIN)
    return grants[0].district_id if grants else None


def _show(versions: list[FormTemplate], roles_error: str = "") -> str:
    template = versions[0]
    district_id = _district_id()
    roles = filing_roles(db.session(), district_id, template) if district_id is not None else ()
    page = render_template(
        "checklists/show.html",
        template=template,
        versions=versions,
        can_edit=may_edit_checklists(current_user),
        roles=[gettext(ROLE_LABELS[r]) for r in roles],
        chosen=set(roles),
        overridden=district_id is not None
        and is_overridden(db.session(), district_id, template.key),
        choosable=[(r, gettext(ROLE_LABELS[r])) for r in Role if r not in ADMIN_ROLES],
        roles_form=RolesForm(),
        roles_error=roles_error,
        locale=current_locale(),
    )
    return page


@bp.post("/checklists/<key>/roles")
@login_required
def save_roles(key: str) -> str | Response | tuple[str, int]:
    """A district administrator chooses who files this checklist in their district."""
    district_id = _district_admin_only()
    template = latest_template(db.session(), key, district_id=district_id)
    if template is None:
        abort(404)
    form = RolesForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        set_filing_roles(
            db.session(),
            current_user,
            district_id=district_id,
            template=template,
            roles=request.form.getlist("roles"),
            now=db.clock().now(),
        )
    except RolesRefused as refused:
        return _show(_versions(key), translate(refused.message)), 422
    flash(gettext("Saved who files this checklist."), "success")
    return redirect(url_for("checklists.show_checklist", key=key))


@bp.route("/checklists/<key>/edit", methods=["GET", "POST"])
@login_required
def edit_checklist(key: str) -> str | Response | tuple[str, int]:
    district_id = _district_admin_only()
    current = latest_template(db.session(), key, district_id=district_id)
    if current is None:
        abort(404)
    return _edit(district_id, current.key, tomli_w.dumps(current.spec.to_json()))


@bp.route("/checklists/new", methods=["GET", "POST"])
@login_required
def new_checklist() -> str | Response | tuple[str, int]:
    return _edit(_district_admin_only(), None, NEW_TEMPLATE)


def _edit(district_id: int, key: str | None, initial: str) -> str | Response | tuple[str, int]:
    """Save the TOML as a new version when it is valid; otherwise say where it is wrong."""
    form = ChecklistForm()
    error = ""
    if form.validate_on_submit():
        source = form.source.data or ""
        try:
            spec = spec_from_json(tomllib.loads(source), gettext("the checklist"))
            saved = save_checklist(
                db.session(),
                current_user,
                spec,
                district_id=district_id,
                editing=key,
                now=db.clock().now(),
            )
        except tomllib.TOMLDecodeError as exc:
            error = gettext("Not valid TOML: %(problem)s", problem=str(exc))
        except TemplateError as exc:
            error = exc.text(gettext, current_locale())
        else:
            flash(gettext("Saved as version %(version)d.", version=saved.version), "success")
            return redirect(url_for("checklists.show_checklist", key=saved.key))
    elif not form.is_submitted():
        form.source.data = initial
    page = render_template("checklists/edit.html", form=form, key=key, error=error)
    return (page, 422) if error else page


@bp.route("/checklists/new/form", methods=["GET", "POST"])
@login_required
def build_new_checklist() -> str | Response | tuple[str, int]:
    """A new checklist written in a form, for a logistics officer who does not write TOML."""
    district_id = _district_admin_only()
    return _build(
        district_id,
        None,
        lambda: new_draft(free_checklist_key(db.session(), district_id), AssetKind.CANTEEN),
    )


@bp.route("/checklists/<key>/form", methods=["GET", "POST"])
@login_required
def build_checklist(key: str) -> str | Response | tuple[str, int]:
    """The checklist's next version, written in the form; saved exactly as its TOML would be."""
    district_id = _district_admin_only()
    current = latest_template(db.session(), key, district_id=district_id)
    if current is None:
        abort(404)
    return _build(district_id, key, lambda: draft_from_spec(current.spec))


def _build(
    district_id: int, key: str | None, initial: Callable[[], ChecklistDraft]
) -> str | Response | tuple[str, int]:
    """Each button of the form sends the whole draft: add, move or remove an item, or save it."""
    form = RolesForm()
    errors: dict[str, str] = {}
    if not form.is_submitted():
        draft = initial()
    else:
        draft = draft_from_form(request.form)
        if key is not None:
            draft.key = key
        action = str(request.form.get("action", "refresh"))
        if not form.validate():  # CSRFProtect has checked the token already; this is its twin
            abort(400)
        if action == "save":
            try:
                spec = spec_from_draft(draft, gettext("the checklist"))
                saved = save_checklist(
                    db.session(),
                    current_user,
                    spec,
                    district_id=district_id,
                    editing=key,
                    now=db.clock().now(),
                )
            except TemplateError as exc:
                errors[field_of(exc, draft)] = exc.text(gettext, current_locale())
            else:
                flash(gettext("Saved as version %(version)d.", version=saved.version), "success")
                return redirect(url_for("checklists.show_checklist", key=saved.key))
        else:
            draft = apply_action(draft, action)
    page = render_template(
        "checklists/build.html",
        form=form,
        key=key,
        draft=draft,
        errors=errors,
        locale=current_locale(),
        kinds=[(kind.value, gettext(label)) for kind, label in KIND_LABELS.items()],
        roles=[(role.value, gettext(ROLE_LABELS[role])) for role in Role],
        types=[(t, gettext(label)) for t, label in ITEM_TYPE_LABELS.items()],
        severities=[(s, severity_label(s)) for s in SEVERITIES],
        minimums=[(m, gettext(label)) for m, label in MINIMUM_FREQUENCY_LABELS.items()],
        answer_labels={
            "pass": gettext("Pass"),
            "fail": gettext("Fail"),
            "yes": gettext("Yes"),
            "no": gettext("No"),
        },
    )
    return (page, 422) if errors else page
