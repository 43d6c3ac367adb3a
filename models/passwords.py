"""Passwords: the rules one meets, changing one's own, and an administrator letting someone
back in (a one-time password, a sign-in code, a lockout lifted)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from models.audit import audit
from models.fields import TOO_LONG
from models.login_sessions import LoginSession, end_all_sessions
from models.messages import N_, Message, SubmissionInvalid
from models.people import (
    MIN_PASSWORD_LENGTH,
    LoginSource,
    Person,
    hash_password,
    login_locked,
    new_sign_in_code,
)
from models.staff import AdminRefused, can_manage_person
from models.throttle import count_failure, locked_for, unlock

PASSWORD_MAX = 200
# zxcvbn's guess of how hard a password is to guess, 0 to 4: 0 and 1 are the common passwords
# ("12345678", "password", "qwertyuiop", "88888888", "abc12345") and their small variations.
WEAKEST_ALLOWED = 2
# zxcvbn's work grows with the length; past this it is a passphrase and needs no guess.
GUESSED_UP_TO = 64
TOO_COMMON = N_(
    "This password is too common or too easy to guess. Choose a longer one: a few words "
    "or a short sentence are easy to remember."
)


def clean_password(
    password: str,
    errors: dict[str, Message],
    field: str = "password",
    *,
    about: tuple[str, ...] = (),
) -> str:
    """Long enough, not too long, and not a common password (nor one made of `about`: the
    person's login and name, which strangers can read or guess)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        errors[field] = Message(
            N_("A password needs at least %(count)d characters."), {"count": MIN_PASSWORD_LENGTH}
        )
    elif len(password) > PASSWORD_MAX:
        errors[field] = Message(TOO_LONG, {"count": PASSWORD_MAX})
    elif len(password) <= GUESSED_UP_TO and (
        zxcvbn(password, user_inputs=[a for a in about if a])["score"] < WEAKEST_ALLOWED
    ):
        errors[field] = Message(TOO_COMMON)
    return password


def _about(person: Person) -> tuple[str, ...]:
    """What strangers may know of a person, which their password should not be made of."""
    return (person.username, person.display_name, person.phone or "")


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
    clean_password(password, errors, about=_about(person))
    if errors:
        raise SubmissionInvalid(errors)
    person.set_one_time_password(password, now=now, hashed=hashed)
    audit(session, actor, "person.password_reset", person, after={"password": "set"}, now=now)
    unlock(session, person.id)
    # Whoever knew the old password, or holds a phone still logged in, is let out.
    end_all_sessions(session, person, now=now)
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
    audit(session, actor, "person.sign_in_code", person, after={"password": "set"}, now=now)
    unlock(session, person.id)
    end_all_sessions(session, person, now=now)
    session.flush()
    return code


def unlock_login(
    session: Session, actor: Person, person: Person, *, now: datetime | None = None
) -> None:
    """Let the person try their password again from everywhere, at once."""
    if not can_manage_person(actor, person):
        raise AdminRefused(Message(N_("This person also has roles you do not manage.")))
    unlock(session, person.id)
    audit(session, actor, "person.unlocked", person, now=now or datetime.now(UTC))
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
    clean_password(new, errors, "new", about=_about(person))
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
    session: Session,
    person: Person,
    change: PasswordChange,
    *,
    now: datetime,
    keeping: LoginSession | None = None,
) -> None:
    """Write what the check found, in the write transaction, on the person as they are now.

    A wrong current password is counted, then refused with `SubmissionInvalid` (the door
    keeps the count), or with `LoginLocked` when guesses sent alongside locked it meanwhile.
    A password changed since the check (another tab, an administrator) refuses the change.
    Saved, it ends every login of the person but `keeping` (the one it was made in).
    """
    if change.current_wrong:
        wait = count_failure(session, person.id, change.source, now=now)
        if wait:
            raise login_locked(wait)
        raise SubmissionInvalid(dict(change.errors))
    if person.id != change.person_id or person.password_hash != change.checked_hash:
        raise SubmissionInvalid({"current": Message(NOT_CURRENT)})
    person.set_password("", hashed=change.new_hash)
    audit(session, person, "person.password_changed", person, after={"password": "set"}, now=now)
    end_all_sessions(session, person, now=now, except_=keeping)
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
    keeping: LoginSession | None = None,
) -> None:
    """A person chooses their own password in one transaction (the web door splits it:
    `check_password_change` reading, then `save_password_change`); their logins but
    `keeping` end."""
    change = check_password_change(
        session,
        person,
        current=current,
        new=new,
        repeat=repeat,
        source=source or LoginSource(),
        now=now,
    )
    save_password_change(session, person, change, now=now, keeping=keeping)
