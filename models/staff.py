"""Who is at a school, and what its administrators may do to their roles and logins."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session, selectinload

from models.audit import audit
from models.messages import N_, DomainError, Message, SubmissionInvalid
from models.org import School
from models.paging import PAGE_SIZE, Page, page_of
from models.people import Person, Role, RoleGrant, grant_role

# Every role but a district administrator's: the roles someone holds at one school.
STAFF_ROLES = tuple(role for role in Role if role != Role.DISTRICT_ADMIN)
# Why a person's queued notices were dropped, as an administrator reads it.
LOGIN_SWITCHED_OFF = N_("Not sent: the person's login was switched off.")
LEFT_EVERY_SCHOOL = N_("Not sent: the person no longer has a role at any school.")


class AdminRefused(DomainError):
    """An administrator may not do this to this person or role."""


def managed_school(session: Session, actor: Person, school_code: str) -> School | None:
    """The school with this code, if the actor administers it; None alike for unknown codes."""
    school = session.scalar(select(School).where(School.code == school_code))
    if school is None or not actor.can_manage_school(school):
        return None
    return school


def school_roles(person: Person, school: School) -> list[Role]:
    """The roles a person holds at this school, a district administrator's included."""
    return sorted(
        {
            g.role
            for g in person.grants
            if g.school_id == school.id
            or (g.role == Role.DISTRICT_ADMIN and g.district_id == school.district_id)
        },
        key=list(Role).index,
    )


def _people(
    school: School, roles: Iterable[Role] | None = None, *, switched_off: bool = False
) -> Select[Person]:
    """The query behind `people_at_school`; `switched_off` keeps logins switched off too."""
    at_school = or_(
        RoleGrant.school_id == school.id,
        and_(
            RoleGrant.role == Role.DISTRICT_ADMIN,
            RoleGrant.district_id == school.district_id,
        ),
    )
    if roles is not None:
        at_school = and_(at_school, RoleGrant.role.in_(list(roles)))
    query = select(Person).where(Person.id.in_(select(RoleGrant.person_id).where(at_school)))
    if not switched_off:
        query = query.where(Person.active)
    return query.options(selectinload(Person.grants)).order_by(
        Person.display_name, Person.username, Person.id
    )


def people_at_school(
    session: Session, school: School, roles: Iterable[Role] | None = None
) -> list[Person]:
    """Who is at a school: the active people holding a role there, by name.

    A district administrator is at every school of their district (`school_roles`). With
    `roles`, only those holding one of these roles there: `STAFF_ROLES` leaves out district
    administrators who hold no other role at the school.
    """
    return list(session.scalars(_people(school, roles)))


def people_at_school_query(school: School) -> Select[Person]:
    """`people_at_school` as a query, to page or to narrow."""
    return _people(school)


def is_at_school(person: Person, school: School, roles: Iterable[Role] | None = None) -> bool:
    """Whether `people_at_school(session, school, roles)` lists this person."""
    held = school_roles(person, school)
    wanted = held if roles is None else [role for role in held if role in set(roles)]
    return person.active and bool(wanted)


def school_people(session: Session, school: School) -> list[tuple[Person, list[Role]]]:
    """Everyone at the school with their roles there, logins switched off included (their
    administrators switch them on again from this list)."""
    query = _people(school, switched_off=True)
    return [(person, school_roles(person, school)) for person in session.scalars(query)]


def people_page(
    session: Session, school: School, page: Any = 1, size: int = PAGE_SIZE
) -> Page[tuple[Person, list[Role]]]:
    """One page of `school_people`."""
    people = page_of(session, _people(school, switched_off=True), page, size)
    rows = [(person, school_roles(person, school)) for person in people.items]
    return Page(rows, people.total, people.number, people.size)


def school_person(session: Session, school: School, person_id: int) -> Person | None:
    """A person with a role at this school; None for anyone else."""
    person = session.get(Person, person_id)
    return person if person is not None and school_roles(person, school) else None


def can_grant(actor: Person, role: Role, school: School) -> bool:
    """District administrators make district administrators; school administrators the rest."""
    if role == Role.DISTRICT_ADMIN:
        return any(
            g.role == Role.DISTRICT_ADMIN and g.district_id == school.district_id
            for g in actor.grants
        )
    return actor.can_manage_school(school)


def grantable_roles(actor: Person, school: School) -> list[Role]:
    return [role for role in Role if can_grant(actor, role, school)]


def can_manage_person(actor: Person, person: Person) -> bool:
    """A login is switched off or its password reset only by someone who manages all its roles.

    A school administrator cannot lock a district administrator, or a teacher who also
    works at a school they do not run, out of the other school.
    """
    if not person.grants:
        return False
    for grant in person.grants:
        if grant.role == Role.DISTRICT_ADMIN or grant.school is None:
            allowed = any(
                g.role == Role.DISTRICT_ADMIN and g.district_id == grant.district_id
                for g in actor.grants
            )
        else:
            allowed = actor.can_manage_school(grant.school)
        if not allowed:
            return False
    return True


def clean_role(
    actor: Person, school: School, role: str | Role | None, errors: dict[str, Message]
) -> Role | None:
    try:
        chosen = Role(str(role))
    except ValueError:
        errors["role"] = Message(N_("Choose a role."))
        return None
    if not can_grant(actor, chosen, school):
        errors["role"] = Message(N_("Only district administrators can grant this role."))
        return None
    return chosen


def _grant_at(person: Person, role: Role, school: School) -> RoleGrant | None:
    for grant in person.grants:
        if grant.role != role:
            continue
        if role == Role.DISTRICT_ADMIN and grant.district_id == school.district_id:
            return grant
        if role != Role.DISTRICT_ADMIN and grant.school_id == school.id:
            return grant
    return None


def grant_school_role(
    session: Session,
    actor: Person,
    person: Person,
    role: str | Role | None,
    school: School,
    *,
    now: datetime | None = None,
) -> RoleGrant:
    """Give a person one more role at the school; a role held already is not doubled."""
    errors: dict[str, Message] = {}
    chosen = clean_role(actor, school, role, errors)
    if chosen is None:
        raise SubmissionInvalid(errors)
    existing = _grant_at(person, chosen, school)
    if existing is not None:
        return existing
    grant = grant_role(session, person, chosen, school)
    _audit_role(session, actor, "person.role_granted", person, chosen, school, now)
    return grant


def revoke_school_role(
    session: Session,
    actor: Person,
    person: Person,
    role: str | Role | None,
    school: School,
    *,
    now: datetime | None = None,
) -> None:
    """Take a role at the school away; administrators cannot take away their own. Someone
    left with no role anywhere has left: their queued notices are dropped."""
    errors: dict[str, Message] = {}
    chosen = clean_role(actor, school, role, errors)
    if chosen is None:
        raise SubmissionInvalid(errors)
    grant = _grant_at(person, chosen, school)
    if grant is None:
        return
    if person.id == actor.id and chosen in (Role.SCHOOL_ADMIN, Role.DISTRICT_ADMIN):
        raise AdminRefused(
            Message(N_("You cannot remove your own administrator role. Ask another administrator."))
        )
    person.grants.remove(grant)
    session.flush()
    _audit_role(session, actor, "person.role_revoked", person, chosen, school, now)
    if not person.grants:
        _drop_queued(session, person, now, Message(LEFT_EVERY_SCHOOL))


def set_login_active(
    session: Session, actor: Person, person: Person, *, active: bool, now: datetime | None = None
) -> int:
    """Switch a login off (or on again); the person's records and roles stay, and the notices
    queued for them on any channel are dropped: how many were."""
    if person.id == actor.id:
        raise AdminRefused(Message(N_("You cannot switch off your own login.")))
    if not can_manage_person(actor, person):
        raise AdminRefused(Message(N_("This person also has roles you do not manage.")))
    was = person.active
    person.active = active
    session.flush()
    action = "person.reactivated" if active else "person.deactivated"
    audit(session, actor, action, person, {"active": was}, {"active": active}, now=_now(now))
    if active:
        return 0
    from models.login_sessions import end_all_sessions  # it imports this module

    # Switched on again later, the person logs in afresh: no old phone is let back in.
    end_all_sessions(session, person, now=now or datetime.now(UTC))
    return _drop_queued(session, person, now, Message(LOGIN_SWITCHED_OFF))


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _audit_role(
    session: Session,
    actor: Person,
    action: str,
    person: Person,
    role: Role,
    school: School,
    now: datetime | None,
) -> None:
    held = {"role": role.value, "school": school.code}
    before, after = ({}, held) if action == "person.role_granted" else (held, {})
    audit(
        session, actor, action, person, before, after, now=_now(now), district_id=school.district_id
    )


def _drop_queued(session: Session, person: Person, now: datetime | None, reason: Message) -> int:
    from models.outbox import drop_for_people  # the outbox imports this module

    return drop_for_people(session, [person.id], now=now or datetime.now(UTC), reason=reason)
