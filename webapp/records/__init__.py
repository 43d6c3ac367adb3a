"""Home, one record, and the photos behind it (the ledgers are webapp/ledgers)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import TextAreaField

from models.assets import KIND_LABELS
from models.figures import record_figures
from models.flag_notes import NotYourSchool, can_explain, explain_flags
from models.food_samples import sample_keeping
from models.health import DUTY, ON_DUTY, RosterEntry, roster_item, roster_of, workers_of
from models.ledgers import explained_text, location_text, previous_record_text, record_flags
from models.messages import SubmissionInvalid
from models.milk import school_rates
from models.people import visible_schools
from models.records import Record, phone_time_differs, visible_photo, visible_record
from webapp import db
from webapp.i18n import current_locale, translate
from webapp.stored_files import stored_file_response

bp = Blueprint("records", __name__, template_folder="templates")


@bp.get("/")
@login_required
def home() -> str:
    session = db.session()
    schools = visible_schools(session, current_user)
    rates = school_rates(session, [s.id for s in schools], now=db.clock().now())
    return render_template(
        "records/home.html",
        schools=schools,
        kinds=KIND_LABELS,
        milk_rates={school_id: translate(r.school_message()) for school_id, r in rates.items()},
    )


def figures(records: list[Record]) -> dict[int, str]:
    """A record's figure (a meter's consumption, a class's milk rate) in the reader's words."""
    return {rid: translate(m) for rid, m in record_figures(db.session(), records).items()}


class ExplainForm(FlaskForm):
    note = TextAreaField()


@bp.route("/records/<id:record_id>", methods=["GET", "POST"])
@login_required
def show_record(record_id: int) -> str | Response | tuple[str, int]:
    record = visible_record(db.session(), current_user, record_id)
    if record is None:
        abort(404)
    form = ExplainForm()
    errors: dict[str, str] = {}
    if request.method == "POST":
        # 已说明: an administrator's note on why the record's flags are fine (models/flag_notes).
        if not form.validate_on_submit():
            abort(400)
        try:
            explain_flags(
                db.session(), current_user, record, form.note.data or "", now=db.clock().now()
            )
        except SubmissionInvalid as invalid:
            errors = {key: translate(message) for key, message in invalid.errors.items()}
        except NotYourSchool:
            abort(403)
        else:
            flash(gettext("Explained."), "success")
            return redirect(url_for("records.show_record", record_id=record.id))
    page = _record_page(record, form, errors)
    return (page, 422) if errors else page


def _record_page(record: Record, form: ExplainForm, errors: dict[str, str]) -> str:
    """One record, with its flags and, for its school's administrators, the note form."""
    keeping = sample_keeping(db.session(), [record]).get(record.id)
    return render_template(
        "records/record.html",
        record=record,
        spec=record.template.spec,
        figure=figures([record]).get(record.id),
        roster=[(e, translate(e.message())) for e in roster_of(record.answers)],
        workers=_workers(record),
        on_duty=ON_DUTY,
        # A food sample's 48 hours: when it went and who took it, or from when it may go.
        keeping=keeping,
        still_kept=translate(keeping.still_kept()) if keeping else "",
        done=request.args.get("done") == "1",
        locale=current_locale(),
        previous=previous_record_text(record, current_locale()),
        phone_differs=phone_time_differs(record),
        location=location_text(record, current_locale()),
        explain_form=form,
        errors=errors,
        explained=explained_text(db.session(), record, current_locale()),
        may_explain=can_explain(current_user, record),
        flags=record_flags(
            db.session(),
            record,
            locale=current_locale(),
            implausible_within=db.implausible_within(),
            photo_older=db.photo_older_than(),
        ),
    )


def _workers(record: Record) -> list[tuple[dict[str, Any], str, list[Any]]]:
    """Each worker a health check names: their answers, their certificate in words, and the
    fields answered (for those at work, every field; for the others, whether they were)."""
    spec = record.template.spec
    item = roster_item(spec)
    if item is None:
        return []
    fields = spec.roster_fields(item.key)
    shown = []
    for worker in workers_of(record.answers, spec):
        entry = RosterEntry(
            person_id=int(worker["id"]),
            name=str(worker["name"]),
            status=str(worker["status"]),
            expires_on=worker.get("expires_on"),
        )
        at_work = worker.get(DUTY) == ON_DUTY
        answered = [f for f in fields if f.key in worker and (at_work or f.key == DUTY)]
        shown.append((worker, translate(entry.message()), answered))
    return shown


def _photo_response(photo_id: int, thumbnail: bool) -> Response:
    photo = visible_photo(db.session(), current_user, photo_id)
    if photo is None:
        abort(404)
    return stored_file_response(
        photo.thumb_key if thumbnail else photo.storage_key,
        content_type="image/jpeg",
        etag=photo.sha256,
    )


@bp.get("/photos/<id:photo_id>.jpg")
@login_required
def photo(photo_id: int) -> Response:
    return _photo_response(photo_id, thumbnail=False)


@bp.get("/photos/<id:photo_id>/thumb.jpg")
@login_required
def thumbnail(photo_id: int) -> Response:
    return _photo_response(photo_id, thumbnail=True)
