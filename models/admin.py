"""Managing a school: its assets, its places and its people, for the school's administrators.

Every operation checks what it is given and refuses with `SubmissionInvalid`, naming each
field that is wrong, so a form can show the message next to the field. The checks are
separate functions (`clean_*`) so a spreadsheet import checks a row the same way a form does.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session, selectinload

from models.assets import Asset, AssetKind, create_asset
from models.messages import N_, DomainError, Message, SubmissionInvalid
from models.org import Location, School
from models.paging import PAGE_SIZE, Page, page_of
from models.people import (
    MIN_PASSWORD_LENGTH,
    LoginSource,
    Person,
    Role,
    RoleGrant,
    create_person,
    grant_role,
    hash_password,
    login_locked,
    new_sign_in_code,
    normalise_login,
)
from models.phones import normalise_mobile
from models.throttle import count_failure, locked_for, unlock

CODE_MAX = 32
NAME_MAX = 200
PLACE_MAX = {"building": 100, "floor": 20, "room": 100}
USERNAME_MAX = 64
DISPLAY_NAME_MAX = 100
PASSWORD_MAX = 200
ATTRIBUTE_TEXT_MAX = 100

REQUIRED = N_("Fill this in.")
TOO_LONG = N_("At most %(count)d characters.")


class AdminRefused(DomainError):
    """An administrator may not do this to this person or role."""


def managed_school(session: Session, actor: Person, school_code: str) -> School | None:
    """The school with this code, if the actor administers it; None alike for unknown codes."""
    school = session.scalar(select(School).where(School.code == school_code))
    if school is None or not actor.can_manage_school(school):
        return None
    return school


# --- assets -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AttributeSpec:
    """One kind-specific attribute: `text`, `int` (> 0), `decimal` (> 0) or `choice`."""

    name: str
    type: str = "text"
    required: bool = False
    choices: tuple[str, ...] = ()


KIND_ATTRIBUTES: dict[AssetKind, tuple[AttributeSpec, ...]] = {
    AssetKind.EXTINGUISHER: (AttributeSpec("agent"), AttributeSpec("capacity_kg", "decimal")),
    # Seats are what an overloaded bus is measured against, so a bus cannot go without them.
    AssetKind.BUS: (
        AttributeSpec("plate"),
        AttributeSpec("seats", "int", required=True),
        AttributeSpec("driver"),
    ),
    AssetKind.DORM_ROOM: (AttributeSpec("beds", "int"),),
    AssetKind.METER: (
        AttributeSpec("meter_type", "choice", required=True, choices=("electricity", "water")),
        AttributeSpec("meter_number"),
    ),
}

CHOICE_LABELS = {
    "electricity": N_("Electricity"),
    "water": N_("Water"),
}

# What people type for a choice in a spreadsheet, besides the key itself.
CHOICE_ALIASES = {
    "电": "electricity",
    "电表": "electricity",
    "用电": "electricity",
    "水": "water",
    "水表": "water",
    "用水": "water",
}

UNITS = ("千克", "公斤", "kg")


def attribute_specs(kind: str) -> tuple[AttributeSpec, ...]:
    return KIND_ATTRIBUTES.get(kind, ())  # type: ignore[call-overload]


def all_attribute_names() -> list[str]:
    """Every kind-specific attribute, each once, in the order kinds list them."""
    names: list[str] = []
    for specs in KIND_ATTRIBUTES.values():
        names.extend(spec.name for spec in specs if spec.name not in names)
    return names


def _number(text: str) -> Decimal | None:
    """A number as typed, full-width digits and a trailing unit allowed; None if it is not one."""
    text = unicodedata.normalize("NFKC", text).strip().lower()
    for unit in UNITS:
        text = text.removesuffix(unit).strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _clean_attribute(spec: AttributeSpec, text: str) -> tuple[Any, Message | None]:
    if spec.type == "int":
        number = _number(text)
        if number is None or number <= 0 or number != number.to_integral_value():
            return None, Message(N_("Enter a whole number greater than zero."))
        return int(number), None
    if spec.type == "decimal":
        number = _number(text)
        if number is None or number <= 0:
            return None, Message(N_("Enter a number greater than zero."))
        return (int(number) if number == number.to_integral_value() else float(number)), None
    if spec.type == "choice":
        key = unicodedata.normalize("NFKC", text).strip().lower()
        key = CHOICE_ALIASES.get(key, key)
        if key not in spec.choices:
            shown = [
                "/".join([choice, *(k for k, v in CHOICE_ALIASES.items() if v == choice)][:2])
                for choice in spec.choices
            ]
            return None, Message(N_("Must be one of: %(choices)s."), {"choices": ", ".join(shown)})
        return key, None
    if len(text) > ATTRIBUTE_TEXT_MAX:
        return None, Message(TOO_LONG, {"count": ATTRIBUTE_TEXT_MAX})
    return text, None


def clean_attributes(
    kind: str,
    raw: Mapping[str, str],
    errors: dict[str, Message],
    *,
    keep: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The kind's attributes from text, typed; problems go into `errors` by attribute name.

    Attributes the kind does not list (a dispenser's model from an older import) are kept
    from `keep`; an empty optional one is dropped.
    """
    specs = attribute_specs(kind)
    known = {spec.name for spec in specs}
    cleaned = {name: value for name, value in (keep or {}).items() if name not in known}
    for spec in specs:
        text = (raw.get(spec.name) or "").strip()
        if not text:
            if spec.required:
                errors[spec.name] = Message(REQUIRED)
            continue
        value, problem = _clean_attribute(spec, text)
        if problem is not None:
            errors[spec.name] = problem
        else:
            cleaned[spec.name] = value
    return cleaned


def clean_text(
    value: str, field: str, limit: int, errors: dict[str, Message], *, required: bool = True
) -> str:
    value = value.strip()
    if not value:
        if required:
            errors[field] = Message(REQUIRED)
    elif len(value) > limit:
        errors[field] = Message(TOO_LONG, {"count": limit})
    return value


def code_taken(session: Session, school: School, code: str) -> bool:
    return (
        session.scalar(select(Asset.id).where(Asset.school_id == school.id, Asset.code == code))
        is not None
    )


def clean_code(session: Session, school: School, code: str, errors: dict[str, Message]) -> str:
    """An asset code: given, short enough, and not yet used at this school."""
    code = clean_text(code, "code", CODE_MAX, errors)
    if "code" not in errors and code_taken(session, school, code):
        errors["code"] = code_in_use(code)
    return code


def code_in_use(code: str) -> Message:
    return Message(N_("The code %(code)s is already used at this school."), {"code": code})


def clean_name(name: str, errors: dict[str, Message]) -> str:
    return clean_text(name, "name", NAME_MAX, errors)


def asset_page(
    session: Session,
    school: School,
    kind: str | None = None,
    *,
    search: str = "",
    page: Any = 1,
    size: int = PAGE_SIZE,
) -> Page[Asset]:
    """One page of a school's assets in kind and code order; `search` finds a part of the code
    or the name, whatever the case."""
    query = (
        select(Asset)
        .where(Asset.school_id == school.id)
        .options(
            selectinload(Asset.location),
            selectinload(Asset.responsible),
            selectinload(Asset.labels),
        )
        .order_by(Asset.kind, Asset.code)
    )
    if kind:
        query = query.where(Asset.kind == kind)
    words = search.strip()[:100]
    if words:
        pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(
                Asset.code.ilike(pattern, escape="\\"),
                Asset.name.ilike(pattern, escape="\\"),
            )
        )
    return page_of(session, query, page, size)


def school_asset(session: Session, school: School, asset_id: int) -> Asset | None:
    return session.scalar(select(Asset).where(Asset.id == asset_id, Asset.school_id == school.id))


def _school_location(
    session: Session, school: School, location_id: int | None, errors: dict[str, Message]
) -> Location | None:
    if location_id is None:
        return None
    location = session.get(Location, location_id)
    if location is None or location.school_id != school.id:
        errors["location"] = Message(N_("Choose a place at this school."))
        return None
    return location


def _school_person(
    session: Session, school: School, person_id: int | None, errors: dict[str, Message]
) -> Person | None:
    if person_id is None:
        return None
    person = session.get(Person, person_id)
    if person is None or not person.active or not school_roles(person, school):
        errors["responsible"] = Message(N_("Choose someone with a role at this school."))
        return None
    return person


def add_asset(
    session: Session,
    school: School,
    *,
    kind: AssetKind,
    code: str,
    name: str,
    location_id: int | None,
    responsible_id: int | None,
    attributes: Mapping[str, str],
    now: datetime,
) -> Asset:
    """A new asset at the school, with its label issued; refused field by field."""
    errors: dict[str, Message] = {}
    code = clean_code(session, school, code, errors)
    name = clean_name(name, errors)
    location = _school_location(session, school, location_id, errors)
    responsible = _school_person(session, school, responsible_id, errors)
    cleaned = clean_attributes(kind, attributes, errors)
    if errors:
        raise SubmissionInvalid(errors)
    return create_asset(
        session,
        school=school,
        kind=kind,
        code=code,
        name=name,
        location=location,
        responsible=responsible,
        attributes=cleaned,
        now=now,
    )


def update_asset(
    session: Session,
    asset: Asset,
    *,
    name: str,
    location_id: int | None,
    responsible_id: int | None,
    attributes: Mapping[str, str],
) -> Asset:
    """Change what an asset is called, where it is, who answers for it and its attributes.

    The code stays: it is printed on the label and named in every record.
    """
    errors: dict[str, Message] = {}
    name = clean_name(name, errors)
    location = _school_location(session, asset.school, location_id, errors)
    if responsible_id is not None and responsible_id == asset.responsible_id:
        # Unchanged: someone since deactivated stays named until the asset is handed on.
        responsible = asset.responsible
    else:
        responsible = _school_person(session, asset.school, responsible_id, errors)
    cleaned = clean_attributes(asset.kind, attributes, errors, keep=asset.attributes)
    if errors:
        raise SubmissionInvalid(errors)
    asset.name = name
    asset.location = location
    asset.responsible = responsible
    asset.attributes = cleaned
    session.flush()
    return asset


# --- places -----------------------------------------------------------------------------


def _locations(school: School) -> Select[tuple[Location]]:
    """A school's places, by building, floor and room."""
    return (
        select(Location)
        .where(Location.school_id == school.id)
        .order_by(Location.building, Location.floor, Location.room, Location.id)
    )


def school_locations(session: Session, school: School) -> list[Location]:
    return list(session.scalars(_locations(school)))


def location_page(
    session: Session, school: School, page: Any = 1, size: int = PAGE_SIZE
) -> Page[Location]:
    """One page of `school_locations`."""
    return page_of(session, _locations(school), page, size)


def find_location(
    session: Session, school: School, building: str, floor: str, room: str
) -> Location | None:
    return session.scalar(
        select(Location).where(
            Location.school_id == school.id,
            Location.building == building,
            Location.floor == floor,
            Location.room == room,
        )
    )


def clean_place(
    building: str, floor: str, room: str, errors: dict[str, Message]
) -> tuple[str, str, str]:
    """Building, floor and room as typed; a floor or room needs its building."""
    building = clean_text(building, "building", PLACE_MAX["building"], errors, required=False)
    floor = clean_text(floor, "floor", PLACE_MAX["floor"], errors, required=False)
    room = clean_text(room, "room", PLACE_MAX["room"], errors, required=False)
    if not building and "building" not in errors:
        errors["building"] = Message(
            N_("Give the building too.") if floor or room else N_("Fill this in.")
        )
    return building, floor, room


def add_location(
    session: Session, school: School, *, building: str, floor: str = "", room: str = ""
) -> Location:
    """A new place at the school; the same building, floor and room twice is refused."""
    errors: dict[str, Message] = {}
    building, floor, room = clean_place(building, floor, room, errors)
    if not errors and find_location(session, school, building, floor, room) is not None:
        errors["building"] = Message(N_("This place is already listed at this school."))
    if errors:
        raise SubmissionInvalid(errors)
    location = Location(school=school, building=building, floor=floor, room=room)
    session.add(location)
    session.flush()
    return location


# --- people -----------------------------------------------------------------------------


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


def _people(school: School) -> Select[tuple[Person]]:
    """Everyone with a role at the school (its district's administrators too), logins
    switched off included, by name."""
    return (
        select(Person)
        .where(
            Person.id.in_(
                select(RoleGrant.person_id).where(
                    or_(
                        RoleGrant.school_id == school.id,
                        and_(
                            RoleGrant.role == Role.DISTRICT_ADMIN,
                            RoleGrant.district_id == school.district_id,
                        ),
                    )
                )
            )
        )
        .order_by(Person.display_name, Person.username, Person.id)
    )


def school_people(session: Session, school: School) -> list[tuple[Person, list[Role]]]:
    """Everyone with a role at the school, with their roles there."""
    return [(person, school_roles(person, school)) for person in session.scalars(_people(school))]


def people_page(
    session: Session, school: School, page: Any = 1, size: int = PAGE_SIZE
) -> Page[tuple[Person, list[Role]]]:
    """One page of `school_people`."""
    people = page_of(session, _people(school), page, size)
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


LOGINS_KNOWN = "houqin.logins_known"


@contextmanager
def logins_read_once(session: Session) -> Iterator[None]:
    """Inside this block, "is this username or phone taken" reads every login once, not one
    query per check: an import checks thousands of rows."""
    rows = session.execute(select(Person.username, Person.phone))
    session.info[LOGINS_KNOWN] = {login for row in rows for login in row if login}
    try:
        yield
    finally:
        session.info.pop(LOGINS_KNOWN, None)


def _person_taken(session: Session, login: str) -> bool:
    """Whether anyone logs in with this, as a username or a phone number."""
    known = session.info.get(LOGINS_KNOWN)
    if known is not None:
        return login in known
    return (
        session.scalar(
            select(Person.id).where(or_(Person.username == login, Person.phone == login))
        )
        is not None
    )


def clean_username(session: Session, username: str, errors: dict[str, Message]) -> str:
    username = clean_text(username, "username", USERNAME_MAX, errors)
    if "username" in errors:
        return username
    if any(ch.isspace() for ch in username):
        errors["username"] = Message(N_("A username has no spaces."))
        return username
    username = normalise_login(username)
    if _person_taken(session, username):
        errors["username"] = Message(N_("The username %(value)s is taken."), {"value": username})
    return username


def clean_phone(session: Session, phone: str, errors: dict[str, Message]) -> str | None:
    """An optional Chinese mobile number, as its 11 digits however it was typed, used by no one
    else (one mobile is one person: it is how they log in)."""
    if not phone.strip():
        return None
    mobile = normalise_mobile(phone)
    if mobile is None:
        errors["phone"] = Message(
            N_("Enter a mobile number: 11 digits starting with 1 (+86 may go in front).")
        )
        return phone.strip()
    if _person_taken(session, mobile):
        errors["phone"] = Message(N_("The phone number %(value)s is taken."), {"value": mobile})
    return mobile


def clean_password(password: str, errors: dict[str, Message], field: str = "password") -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        errors[field] = Message(
            N_("A password needs at least %(count)d characters."), {"count": MIN_PASSWORD_LENGTH}
        )
    elif len(password) > PASSWORD_MAX:
        errors[field] = Message(TOO_LONG, {"count": PASSWORD_MAX})
    return password


def clean_role(
    actor: Person, school: School, role: str | Role | None, errors: dict[str, Message]
) -> Role | None:
    try:
        chosen = Role(role)
    except ValueError:
        errors["role"] = Message(N_("Choose a role."))
        return None
    if not can_grant(actor, chosen, school):
        errors["role"] = Message(N_("Only district administrators can grant this role."))
        return None
    return chosen


@dataclass(frozen=True)
class NewPerson:
    """A person checked and ready to be created, with the role they get at the school."""

    username: str
    display_name: str
    phone: str | None
    password: str  # empty: they get a sign-in code
    role: Role


def clean_new_person(
    session: Session,
    actor: Person,
    school: School,
    errors: dict[str, Message],
    *,
    username: str,
    display_name: str,
    phone: str,
    password: str,
    role: str | Role | None,
    password_optional: bool = False,
) -> NewPerson:
    """A new person checked field by field; only to be created when `errors` stayed empty."""
    username = clean_username(session, username, errors)
    display_name = clean_text(display_name, "display_name", DISPLAY_NAME_MAX, errors)
    cleaned_phone = clean_phone(session, phone, errors)
    if password or not password_optional:
        password = clean_password(password, errors)
    cleaned_role = clean_role(actor, school, role, errors)
    return NewPerson(
        username=username,
        display_name=display_name,
        phone=cleaned_phone,
        password=password,
        # A refused role is in `errors`; the placeholder keeps the result's type simple.
        role=cleaned_role or Role.TEACHER,
    )


def create_school_person(
    session: Session,
    school: School,
    new: NewPerson,
    *,
    now: datetime,
    one_time: bool = False,
    hashed: str | None = None,
) -> Person:
    """Create a checked person and grant them their role at the school.

    With `one_time` (an import) the password is a one-time one, hashed quickly, so a
    thousand rows cost no thousand slow hashes; see `Person.set_one_time_password`.
    `hashed` is the password's hash, computed by the door before its write transaction.
    """
    person = create_person(
        session,
        username=new.username,
        display_name=new.display_name,
        password=new.password,
        phone=new.phone,
        now=now,
        one_time=one_time,
        hashed=hashed,
    )
    grant_role(session, person, new.role, school)
    return person


def add_person(
    session: Session,
    actor: Person,
    school: School,
    *,
    username: str,
    display_name: str,
    phone: str,
    password: str,
    role: str | Role | None,
    now: datetime,
    hashed: str | None = None,
) -> Person:
    """A new login with a role at the school; refused field by field.

    `hashed` is `hash_password(password)`, computed by the door before it began writing.
    """
    errors: dict[str, Message] = {}
    new = clean_new_person(
        session,
        actor,
        school,
        errors,
        username=username,
        display_name=display_name,
        phone=phone,
        password=password,
        role=role,
    )
    if errors:
        raise SubmissionInvalid(errors)
    return create_school_person(session, school, new, now=now, hashed=hashed)


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
    session: Session, actor: Person, person: Person, role: str | Role | None, school: School
) -> RoleGrant:
    """Give a person one more role at the school; a role held already is not doubled."""
    errors: dict[str, Message] = {}
    chosen = clean_role(actor, school, role, errors)
    if chosen is None:
        raise SubmissionInvalid(errors)
    existing = _grant_at(person, chosen, school)
    if existing is not None:
        return existing
    return grant_role(session, person, chosen, school)


def revoke_school_role(
    session: Session, actor: Person, person: Person, role: str | Role | None, school: School
) -> None:
    """Take a role at the school away; administrators cannot take away their own."""
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


def set_login_active(session: Session, actor: Person, person: Person, *, active: bool) -> None:
    """Switch a login off (or on again); the person's records and roles stay."""
    if person.id == actor.id:
        raise AdminRefused(Message(N_("You cannot switch off your own login.")))
    if not can_manage_person(actor, person):
        raise AdminRefused(Message(N_("This person also has roles you do not manage.")))
    person.active = active
    session.flush()


def reset_password(
    session: Session,
    actor: Person,
    person: Person,
    password: str,
    *,
    now: datetime,
    hashed: str | None = None,
) -> None:
    """Set a one-time password for someone who forgot theirs, and lift every lockout.

    The person logs in with it once and then chooses their own; unused, it expires.
    `hashed` is `hash_password(password)`, computed by the door before it began writing.
    """
    if not can_manage_person(actor, person):
        raise AdminRefused(Message(N_("This person also has roles you do not manage.")))
    errors: dict[str, Message] = {}
    clean_password(password, errors)
    if errors:
        raise SubmissionInvalid(errors)
    person.set_one_time_password(password, now=now, hashed=hashed)
    unlock(session, person.id)
    session.flush()


@dataclass(frozen=True)
class SignInCode:
    """A new sign-in code with its hash, made by a door before its write transaction."""

    code: str
    hashed: str


def new_hashed_sign_in_code() -> SignInCode:
    code = new_sign_in_code()
    return SignInCode(code, hash_password(code))


def issue_sign_in_code(
    session: Session,
    actor: Person,
    person: Person,
    *,
    now: datetime,
    prepared: SignInCode | None = None,
) -> str:
    """A new one-time sign-in code for the person, to tell them or print; lifts lockouts.

    `prepared` is one `new_hashed_sign_in_code` made ahead, so no hash is computed here.
    """
    if not can_manage_person(actor, person):
        raise AdminRefused(Message(N_("This person also has roles you do not manage.")))
    prepared = prepared or new_hashed_sign_in_code()
    code = prepared.code
    person.set_one_time_password(code, now=now, hashed=prepared.hashed)
    unlock(session, person.id)
    session.flush()
    return code


def unlock_login(session: Session, actor: Person, person: Person) -> None:
    """Let the person try their password again from everywhere, at once."""
    if not can_manage_person(actor, person):
        raise AdminRefused(Message(N_("This person also has roles you do not manage.")))
    unlock(session, person.id)
    session.flush()


NOT_CURRENT = N_("This is not your current password.")


@dataclass(frozen=True)
class PasswordChange:
    """What checking a change of one's own password found, before anything is written."""

    person_id: int
    checked_hash: str  # the password hash the current password was compared with
    current_wrong: bool
    errors: Mapping[str, Message]
    new_hash: str  # computed only when nothing was wrong
    source: str  # where wrong current passwords are counted, as for logins


def check_password_change(
    session: Session,
    person: Person,
    *,
    current: str,
    new: str,
    repeat: str,
    source: LoginSource,
    now: datetime,
) -> PasswordChange:
    """Compare the current password and hash the new one (the slow parts), reading only.

    After a one-time password the current one is not asked. Wrong current passwords count
    towards the same lock as wrong logins from this source (see models/throttle.py), so a
    stolen session cannot guess it; refuses with `LoginLocked` while it is locked.
    """
    key = source.key(person.id)
    asked = not person.must_change_password
    if asked:
        wait = locked_for(session, person.id, key, now=now)
        if wait:
            raise login_locked(wait)
    errors: dict[str, Message] = {}
    wrong = asked and not person.check_password(current)
    if wrong:
        errors["current"] = Message(NOT_CURRENT)
    clean_password(new, errors, "new")
    if "new" not in errors and new != repeat:
        errors["repeat"] = Message(N_("The two passwords differ."))
    if "new" not in errors and "current" not in errors and new == current:
        errors["new"] = Message(N_("Choose a new password, not the current one."))
    if errors and not wrong:
        raise SubmissionInvalid(errors)
    return PasswordChange(
        person_id=person.id,
        checked_hash=person.password_hash,
        current_wrong=wrong,
        errors=errors,
        new_hash="" if errors else hash_password(new),
        source=key,
    )


def save_password_change(
    session: Session, person: Person, change: PasswordChange, *, now: datetime
) -> None:
    """Write what the check found, in the write transaction, on the person as they are now.

    A wrong current password is counted, then refused with `SubmissionInvalid` (the door
    keeps the count), or with `LoginLocked` when guesses sent alongside locked it meanwhile.
    A password changed since the check (another tab, an administrator) refuses the change.
    """
    if change.current_wrong:
        wait = count_failure(session, person.id, change.source, now=now)
        if wait:
            raise login_locked(wait)
        raise SubmissionInvalid(dict(change.errors))
    if person.id != change.person_id or person.password_hash != change.checked_hash:
        raise SubmissionInvalid({"current": Message(NOT_CURRENT)})
    person.set_password("", hashed=change.new_hash)
    session.flush()


def change_own_password(
    session: Session,
    person: Person,
    *,
    current: str,
    new: str,
    repeat: str,
    now: datetime,
    source: LoginSource | None = None,
) -> None:
    """A person chooses their own password in one transaction (the web door splits it:
    `check_password_change` reading, then `save_password_change`)."""
    change = check_password_change(
        session,
        person,
        current=current,
        new=new,
        repeat=repeat,
        source=source or LoginSource(),
        now=now,
    )
    save_password_change(session, person, change, now=now)
