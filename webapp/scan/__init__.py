"""Where a scanned label lands: the asset page and the record form."""

from __future__ import annotations

import uuid
from dataclasses import replace

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response
from wtforms import BooleanField, HiddenField

from models.actions import open_actions_at_asset
from models.assets import Asset, AssetKind, Label, LabelPosition, find_label_by_token
from models.checklist_roles import NotYoursToFile, check_may_file, fileable, most_urgent_first
from models.checklists import (
    Condition,
    FormTemplate,
    ItemSpec,
    latest_template,
    templates_for_kind,
)
from models.extinguishers import asset_life
from models.figures import records_with_own_figures
from models.health import (
    DUTY,
    OFF_DUTY,
    ON_DUTY,
    RosterEntry,
    field_name,
    roster_for,
    roster_item,
    roster_passing_answers,
)
from models.messages import DomainError, SubmissionInvalid
from models.photos import TAKEN_AT_SUFFIX, PhotoRejected, prepare_photo
from models.positions import phone_position
from models.records import (
    AlreadyFiled,
    AlreadySent,
    Channel,
    NotAllowed,
    Upload,
    directory_for,
    last_record,
    recent_record_lines,
    submit_record,
)
from models.trips import TripRefused, check_rear, trip_awaiting_rear_check, trip_refusal
from webapp import db, drafts
from webapp.i18n import current_locale, translate
from webapp.records import figures
from webapp.samples import DisposeForm, samples_shown
from webapp.scan import public

bp = Blueprint("scan", __name__, template_folder="templates")


class RearCheckForm(FlaskForm):
    """Only the CSRF token: scanning the rear label and pressing the button is the check."""


class RecordForm(FlaskForm):
    """The answers are read from the template's items; this carries the CSRF token and key."""

    submission_key = HiddenField()
    # Ticked to file the same check a second time in its window (see AlreadyFiled).
    confirm_repeat = BooleanField()


def _uploads() -> list[Upload]:
    """The photos sent with the form, read and closed at once, each with the capture time the
    phone read from it (`<item>__taken_at`, one per photo, in order; js/photos.js)."""
    uploads = []
    seen: dict[str, int] = {}
    for name, file in request.files.items(multi=True):
        try:
            if file.filename:
                index = seen.get(name, 0)
                seen[name] = index + 1
                uploads.append(
                    Upload(item_key=name, data=file.read(), taken_at=taken_at(name, index))
                )
        finally:
            file.close()
    return uploads


def taken_at(name: str, index: int, values: MultiDict[str, str] | None = None) -> str | None:
    """The capture time sent beside the `index`-th photo of input `name`, as sent."""
    sent = (request.form if values is None else values).getlist(f"{name}{TAKEN_AT_SUFFIX}")
    return sent[index] if index < len(sent) else None


def _prepared(uploads: list[Upload]) -> list[Upload]:
    """Photos decoded, resized and written now, before the write lock; a bad one is left as
    it came, for the domain to refuse with its message."""
    keep_exif = db.settings().storage.keep_exif
    store = db.photo_store()
    prepared = []
    for upload in uploads:
        try:
            prepared.append(
                replace(upload, processed=prepare_photo(upload.data, store, keep_exif=keep_exif))
            )
        except PhotoRejected:
            prepared.append(upload)
    return prepared


def _label_or_404(token: str) -> Label:
    label = find_label_by_token(db.session(), token)
    if label is None or not current_user.can_see_school(label.asset.school):
        abort(404)
    return label


def _asset_or_404(token: str) -> Asset:
    """The asset of a label on it; a rear label (车尾) files nothing but its own check."""
    label = _label_or_404(token)
    if label.position == LabelPosition.REAR:
        abort(404)
    return label.asset


@bp.get("/s/<token>")
def show_asset(token: str) -> str | tuple[str, int]:
    if not current_user.is_authenticated:
        # Someone without an account (a student, a parent): the asset's name and 报告问题.
        return public.show_public(token)
    label = _label_or_404(token)
    if label.position == LabelPosition.REAR:
        return _rear_page(label.asset, token, RearCheckForm())
    asset = label.asset
    session = db.session()
    applying = templates_for_kind(session, asset.school.district_id, asset.kind)
    mine = fileable(session, current_user, asset, applying)
    records = recent_record_lines(session, asset.id, limit=3)
    now = db.clock().now()
    return render_template(
        "scan/asset.html",
        asset=asset,
        token=token,
        responsible_phone=(
            asset.responsible.phone
            if asset.responsible is not None and current_user.may_see_phone_of(asset.responsible)
            else None
        ),
        templates=most_urgent_first(session, asset, mine, now=now),
        not_yours=bool(applying) and not mine,
        records=records,
        # An extinguisher's dates stand once, at the top: its records have no figure of their own.
        figures=figures(records_with_own_figures(session, records)),
        life=asset_life(session, asset) if asset.kind == AssetKind.EXTINGUISHER else None,
        today=asset.school.district.local(now).date(),
        actions=open_actions_at_asset(session, current_user, asset.id),
        # An arrival filed at this label still waits for the escort's scan at the back.
        rear_waiting=asset.kind == AssetKind.BUS
        and trip_awaiting_rear_check(session, asset, now) is not None,
        samples=samples_shown(asset) if asset.kind == "canteen" else [],
        dispose_form=DisposeForm() if asset.kind == "canteen" else None,
        now=now,
        locale=current_locale(),
    )


@bp.get("/pending")
def show_pending() -> str:
    """等待发送: the records and scans kept on this phone, listed by js/offline.js."""
    return render_template("scan/pending.html")


@bp.get("/offline")
def show_offline() -> str:
    """What the service worker shows for a label it has not kept, with no network."""
    return render_template("scan/offline.html")


@bp.route("/s/<token>/report", methods=["GET", "POST"])
@db.reads_first
def report_problem(token: str) -> Response | str | tuple[str, int]:
    """报告问题 without an account; someone logged in goes to the asset's own page."""
    if current_user.is_authenticated:
        return redirect(url_for("scan.show_asset", token=token))
    return public.report_problem(token)


@bp.get("/s/<token>/reported")
def show_reported(token: str) -> Response | str:
    return public.show_reported(token)


def _rear_page(asset: Asset, token: str, form: RearCheckForm, error: str = "") -> str:
    """The label at the back of a bus: the escort, having walked every row, confirms here."""
    trip = trip_awaiting_rear_check(db.session(), asset, db.clock().now())
    return render_template(
        "scan/rear.html", asset=asset, token=token, trip=trip, form=form, error=error
    )


@bp.post("/s/<token>/rear")
@login_required
def confirm_rear(token: str) -> Response | tuple[str, int]:
    """Walked to the back, no child left: the trip's arrival completes."""
    label = _label_or_404(token)
    if label.position != LabelPosition.REAR:
        abort(404)
    form = RearCheckForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        check_rear(db.session(), current_user, label.asset, now=db.clock().now())
    except NotYoursToFile as refused:
        return _refused(label.asset, token, refused)
    except TripRefused as refused:
        return _rear_page(label.asset, token, form, translate(refused.message)), 422
    flash(gettext("Arrival complete: the bus was checked to the back row."), "success")
    return redirect(url_for("trips.show_trips", school_code=label.asset.school.code))


def _roster(
    template: FormTemplate, asset: Asset
) -> list[tuple[RosterEntry, str, list[ItemSpec]]] | None:
    """The canteen staff a health check lists, each with their certificate in words and the
    fields asked of them (named for that worker: staff.12.duty)."""
    roster = roster_for(db.session(), template.spec, asset, db.clock().now())
    if roster is None:
        return None
    item = roster_item(template.spec)
    if item is None:
        return [(entry, translate(entry.message()), []) for entry in roster]
    fields = template.spec.roster_fields(item.key)

    def named(entry: RosterEntry, field: ItemSpec) -> ItemSpec:
        # Past the first question, asked only of those at work: not required in the browser.
        duty = field_name(item.key, entry.person_id, DUTY)
        shown = None if field.key == DUTY else Condition(duty, (ON_DUTY,))
        return replace(field, key=field_name(item.key, entry.person_id, field.key), show_if=shown)

    return [
        (entry, translate(entry.message()), [named(entry, f) for f in fields]) for entry in roster
    ]


def _template_or_404(asset: Asset, key: str) -> FormTemplate:
    template = latest_template(db.session(), key, district_id=asset.school.district_id)
    if template is None or template.kind != asset.kind:
        abort(404)
    return template


@bp.route("/s/<token>/record/<template_key>", methods=["GET", "POST"])
@login_required
@db.reads_first
def file_record(token: str, template_key: str) -> Response | tuple[str, int]:
    asset = _asset_or_404(token)
    if asset.retired_at is not None:
        return redirect(url_for("scan.show_asset", token=token))
    template = _template_or_404(asset, template_key)
    try:
        check_may_file(db.session(), current_user, asset, template)
    except NotYoursToFile as refused:
        return _refused(asset, token, refused)
    form = RecordForm()
    errors: dict[str, str] = {}
    general_error = ""
    # Answers kept when the page or the login had expired (webapp/drafts.py).
    draft_id = request.values.get("draft") or None
    draft = drafts.load(draft_id, request.path)
    values = request.form if request.method == "POST" else MultiDict()
    all_passed = request.method == "POST" and bool(request.form.get("all_pass"))
    repeat = ""
    if request.method == "GET":
        form.submission_key.data = uuid.uuid4().hex
        if draft is not None:
            values = draft.values
            form.submission_key.data = draft.values.get("submission_key") or uuid.uuid4().hex
        # Said before the form is filled: a bus that has no pre-trip check, or no trip to end.
        blocker = trip_refusal(db.session(), template.spec, asset, db.clock().now())
        general_error = translate(blocker) if blocker is not None else ""
    elif all_passed:
        # 全部合格 without JavaScript: the same form again, every pass/fail and yes/no passed
        # and the rest as given; nothing is saved until Submit.
        values = MultiDict(request.form)
        values.pop("all_pass", None)
        passing = template.spec.passing_answers()
        roster = roster_for(db.session(), template.spec, asset, db.clock().now())
        passing.update(roster_passing_answers(template.spec, roster or []))
        for key, answer in passing.items():
            values.setlist(key, [answer])
    elif form.validate_on_submit():
        uploads = _uploads()
        if draft is not None:
            sent = {upload.item_key for upload in uploads}
            uploads += [
                Upload(item_key=item, data=data, taken_at=taken_at(item, n, draft.values))
                for item, photos in draft.photos.items()
                if item not in sent
                for n, data in enumerate(photos)
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
                repeat_confirmed=bool(form.confirm_repeat.data),
                # The phone's time at the first submit (js/photos.js), also from a kept draft.
                phone_time=request.form.get("phone_time")
                or (draft.values.get("phone_time") if draft is not None else None),
                # Where the phone was, when the person allowed it (js/photos.js); junk ignored.
                located=phone_position(
                    *(
                        request.form.get(name)
                        or (draft.values.get(name) if draft is not None else None)
                        for name in ("lat", "lon", "accuracy_m")
                    )
                ),
            )
        except SubmissionInvalid as invalid:
            # A refusal writes nothing but the alerts it raised (`invalid.alerted`, an
            # overloaded bus): the door commits them with this page.
            errors = {key: translate(message) for key, message in invalid.errors.items()}
        except NotAllowed:
            abort(404)
        except AlreadyFiled as filed:
            repeat = translate(filed.message)
        except AlreadySent as refused:
            general_error = translate(refused.message)
            form.submission_key.data = uuid.uuid4().hex
        except DomainError as refused:
            general_error = translate(refused.message)
        else:
            if draft is not None:
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
        all_passed=all_passed,
        directory=directory_for(db.session(), template.spec, asset),
        roster=_roster(template, asset),
        roster_item=roster_item(template.spec),
        off_duty=OFF_DUTY,
        errors=errors,
        general_error=general_error,
        repeat=repeat,
        last=last_record(db.session(), asset.id, template.key),
        had_photos=request.method == "POST" and any(f.filename for f in request.files.values()),
        draft_id=draft_id if draft is not None else None,
        restored=draft is not None and request.method == "GET",
        kept_photos={item: len(photos) for item, photos in (draft.photos if draft else {}).items()},
        locale=current_locale(),
    )
    return (page, 422) if request.method == "POST" and not all_passed else (page, 200)


def _refused(asset: Asset, token: str, refused: NotYoursToFile) -> tuple[str, int]:
    """Someone whose role does not file this checklist is told who does, and files nothing."""
    page = render_template(
        "scan/refused.html",
        asset=asset,
        token=token,
        message=translate(refused.message),
        locale=current_locale(),
    )
    return page, 403
