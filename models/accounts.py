"""New logins at a school, typed in a form or imported from a spreadsheet, checked alike."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from models.audit import audit
from models.fields import REQUIRED, clean_text
from models.import_kinds import Column, ImportContext, ImportKind, Row
from models.messages import N_, Message, SubmissionInvalid
from models.org import School
from models.passwords import clean_password
from models.people import (
    ROLE_LABELS,
    Person,
    Role,
    RoleGrant,
    create_person,
    grant_role,
    new_sign_in_code,
    normalise_login,
    one_time_password_columns,
)
from models.phones import normalise_mobile
from models.spreadsheets import alias_choices, aliases, header_key
from models.staff import clean_role

USERNAME_MAX = 64
DISPLAY_NAME_MAX = 100


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
        password = clean_password(password, errors, about=(username, display_name, phone))
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
    person = create_school_person(session, school, new, now=now, hashed=hashed)
    added = {"username": person.username, "phone": person.phone, "role": new.role.value}
    audit(
        session, actor, "person.created", person, {}, added, now=now, district_id=school.district_id
    )
    return person


# --- importing people from a spreadsheet ------------------------------------------------


ROLE_ALIASES: dict[str, Role] = aliases(
    {
        "食堂从业人员": Role.CANTEEN_STAFF,
        "食堂员工": Role.CANTEEN_STAFF,
        "食堂人员": Role.CANTEEN_STAFF,
        "宿舍管理员": Role.DORM_STAFF,
        "宿管": Role.DORM_STAFF,
        "教师": Role.TEACHER,
        "老师": Role.TEACHER,
        "校车工作人员": Role.BUS_STAFF,
        "校车驾驶员": Role.BUS_STAFF,
        "司机": Role.BUS_STAFF,
        "照管员": Role.BUS_STAFF,
        "安全检查员": Role.INSPECTOR,
        "检查员": Role.INSPECTOR,
        "食品安全员": Role.FOOD_SAFETY_OFFICER,
        "食品安全管理员": Role.FOOD_SAFETY_OFFICER,
        "学校管理员": Role.SCHOOL_ADMIN,
        "门卫": Role.GUARD,
        "保安": Role.GUARD,
        "保洁员": Role.CLEANER,
        "保洁": Role.CLEANER,
        "供水人员": Role.WATER_STAFF,
        "管水人员": Role.WATER_STAFF,
        "区级管理员": Role.DISTRICT_ADMIN,
        **{role.value: role for role in Role},
        **{label: role for role, label in ROLE_LABELS.items()},
    }
)

PEOPLE_COLUMNS = (
    Column(
        "username",
        ("用户名", "username"),
        required=True,
        example="zhangsan",
        note="字母或数字，无空格，不重复",
    ),
    Column("display_name", ("姓名", "name", "display_name"), required=True, example="张三"),
    Column(
        "phone",
        ("手机", "phone", "手机号", "电话"),
        example="13800000000",
        note="可用来登录，不重复",
    ),
    Column(
        "role",
        ("角色", "role"),
        required=True,
        example="教师",
        choices=("食堂从业人员", "宿舍管理员", "教师", "校车工作人员", "安全检查员", "学校管理员"),
    ),
    Column(
        "password",
        ("初始密码", "password", "密码"),
        note="可不填：导入后打印一次性登录码；填写的初始密码只能用一次，登录后须改为自己的密码",
    ),
)


@dataclass(frozen=True)
class SignInSlip:
    """A one-time sign-in code for one imported person, shown once to print and hand out."""

    username: str
    display_name: str
    code: str


SIGN_IN = "sign_in_slips"


def check_person_row(session: Session, context: ImportContext, row: int, values: Row) -> NewPerson:
    """One person row: a new username and phone, a role the importer may grant, and a
    password or none (they get a one-time sign-in code)."""
    errors: dict[str, Message] = {}
    role_text = values.get("role", "")
    role = ROLE_ALIASES.get(header_key(role_text)) if role_text else None
    new = clean_new_person(
        session,
        context.actor,
        context.school,
        errors,
        username=values.get("username", ""),
        display_name=values.get("display_name", ""),
        phone=values.get("phone", ""),
        password=values.get("password", ""),
        role=role,
        password_optional=True,
    )
    if not role_text:
        errors["role"] = Message(REQUIRED)
    elif role is None:
        errors["role"] = Message(
            N_("Unknown role %(value)s. Use one of: %(choices)s."),
            {"value": role_text, "choices": alias_choices(ROLE_ALIASES)},
        )
    for column, value in (("username", new.username), ("phone", new.phone)):
        if value and column not in errors:
            repeated = context.repeated(column, value, row)
            if repeated is not None:
                errors[column] = repeated
    if errors:
        raise SubmissionInvalid(errors)
    return new


def save_person_row(session: Session, context: ImportContext, new: NewPerson) -> None:
    save_person_rows(session, context, [new])


def save_person_rows(session: Session, context: ImportContext, rows: list[NewPerson]) -> None:
    """Everyone with a one-time password (the file's, or a new sign-in code to hand out) and
    their role, in two bulk inserts: no slow hash and no round trip per row, so the write
    lock is held briefly."""
    school, now = context.school, context.now
    slips: list[SignInSlip] = context.cache.setdefault(SIGN_IN, [])
    people = []
    for new in rows:
        code = new.password or new_sign_in_code()
        people.append(
            {
                "username": new.username,
                "phone": new.phone,
                "display_name": new.display_name,
                "created_at": now,
                "active": True,
                **one_time_password_columns(code, now=now, quick=True),
            }
        )
        if not new.password:
            slips.append(SignInSlip(new.username, new.display_name, code))
    ids = dict(session.execute(insert(Person).returning(Person.username, Person.id), people).all())
    session.execute(
        insert(RoleGrant),
        [
            {
                "person_id": ids[new.username],
                "role": new.role,
                "district_id": school.district_id,
                "school_id": None if new.role == Role.DISTRICT_ADMIN else school.id,
            }
            for new in rows
        ],
    )


PEOPLE_IMPORT = ImportKind(
    key="people",
    label=N_("People"),
    columns=PEOPLE_COLUMNS,
    check_row=check_person_row,
    save_row=save_person_row,
    save_rows=save_person_rows,
    checking=logins_read_once,
)
