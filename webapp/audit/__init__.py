"""The audit log page: a district's sign-ins and administrators' changes, newest first, for
its district administrators only (models/audit.py keeps them)."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import select

from models.audit import (
    ACTIONS,
    CHANNEL_LABELS,
    SECRET_PARTS,
    AuditEntry,
    AuditFilter,
    audit_page,
)
from models.documents import DOCUMENT_KIND_LABELS, INSURANCE_LABELS
from models.duties import CALENDAR_KIND_LABELS
from models.org import District
from models.people import ROLE_LABELS, Role, find_person_by_login
from models.robot_groups import ROBOT_CHANNEL_LABELS
from models.score import BANDS, INDICATOR_NAMES
from models.severity import SEVERITY_LABELS
from models.stages import STAGE_LABELS
from models.suppliers import SUPPLY_CATEGORIES
from webapp import db
from webapp.paging import requested_page

bp = Blueprint("audit", __name__, template_folder="templates")


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def _start_of(day: date | None, district: District) -> datetime | None:
    """The moment a day in the district's own time begins."""
    return datetime.combine(day, time(), tzinfo=district.zone) if day is not None else None


def _chosen(district: District) -> tuple[AuditFilter, bool]:
    """The filters asked for; False when the person asked for is nobody known (no rows)."""
    login = request.args.get("person", "").strip()
    person = find_person_by_login(db.session(), login) if login else None
    since, until = _day(request.args.get("from")), _day(request.args.get("to"))
    action = request.args.get("action", "")
    chosen = AuditFilter(
        person_id=person.id if person is not None else None,
        action=action if action in ACTIONS else "",
        since=_start_of(since, district),
        until=_start_of(until + timedelta(days=1), district) if until is not None else None,
    )
    return chosen, not login or person is not None


def _value(name: str, value: Any, target_kind: str) -> str:
    """A value before or after a change, as a person reads it."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if value is True:
        return gettext("Yes")
    if value is False:
        return gettext("No")
    if any(part in name.lower() for part in SECRET_PARTS):
        return gettext("changed")
    if name == "role" and value in {r.value for r in Role}:
        return gettext(ROLE_LABELS[Role(value)])
    if name == "roles" and isinstance(value, list):
        known = {r.value for r in Role}
        return ", ".join(gettext(ROLE_LABELS[Role(v)]) if v in known else str(v) for v in value)
    labels = _KIND_VALUE_LABELS.get(target_kind, {}).get(name) or _VALUE_LABELS.get(name, {})
    if isinstance(value, list) and labels:
        return ", ".join(gettext(labels[v]) if v in labels else str(v) for v in value)
    if isinstance(value, str) and value in labels:
        return gettext(labels[value])
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


# The fields whose values are codes, by what each code is called; where one kind of target
# uses a field's name for codes of its own (a calendar entry's "kind"), those come first.
_KIND_VALUE_LABELS: dict[str, dict[str, dict[Any, str]]] = {
    "calendar_entry": {"kind": dict(CALENDAR_KIND_LABELS)},
}
_VALUE_LABELS: dict[str, dict[Any, str]] = {
    "categories": SUPPLY_CATEGORIES,
    "stage": dict(STAGE_LABELS),
    "kind": dict(DOCUMENT_KIND_LABELS),
    "insurance_type": dict(INSURANCE_LABELS),
    "channel": ROBOT_CHANNEL_LABELS,  # a notice group's
    "min_severity": SEVERITY_LABELS,
}


def _field(entry: AuditEntry, name: str) -> str:
    msgid = entry.field_text(name)
    if msgid is not None:
        return gettext(msgid)
    # A score scheme's fields, as its form names them.
    indicator, band = name.removeprefix("weight_"), name.removeprefix("band_")
    if name.startswith("weight_") and indicator in INDICATOR_NAMES:
        return gettext(INDICATOR_NAMES[indicator])
    if name.startswith("band_") and band in BANDS:
        return gettext("Grade %(band)s from", band=band)
    return name


def _line(entry: AuditEntry, district: District) -> dict[str, Any]:
    """One entry as the page shows it: who, when, from where, what, before → after."""
    where = [gettext(CHANNEL_LABELS[entry.channel]) if entry.channel in CHANNEL_LABELS else ""]
    where += [entry.address, entry.agent[:80]]
    return {
        "when": district.local(entry.at).strftime("%Y-%m-%d %H:%M:%S"),
        "who": entry.actor_label or gettext("Unknown"),
        "what": gettext(entry.action_text),
        "target": entry.target_label,
        "where": " · ".join(part for part in where if part),
        "changes": [
            (
                _field(entry, name),
                _value(name, before, entry.target_kind),
                _value(name, after, entry.target_kind),
            )
            for name, before, after in entry.changed
        ],
    }


@bp.get("/districts/<district_code>/audit")
@login_required
def show_log(district_code: str) -> str:
    session = db.session()
    district = session.scalar(select(District).where(District.code == district_code))
    if district is None or not current_user.is_district_admin_of(district.id):
        abort(404)
    chosen, anyone = _chosen(district)
    if not anyone:
        chosen = AuditFilter(person_id=0)
    page = audit_page(session, current_user, district, chosen, requested_page())
    assert page is not None
    return render_template(
        "audit/log.html",
        district=district,
        page=page,
        lines=[_line(entry, district) for entry in page.items],
        actions=sorted(ACTIONS.items()),
        args=request.args,
    )
