"""The canteen's morning health check (points 1 and 9, 食品安全法 §45): each canteen worker on
the roster, one by one, with the health certificate the register holds for them. Whether they
work today, are well, and wear clean clothes and a hat is asked of each (a `roster` item and
the items asked of each person on it); a worker unwell and still on duty fails the check, as
one whose certificate is expired or missing does, whatever was ticked, each named with why."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.actions import FAILURE_DETAILS
from models.answers import answer_fails, answer_values, parse_answer
from models.catalogue import LIST_SEPARATOR, LOCALES, translate
from models.documents import Document, DocumentKind, local_today
from models.messages import N_, Message
from models.org import School
from models.people import Role
from models.staff import people_at_school

if TYPE_CHECKING:
    from models.assets import Asset
    from models.checklists import TemplateSpec

HEALTH_CHECK = "canteen_morning_health_check"
# Who works in the kitchen: the canteen roles at the school.
CANTEEN_ROLES = (Role.CANTEEN_STAFF,)
# The item the register's answer overrules: "everyone on duty holds a valid certificate".
CERTIFIED_ITEM = "all_certified"
# The form's field for canteen staff who are not working today (their ids).
OFF_DUTY = "off_duty"
# Kept with the record's answers (a leading _ is never an item key): who was on duty, with
# their certificate as the register had it that morning.
ROSTER = "_on_duty"
SEPARATOR = {"zh_CN": "；", "en": "; "}
# The field each worker answers first: whether they work today ("on"); the others are asked
# only of those who do.
DUTY = "duty"
ON_DUTY = "on"
# A worker who is not well and says so (`WELL` answered otherwise) must not work today; the
# symptoms they name go into the failure's text.
WELL = "healthy"
SYMPTOMS = "symptoms"


@dataclass(frozen=True)
class RosterEntry:
    person_id: int
    name: str
    status: str  # valid, expiring, no_expiry, expired or missing
    expires_on: str | None

    @property
    def certified(self) -> bool:
        return self.status not in ("expired", "missing")

    def message(self) -> Message:
        """The certificate's status in a few words."""
        params = {"date": self.expires_on or ""}
        if self.status == "missing":
            return Message(N_("No health certificate in the register"))
        if self.status == "expired":
            return Message(N_("Health certificate expired on %(date)s"), params)
        if self.status == "expiring":
            return Message(N_("Health certificate expires on %(date)s"), params)
        if self.status == "no_expiry":
            return Message(N_("Health certificate valid"))
        return Message(N_("Health certificate valid until %(date)s"), params)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.person_id,
            "name": self.name,
            "status": self.status,
            "expires_on": self.expires_on,
        }


def canteen_roster(session: Session, school_id: int, today: date) -> list[RosterEntry]:
    """Everyone with a canteen role at the school, by name, with their best current health
    certificate from the register."""
    school = session.get_one(School, school_id)
    staff = [(p.id, p.display_name) for p in people_at_school(session, school, CANTEEN_ROLES)]
    best: dict[int, Document] = {}
    for document in session.scalars(
        select(Document).where(
            Document.kind == DocumentKind.HEALTH_CERTIFICATE,
            Document.person_id.in_([person_id for person_id, _ in staff]),
            Document.replaced_by_id.is_(None),
        )
    ):
        held = best.get(document.person_id or 0)
        if held is None or _lasts_longer(document, held):
            best[document.person_id or 0] = document
    entries = []
    for person_id, name in staff:
        held = best.get(person_id)
        entries.append(
            RosterEntry(
                person_id=person_id,
                name=name,
                status=held.status(today).value if held else "missing",
                expires_on=held.expires_on.isoformat() if held and held.expires_on else None,
            )
        )
    return entries


def _lasts_longer(document: Document, other: Document) -> bool:
    if document.expires_on is None:
        return True
    return other.expires_on is not None and document.expires_on > other.expires_on


def roster_for(
    session: Session, spec: TemplateSpec, asset: Asset, now: datetime
) -> list[RosterEntry] | None:
    """The canteen staff a health-check form lists (a checklist with a roster item); None for
    any other checklist."""
    if spec.key != HEALTH_CHECK and roster_item(spec) is None:
        return None
    today = local_today(now, asset.school.district)
    return canteen_roster(session, asset.school_id, today)


def certificate_findings(
    session: Session, spec: TemplateSpec, asset: Asset, raw: Mapping[str, Any], now: datetime
) -> tuple[dict[str, Any], list[str]]:
    """What the register adds to a health check: the staff on duty with their certificates
    (kept with the answers) and, when one is expired or missing, the failed item with a text
    naming each such worker and why."""
    roster = roster_for(session, spec, asset, now)
    if not roster:
        return {}, []
    off_duty = set(answer_values(raw, OFF_DUTY))
    on_duty = [e for e in roster if str(e.person_id) not in off_duty]
    derived: dict[str, Any] = {ROSTER: [e.to_json() for e in on_duty]}
    uncertified = [e for e in on_duty if not e.certified]
    if not uncertified or not spec.has(CERTIFIED_ITEM):
        return derived, []
    derived[FAILURE_DETAILS] = {
        CERTIFIED_ITEM: {
            locale: SEPARATOR[locale].join(
                translate(locale, N_("%(name)s: %(why)s"), name=e.name, why=_why(e, locale))
                for e in uncertified
            )
            for locale in LOCALES
        }
    }
    return derived, [CERTIFIED_ITEM]


def _why(entry: RosterEntry, locale: str) -> str:
    message = entry.message()
    return translate(locale, message.msgid, **message.params)


def roster_of(answers: Mapping[str, Any]) -> list[RosterEntry]:
    """The roster a filed health check kept."""
    return [
        RosterEntry(
            person_id=int(e["id"]),
            name=str(e["name"]),
            status=str(e["status"]),
            expires_on=e.get("expires_on"),
        )
        for e in answers.get(ROSTER, [])
    ]


def field_name(roster_key: str, person_id: int, field_key: str) -> str:
    """The form's name for one person's answer to one roster field: staff.12.duty."""
    return f"{roster_key}.{person_id}.{field_key}"


def is_roster_field(spec: TemplateSpec, name: str) -> bool:
    """Is this a form field a roster of the checklist asks (for drafts to keep)?"""
    parts = name.split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        return False
    return any(i.key == parts[2] and i.roster == parts[0] for i in spec.items)


def roster_item(spec: TemplateSpec) -> Any:
    """The checklist's roster item, or None."""
    return next((i for i in spec.items if i.type == "roster"), None)


@dataclass(frozen=True)
class RosterFindings:
    """What a roster's answers add to a record: the answers to keep, the items they fail, and
    the fields refused (by form field name)."""

    answers: dict[str, Any]
    failed: list[str]
    errors: dict[str, Message]


def judge_roster(
    session: Session, spec: TemplateSpec, asset: Asset, raw: Mapping[str, Any], now: datetime
) -> RosterFindings:
    """Judge each worker of the health check's roster: whether they work today, then for those
    who do their answers, and their certificate from the register. An item fails when it fails
    for one of them (the failure's text names each and why); a worker unwell but on duty fails
    the critical item. Kept: every worker's answers, and who was on duty (ROSTER)."""
    roster = roster_for(session, spec, asset, now)
    item = roster_item(spec)
    if item is None or roster is None:
        return RosterFindings(*certificate_findings(session, spec, asset, raw, now), {})
    fields = spec.roster_fields(item.key)
    errors: dict[str, Message] = {}
    if not roster and item.required:
        errors[item.key] = Message(
            N_("No one has a canteen role at this school yet: register the canteen staff first.")
        )
    workers: list[dict[str, Any]] = []
    whys: dict[str, list[tuple[RosterEntry, dict[str, str] | None]]] = {}
    for entry in roster:
        answers: dict[str, Any] = {}
        for field in fields:
            if field.key != DUTY and answers.get(DUTY) != ON_DUTY:
                continue
            name = field_name(item.key, entry.person_id, field.key)
            values = answer_values(raw, name)
            if not values:
                if field.required:
                    errors[name] = Message(N_("Please answer this."))
                continue
            value, refused = parse_answer(field, values, asset)
            if refused is not None:
                errors[name] = refused
            else:
                answers[field.key] = value
        if answers.get(WELL) == "yes" and answers.get(SYMPTOMS):
            errors[field_name(item.key, entry.person_id, WELL)] = Message(
                N_("Symptoms are ticked below: answer No, and send them off duty.")
            )
        workers.append({**entry.to_json(), **answers})
        if answers.get(DUTY) != ON_DUTY:
            continue
        if not entry.certified:
            why = {locale: _why(entry, locale) for locale in LOCALES}
            whys.setdefault(item.key, []).append((entry, why))
        for field in fields:
            if answer_fails(field, answers):
                whys.setdefault(field.key, []).append((entry, _symptoms(spec, answers, field)))
    on_duty = [
        entry for entry, worker in zip(roster, workers, strict=True) if worker.get(DUTY) == ON_DUTY
    ]
    derived: dict[str, Any] = {item.key: workers, ROSTER: [e.to_json() for e in on_duty]}
    failed = [i.key for i in spec.items if i.key in whys]
    if failed:
        derived[FAILURE_DETAILS] = {
            key: {
                locale: translate(
                    locale,
                    N_("%(failure)s: %(who)s"),
                    failure=spec.item(key).fail_text(locale),
                    who=SEPARATOR[locale].join(_named(e, why, locale) for e, why in whys[key]),
                )
                for locale in LOCALES
            }
            for key in failed
        }
    return RosterFindings(derived, failed, errors)


def _symptoms(spec: TemplateSpec, answers: Mapping[str, Any], field: Any) -> dict[str, str] | None:
    """Why an unwell worker failed, in each language: the symptoms they named, if any."""
    if field.key != WELL or not spec.has(SYMPTOMS) or not answers.get(SYMPTOMS):
        return None
    symptoms = spec.item(SYMPTOMS)
    return {
        locale: LIST_SEPARATOR[locale].join(
            symptoms.option_text(v, locale) for v in answers[SYMPTOMS]
        )
        for locale in LOCALES
    }


def _named(entry: RosterEntry, why: dict[str, str] | None, locale: str) -> str:
    if why is None:
        return entry.name
    return translate(locale, N_("%(name)s (%(why)s)"), name=entry.name, why=why[locale])


def roster_passing_answers(spec: TemplateSpec, roster: list[RosterEntry]) -> dict[str, str]:
    """What "all OK" answers for each worker: at work, and every field that can fail, passed."""
    item = roster_item(spec)
    if item is None:
        return {}
    return {
        field_name(item.key, entry.person_id, field.key): field.passing_answer
        for entry in roster
        for field in spec.roster_fields(item.key)
        if field.passing_answer is not None
    }


def workers_of(answers: Mapping[str, Any], spec: TemplateSpec) -> list[dict[str, Any]]:
    """Each worker's answers a filed health check kept (empty for one filed before)."""
    item = roster_item(spec)
    if item is None:
        return []
    return [dict(w) for w in answers.get(item.key, []) if isinstance(w, dict)]
