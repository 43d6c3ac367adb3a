"""The canteen's morning health check (points 1 and 9, 食品安全法 §45): the canteen staff on
duty, each with the health certificate the register holds for them. A worker whose
certificate is expired or missing fails the check, whatever was ticked, named with the reason."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.actions import FAILURE_DETAILS
from models.answers import answer_values
from models.catalogue import LOCALES, translate
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
    """The roster a health-check form lists; None for any other checklist."""
    if spec.key != HEALTH_CHECK:
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
