"""People, their roles at schools, and who may see what."""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Enum,
    ForeignKey,
    Select,
    String,
    UniqueConstraint,
    bindparam,
    false,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from models.audit import audit
from models.base import Base
from models.catalogue import DEFAULT_LOCALE, LOCALES, locale_named
from models.messages import N_, DomainError, Message
from models.org import DEFAULT_TIMEZONE, District, School
from models.phones import normalise_mobile
from models.throttle import (
    clear_failures,
    count_failure,
    count_source_failure,
    locked_for,
    source_locked_for,
)

if TYPE_CHECKING:
    from models.login_sessions import LoginSession


class Role(enum.StrEnum):
    CANTEEN_STAFF = "canteen_staff"
    DORM_STAFF = "dorm_staff"
    TEACHER = "teacher"
    # School-bus drivers and attendants (校车驾驶人、照管人员): the pre-trip check, the trips.
    BUS_STAFF = "bus_staff"
    INSPECTOR = "inspector"
    # The canteen's food-safety officer (食品安全员): files its checks, writes and signs the
    # weekly investigation report (市场监管总局令第60号).
    FOOD_SAFETY_OFFICER = "food_safety_officer"
    SCHOOL_ADMIN = "school_admin"
    DISTRICT_ADMIN = "district_admin"
    # Gate guards and cleaners (门卫、保洁员): trained before they start, as dorm managers are.
    GUARD = "guard"
    CLEANER = "cleaner"
    # Those who handle the drinking water (供、管水人员): a health certificate before they start.
    WATER_STAFF = "water_staff"


ROLE_LABELS = {
    Role.CANTEEN_STAFF: N_("Canteen staff"),
    Role.DORM_STAFF: N_("Dormitory staff"),
    Role.TEACHER: N_("Teacher"),
    Role.BUS_STAFF: N_("Bus staff"),
    Role.INSPECTOR: N_("Inspector"),
    Role.FOOD_SAFETY_OFFICER: N_("Food-safety officer"),
    Role.SCHOOL_ADMIN: N_("School administrator"),
    Role.DISTRICT_ADMIN: N_("District administrator"),
    Role.GUARD: N_("Guard"),
    Role.CLEANER: N_("Cleaner"),
    Role.WATER_STAFF: N_("Drinking-water staff"),
}


class Person(Base):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    phone: Mapped[str | None] = mapped_column(String(32), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(256))
    locale: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(default=True)
    # A one-time password (set by an administrator, or a sign-in code from an import) works
    # until it expires, and only to choose one's own.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    password_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="person", cascade="all, delete-orphan", lazy="selectin"
    )

    # The four members a login library expects of a user, without importing one.
    is_authenticated = True
    is_anonymous = False

    if TYPE_CHECKING:
        # The login this person came in through, in the request that started or presented it
        # (models/login_sessions.py); not a column.
        login_session: LoginSession | None
    else:
        login_session = None

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        """The token of the login in use: a login library keeps it in the browser's cookies
        and hands it back to find the login (and the person) again."""
        if self.login_session is None:
            raise ValueError("this person came in through no login session")
        return self.login_session.token

    def set_password(self, password: str, *, hashed: str | None = None) -> None:
        """The person's own password: slow to hash, valid until they change it.

        `hashed` is its `hash_password`, computed by a door before its write transaction.
        """
        self.password_hash = hashed or hash_password(password)
        self.must_change_password = False
        self.password_expires_at = None

    def set_one_time_password(
        self, password: str, *, now: datetime, quick: bool = False, hashed: str | None = None
    ) -> None:
        """A password to log in once with and choose one's own; it expires unused.

        `quick` hashes it cheaply, for the many an import hands out on one request: they were
        in a spreadsheet or on a printed sheet already, expire, and are guessed online only
        as slowly as the throttle allows. `hashed` is its hash computed ahead by a door.
        """
        columns = one_time_password_columns(password, now=now, quick=quick, hashed=hashed)
        for name, value in columns.items():
            setattr(self, name, value)

    def check_password(self, password: str) -> bool:
        if not self.password_hash:
            return False
        if check_password_hash(self.password_hash, password):
            return True
        # Sign-in codes are typed as they are printed, or in small letters, or with spaces.
        code = normalise_code(password)
        return (
            self.must_change_password
            and code != password
            and (check_password_hash(self.password_hash, code))
        )

    @property
    def is_district_admin(self) -> bool:
        return any(g.role == Role.DISTRICT_ADMIN for g in self.grants)

    def is_district_admin_of(self, district_id: int) -> bool:
        return any(
            g.role == Role.DISTRICT_ADMIN and g.district_id == district_id for g in self.grants
        )

    @property
    def home_district(self) -> District | None:
        """The district the person works in (their first role's); None before any role."""
        return self.grants[0].district if self.grants else None

    @property
    def timezone(self) -> str:
        """The time zone the person reads times in: their district's."""
        district = self.home_district
        return district.timezone if district is not None else DEFAULT_TIMEZONE

    def local(self, moment: datetime) -> datetime:
        """A moment in the time the person reads, their district's."""
        return moment.astimezone(ZoneInfo(self.timezone))

    def can_see_school(self, school: School) -> bool:
        """What `visible_school_ids` says of one school already loaded, without a query."""
        return any(
            g.school_id == school.id
            or (g.role == Role.DISTRICT_ADMIN and g.district_id == school.district_id)
            for g in self.grants
        )

    def can_manage_school(self, school: School) -> bool:
        """School administrators manage their school; district administrators every school."""
        return any(
            (g.role == Role.SCHOOL_ADMIN and g.school_id == school.id)
            or (g.role == Role.DISTRICT_ADMIN and g.district_id == school.district_id)
            for g in self.grants
        )

    def may_see_phone_of(self, other: Person) -> bool:
        """A mobile number is seen by its owner, the administrators of a school the owner works
        at and the district's; a colleague sees the name only (README, "Who may see and do
        what")."""
        return other.id == self.id or any(
            self.can_manage_school(g.school) for g in other.grants if g.school is not None
        )


class RoleGrant(Base):
    """A role held at one school, or across a district for district administrators."""

    __tablename__ = "role_grant"
    __table_args__ = (UniqueConstraint("person_id", "role", "school_id", "district_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    role: Mapped[Role] = mapped_column(
        Enum(
            Role,
            native_enum=False,
            length=32,
            values_callable=lambda roles: [r.value for r in roles],
        )
    )
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"))

    person: Mapped[Person] = relationship(back_populates="grants")
    # Loaded with the grant: a person's language and time zone are read after their session.
    district: Mapped[District] = relationship(lazy="selectin")
    school: Mapped[School | None] = relationship()


def reading_locale(person: Person | None, default: str = DEFAULT_LOCALE) -> str:
    """The language a person reads, in every door: their own choice, else their district's,
    else `default` (a door's, for a reader it does not know or one with no role yet)."""
    if person is not None:
        if person.locale in LOCALES:
            return person.locale
        district = person.home_district
        if district is not None:
            return district.locale
    return default


def set_locale(person: Person, wanted: str | None = None) -> str:
    """The person's language, from what they asked ("en", "zh", "zh-CN", …); asked nothing,
    the other one. Every door (the web's switch, the bot's /lang) changes it here."""
    chosen = locale_named(wanted)
    if chosen is None:
        reading = reading_locale(person)
        chosen = next(locale for locale in LOCALES if locale != reading)
    person.locale = chosen
    return chosen


def normalise_login(value: str) -> str:
    """Phone numbers are typed with spaces and dashes (a mobile, also with +86, is its 11
    digits); usernames are case-insensitive."""
    value = value.strip()
    mobile = normalise_mobile(value)
    if mobile is not None:
        return mobile
    digits = value.replace(" ", "").replace("-", "")
    if digits.lstrip("+").isdigit():
        return digits
    return value.lower()


def find_person_by_login(session: Session, login: str) -> Person | None:
    key = normalise_login(login)
    if not key:
        return None
    return session.scalar(
        select(Person).where(or_(Person.username == key, Person.phone == key), Person.active)
    )


MIN_PASSWORD_LENGTH = 8
ONE_TIME_VALID = timedelta(days=14)
QUICK_HASH = "pbkdf2:sha256:1"
# Werkzeug's scrypt (n = 2**15, r = 8, p = 1): about 80 ms a check. The tests lower it, as
# Django's own test settings do, and check this value once.
PASSWORD_HASH_METHOD = "scrypt:32768:8:1"
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L to mix up on paper
CODE_LENGTH = 8


def hash_password(password: str, *, quick: bool = False) -> str:
    """A password's hash: slow, so a door computes it before its write transaction begins."""
    if quick:
        return generate_password_hash(password, method=QUICK_HASH)
    return generate_password_hash(password, method=PASSWORD_HASH_METHOD)


def one_time_password_columns(
    password: str, *, now: datetime, quick: bool, hashed: str | None = None
) -> dict[str, Any]:
    """The columns of a person that hold a one-time password (see `set_one_time_password`)."""
    return {
        "password_hash": hashed or hash_password(password, quick=quick),
        "must_change_password": True,
        "password_expires_at": now + ONE_TIME_VALID,
    }


def new_sign_in_code() -> str:
    """A one-time sign-in code to print or tell: eight letters and digits, easy to read."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    return text.upper().replace(" ", "").replace("-", "")


class LoginLocked(DomainError):
    """Too many wrong passwords from here: this login waits before it is tried again here."""


def login_locked(wait: timedelta) -> LoginLocked:
    return LoginLocked(
        Message(
            N_("Too many wrong passwords. Try again in %(minutes)d minutes."),
            {"minutes": max(1, -(-int(wait.total_seconds()) // 60))},
        )
    )


class PasswordExpired(DomainError):
    """The right one-time password, but too late to use it."""


@dataclass(frozen=True)
class LoginSource:
    """Where a login comes from: an address, and the phone when it has logged in here before.

    A phone that logged in to an account before is its own source for that account, so
    guesses from the same school network do not lock its owner out.
    """

    address: str = ""
    device: str = ""
    device_people: frozenset[int] = field(default_factory=frozenset)

    def key(self, person_id: int) -> str:
        if self.device and person_id in self.device_people:
            return f"device:{self.device}"
        return f"address:{self.address}"


@dataclass(frozen=True)
class LoginCheck:
    """What checking a password found, before anything about it is written."""

    person_id: int | None
    ok: bool
    source: str = ""
    login: str = ""  # as typed, for the audit log (never the password)


def check_login(
    session: Session, login: str, password: str, *, source: LoginSource, now: datetime
) -> LoginCheck:
    """Compare the password (the slow part) reading only, so no write lock is held meanwhile.

    Refuses with `LoginLocked` while this login is locked from this source, and with
    `PasswordExpired` for a one-time password past its day.
    """
    person = find_person_by_login(session, login)
    key = source.key(person.id) if person is not None else source.key(0)
    # An address that tried too many logins is refused alike for known and unknown ones.
    wait = source_locked_for(session, key, now=now)
    if wait:
        raise login_locked(wait)
    if person is None:
        # Hash anyway so a wrong username takes as long as a wrong password.
        check_password_hash(_dummy_hash(PASSWORD_HASH_METHOD), password)
        return LoginCheck(person_id=None, ok=False, source=key, login=login)
    wait = locked_for(session, person.id, key, now=now)
    if wait:
        raise login_locked(wait)
    ok = person.check_password(password)
    if ok and person.password_expires_at is not None and person.password_expires_at <= now:
        raise PasswordExpired(
            Message(
                N_(
                    "This one-time password has expired. "
                    "Ask your school's administrator for a new one."
                )
            )
        )
    return LoginCheck(person_id=person.id, ok=ok, source=key, login=login)


def record_login(session: Session, check: LoginCheck, *, now: datetime) -> Person | None:
    """Write what a check found: a wrong password is counted, a right one clears the count.

    The lock is read again in the write transaction: a guess checked while others sent side
    by side were locking the login is refused with `LoginLocked`, right or wrong.
    """
    person = session.get(Person, check.person_id) if check.person_id is not None else None
    tried = {"login": check.login[:100]}
    if not check.ok:
        count_source_failure(session, check.source, now=now)
        audit(session, None, "login.failed", person, after=tried, now=now, label=check.login[:200])
    if check.person_id is None:
        return None
    if not check.ok:
        wait = count_failure(session, check.person_id, check.source, now=now)
        if wait:
            raise login_locked(wait)
        if locked_for(session, check.person_id, check.source, now=now):
            # Once, when the lock begins: the guesses it then refuses unread are not logged
            # one by one, so a stranger cannot fill the log (or the disk) by trying on.
            audit(
                session, None, "login.locked", person, after=tried, now=now, label=check.login[:200]
            )
        return None
    wait = locked_for(session, check.person_id, check.source, now=now)
    if wait:
        raise login_locked(wait)
    clear_failures(session, check.person_id, check.source)
    audit(session, person, "login.succeeded", person, after=tried, now=now)
    return person


def authenticate(
    session: Session,
    login: str,
    password: str,
    *,
    now: datetime,
    source: LoginSource | None = None,
) -> Person | None:
    """The person behind a username or phone number, if the password matches.

    Five wrong passwords from one source lock the login from that source for fifteen
    minutes (models/throttle.py), so a phone number, easy to guess, cannot be tried against
    a dictionary of passwords, and a stranger cannot lock its owner out.
    """
    check = check_login(session, login, password, source=source or LoginSource(), now=now)
    return record_login(session, check, now=now)


@cache
def _dummy_hash(method: str) -> str:
    """A hash as slow as a real one, checked for an unknown login."""
    return generate_password_hash("not-a-real-password", method=method)


def visible_school_ids(person: Person) -> Select[int]:
    """The schools a person may see: their own, or the whole district for district admins."""
    district_ids = [g.district_id for g in person.grants if g.role == Role.DISTRICT_ADMIN]
    school_ids = [g.school_id for g in person.grants if g.school_id is not None]
    return select(School.id).where(
        or_(School.id.in_(school_ids), School.district_id.in_(district_ids))
    )


@cache
def visible_school_ids_bound() -> Select[int]:
    """`visible_school_ids` as a statement built once, for queries built once: its person's
    schools and districts are the values `visibility_of` gives."""
    return select(School.id).where(
        or_(
            School.id.in_(bindparam("visible_school_ids", expanding=True)),
            School.district_id.in_(bindparam("visible_district_ids", expanding=True)),
        )
    )


def visibility_of(person: Person) -> dict[str, list[int]]:
    """The values `visible_school_ids_bound` needs for this person."""
    return {
        "visible_district_ids": [
            g.district_id for g in person.grants if g.role == Role.DISTRICT_ADMIN
        ],
        "visible_school_ids": [g.school_id for g in person.grants if g.school_id is not None],
    }


def visible_schools(session: Session, person: Person) -> list[School]:
    return list(
        session.scalars(
            select(School).where(School.id.in_(visible_school_ids(person))).order_by(School.code)
        )
    )


def managed_schools(session: Session, person: Person) -> list[School]:
    """The schools a person administers: their own as a school administrator, every school
    of the district as a district administrator."""
    return [
        school for school in visible_schools(session, person) if person.can_manage_school(school)
    ]


def visible_school(session: Session, person: Person, code: str) -> School | None:
    """The school with this code, if the person may see it; None otherwise."""
    return session.scalar(
        select(School).where(School.code == code, School.id.in_(visible_school_ids(person)))
    )


def can_see_school(session: Session, person: Person, school_id: int) -> bool:
    """`Person.can_see_school` for a school named by id (usually already in the session)."""
    school = session.get(School, school_id)
    return school is not None and person.can_see_school(school)


def create_person(
    session: Session,
    *,
    username: str,
    display_name: str,
    password: str,
    now: datetime,
    phone: str | None = None,
    locale: str | None = None,
    one_time: bool = False,
    hashed: str | None = None,
) -> Person:
    """A new login; with `one_time`, the password is a quick one-time one (see imports).

    `hashed` is the password's `hash_password`, computed by a door before it writes.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            Message(
                N_("A password needs at least %(count)d characters."),
                {"count": MIN_PASSWORD_LENGTH},
            )
        )
    person = Person(
        username=normalise_login(username),
        phone=normalise_login(phone) if phone else None,
        display_name=display_name,
        locale=locale,
        created_at=now,
        password_hash="",
    )
    if one_time:
        person.set_one_time_password(password, now=now, quick=True, hashed=hashed)
    else:
        person.set_password(password, hashed=hashed)
    session.add(person)
    session.flush()
    return person


def grant_role(session: Session, person: Person, role: Role, school: School) -> RoleGrant:
    """Grant a role at a school; a district admin role covers the school's whole district."""
    if school.id is None:
        session.add(school)
        session.flush()
    grant = RoleGrant(
        person=person,
        role=role,
        district_id=school.district_id,
        school_id=None if role == Role.DISTRICT_ADMIN else school.id,
    )
    session.add(grant)
    session.flush()
    return grant
