"""Who may file a checklist: the roles its template names, or the district's own choice.

A bus departure is signed by the teacher riding the bus, an extinguisher check by the safety
inspector: a record says who stood there, so not everyone at the school may file everything.
The template's `roles` are the default; a district administrator may choose other roles for
their district, kept apart from the template so a new version of it does not undo the choice.
School and district administrators may file any checklist at the schools they manage: they
stand in for anyone (and answer for it).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, bindparam, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.assets import Asset
from models.audit import audit
from models.base import Base
from models.catalogue import LOCALES, join_list, translate
from models.checklists import Checklist, FormTemplate, newest_versions, visible_to
from models.db import read_rows
from models.duties import open_task_keys
from models.messages import N_, DomainError, Message
from models.people import ROLE_LABELS, Person, Role
from models.trips import PRE_TRIP_CHECK, todays_pre_trip_check, trip_to_end

ADMIN_ROLES = (Role.SCHOOL_ADMIN, Role.DISTRICT_ADMIN)
_ROLE_VALUES = frozenset(r.value for r in Role)


# Whatever kind of checklist version is given, the same kind comes back.
OneChecklist = TypeVar("OneChecklist", bound=Checklist)


class ChecklistRoles(Base):
    """A district's choice of who files one checklist, in place of the template's default."""

    __tablename__ = "checklist_roles"
    __table_args__ = (UniqueConstraint("district_id", "template_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"))
    template_key: Mapped[str] = mapped_column(String(64))
    roles: Mapped[list[Any]] = mapped_column()
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    updated_at: Mapped[datetime]


class NotYoursToFile(DomainError):
    """The person's role at the school does not file this checklist."""


def _roles_named(names: Iterable[str]) -> tuple[Role, ...]:
    """The roles these names stand for, leaving out any no longer known."""
    return tuple(Role(name) for name in names if name in _ROLE_VALUES)


def _override(session: Session, district_id: int, template_key: str) -> ChecklistRoles | None:
    return session.scalar(
        select(ChecklistRoles).where(
            ChecklistRoles.district_id == district_id,
            ChecklistRoles.template_key == template_key,
        )
    )


def filing_roles(session: Session, district_id: int, template: Checklist) -> tuple[Role, ...]:
    """The roles that file this checklist in the district; empty means anyone at the school."""
    chosen = _override(session, district_id, template.key)
    names = chosen.roles if chosen is not None else template.spec.roles
    return _roles_named(names)


def district_filing_roles(session: Session, district_id: int) -> dict[str, tuple[Role, ...]]:
    """`filing_roles` of every checklist at once, by key, for the district."""
    rows = session.execute(
        select(FormTemplate.key, FormTemplate.definition)
        .join(*newest_versions(district_id))
        .where(visible_to(district_id))
    )
    names = {key: definition.get("roles", []) for key, definition in rows}
    chosen = session.execute(
        select(ChecklistRoles.template_key, ChecklistRoles.roles).where(
            ChecklistRoles.district_id == district_id
        )
    )
    names.update({key: roles for key, roles in chosen if key in names})
    return {key: _roles_named(roles) for key, roles in names.items()}


def is_overridden(session: Session, district_id: int, template_key: str) -> bool:
    return _override(session, district_id, template_key) is not None


def _roles_at(person: Person, asset: Asset) -> set[Role]:
    return {Role(g.role) for g in person.grants if g.school_id == asset.school_id}


def may_file(
    session: Session,
    person: Person,
    asset: Asset,
    template: Checklist,
    roles: tuple[Role, ...] | None = None,
) -> bool:
    """Administrators of the asset's school file anything; others only with a filing role."""
    if person.can_manage_school(asset.school):
        return True
    if roles is None:
        roles = filing_roles(session, asset.school.district_id, template)
    held = _roles_at(person, asset)
    return bool(held) and (not roles or bool(held & set(roles)))


def fileable(
    session: Session, person: Person, asset: Asset, templates: Iterable[OneChecklist]
) -> list[OneChecklist]:
    """The checklists, of those given, that this person may file for this asset (the
    district's choices of roles read in one query for them all)."""
    templates = list(templates)
    if not templates or person.can_manage_school(asset.school):
        return templates
    values = {"district_id": asset.school.district_id, "keys": [t.key for t in templates]}
    chosen = {key: roles for key, roles in read_rows(session, _districts_choices(), values)}
    return [
        t
        for t in templates
        if may_file(
            session,
            person,
            asset,
            t,
            roles=_roles_named(chosen.get(t.key, t.spec.roles)),
        )
    ]


@cache
def _districts_choices() -> Any:
    """Built once: every scan of a label asks who files its checklists."""
    return select(ChecklistRoles.template_key, ChecklistRoles.roles).where(
        ChecklistRoles.district_id == bindparam("district_id", type_=Integer),
        ChecklistRoles.template_key.in_(bindparam("keys", expanding=True)),
    )


def most_urgent_first(
    session: Session, asset: Asset, templates: Iterable[OneChecklist], *, now: datetime
) -> list[OneChecklist]:
    """The checklist that is due first: the asset's open tasks, overdue and due before
    upcoming; a bus on the road offers its arrival first; one in the yard its departure, or
    the pre-trip check while the day has none that passed (its latest failed, or none filed)."""
    templates = list(templates)
    urgency: dict[str, int] = {}
    for rank, key in enumerate(open_task_keys(session, asset.id, now=now)):
        urgency.setdefault(key, rank)
    by_urgency = sorted(templates, key=lambda t: (urgency.get(t.key, len(urgency)), t.key))
    if asset.kind != "bus":
        return by_urgency
    if trip_to_end(session, asset, now) is not None:
        first = {t.key for t in templates if t.spec.trip == "arrival"}
    else:
        # The departure's own page says what else keeps the bus in the yard (papers, a trip
        # not ended); only a missing or failed pre-trip check puts that check first.
        check = todays_pre_trip_check(session, asset, now)
        needs_check = check is None or not check.passed
        departures = {t.key for t in templates if t.spec.trip == "departure"}
        first = {PRE_TRIP_CHECK} if needs_check else departures
    trips_next = {t.key for t in templates if t.spec.trip is not None}
    return sorted(by_urgency, key=lambda t: (t.key not in first, t.key not in trips_next))


def roles_text(roles: Iterable[Role]) -> dict[str, str]:
    """The roles named in each language, for a message that is translated where it is read."""
    return {
        locale: join_list((translate(locale, ROLE_LABELS[r]) for r in roles), locale)
        for locale in LOCALES
    }


def check_may_file(session: Session, person: Person, asset: Asset, template: Checklist) -> None:
    """Refuse, saying who files it, when the person may not file this checklist here."""
    roles = filing_roles(session, asset.school.district_id, template)
    if may_file(session, person, asset, template, roles):
        return
    raise NotYoursToFile(
        Message(
            N_(
                "%(checklist)s is filed by: %(roles)s. "
                "Ask one of them, or ask the school office for that role."
            ),
            {"checklist": dict(template.spec.title), "roles": roles_text(roles)},
        )
    )


class RolesRefused(DomainError):
    pass


def set_filing_roles(
    session: Session,
    actor: Person,
    *,
    district_id: int,
    template: FormTemplate,
    roles: Iterable[str],
    now: datetime,
) -> ChecklistRoles | None:
    """A district administrator chooses who files a checklist in their district.

    Choosing exactly the template's default removes the district's own choice, so a later
    template version's default applies again.
    """
    if not actor.is_district_admin_of(district_id):
        raise RolesRefused(Message(N_("Only district administrators choose who files this.")))
    known = [r.value for r in Role if r not in ADMIN_ROLES]
    chosen = [value for value in known if value in set(roles)]
    if not chosen:
        raise RolesRefused(Message(N_("Choose at least one role.")))
    current = _override(session, district_id, template.key)
    before = list(current.roles) if current is not None else list(template.spec.roles)
    audit(
        session,
        actor,
        "checklist.edited",
        template,
        {"roles": before},
        {"roles": chosen},
        now=now,
        district_id=district_id,
    )
    if chosen == [r for r in known if r in template.spec.roles]:
        if current is not None:
            session.delete(current)
            session.flush()
        return None
    if current is None:
        current = ChecklistRoles(district_id=district_id, template_key=template.key, roles=[])
        session.add(current)
    current.roles = chosen
    current.updated_by_id = actor.id
    current.updated_at = now
    session.flush()
    return current
