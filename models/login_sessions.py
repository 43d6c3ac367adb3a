"""Logins that can be ended: each one a row, so logging out, a new password or an
administrator closes it on the server, not only in the browser that asked.

A login is known to its browser by a random token (kept in the session and remember
cookies); the server keeps only the token's sha256, so a copy of the database opens nothing.
A login lasts `lasting` (the door's server.remember_days) after it was last seen, as the
browser's cookie does, and is seen again at most every `SEEN_EVERY`, so a person reading
pages does not write on every request (on SQLite every write queues for the one lock).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import ForeignKey, String, bindparam, select, update
from sqlalchemy.orm import Mapped, Session, joinedload, mapped_column, relationship

from models.audit import audit
from models.base import Base
from models.messages import N_, DomainError, Message
from models.people import Person, RoleGrant
from models.staff import AdminRefused, can_manage_person

SEEN_EVERY = timedelta(minutes=5)
USER_AGENT_MAX = 200
ADDRESS_MAX = 45  # the longest IPv6 address written out


class LoginSession(Base):
    """One login of a person in one browser, from its start until it is ended or expires."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    user_agent: Mapped[str] = mapped_column(String(USER_AGENT_MAX), default="")
    address: Mapped[str] = mapped_column(String(ADDRESS_MAX), default="")
    ended_at: Mapped[datetime | None]

    person: Mapped[Person] = relationship()

    # The token itself, known only in the request that started or presented it.
    token = ""


class LoginSessionNotFound(DomainError):
    """No such login of this person (or it has ended): the door answers 404."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(
    session: Session, person: Person, *, user_agent: str, address: str, now: datetime
) -> LoginSession:
    """A new login for the person; its `token` is handed to the browser and never stored."""
    token = secrets.token_urlsafe(32)
    login = LoginSession(
        person_id=person.id,
        person=person,
        token_sha256=_digest(token),
        created_at=now,
        last_seen_at=now,
        user_agent=user_agent[:USER_AGENT_MAX],
        address=address[:ADDRESS_MAX],
    )
    session.add(login)
    session.flush()
    login.token = token
    person.login_session = login
    return login


def session_for_token(
    session: Session, token: str, *, now: datetime, lasting: timedelta
) -> LoginSession | None:
    """The open login a browser's token belongs to, with its person; None when the token is
    unknown, the login ended, was not seen for `lasting`, or the person's login is off."""
    if not token:
        return None
    login = session.scalars(_login_by_digest(), {"digest": _digest(token)}).unique().one_or_none()
    if (
        login is None
        or login.ended_at is not None
        or login.last_seen_at + lasting <= now
        or not login.person.active
    ):
        return None
    login.token = token
    login.person.login_session = login
    return login


@cache
def _login_by_digest() -> Any:
    """Built once: every request of someone logged in asks it."""
    return (
        select(LoginSession)
        .where(LoginSession.token_sha256 == bindparam("digest", type_=String))
        # Every page reads the person's roles and their district's time zone: one query.
        .options(
            joinedload(LoginSession.person).joinedload(Person.grants).joinedload(RoleGrant.district)
        )
    )


def due_to_be_seen(login: LoginSession, *, now: datetime) -> bool:
    """Whether this request should note the login as seen (at most every `SEEN_EVERY`)."""
    return login.last_seen_at + SEEN_EVERY <= now


def mark_seen(session: Session, login_id: int, *, now: datetime) -> None:
    """Note an open login as seen now, unless another request just did."""
    session.execute(
        update(LoginSession)
        .where(
            LoginSession.id == login_id,
            LoginSession.ended_at.is_(None),
            LoginSession.last_seen_at <= now - SEEN_EVERY,
        )
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )


def end_session(session: Session, login: LoginSession, *, now: datetime) -> None:
    """The login ends: its cookies open nothing any more."""
    if login.ended_at is None:
        login.ended_at = now
        session.flush()


def end_all_sessions(
    session: Session, person: Person, *, now: datetime, except_: LoginSession | None = None
) -> None:
    """End every open login of the person, but `except_` (the one they are using)."""
    query = update(LoginSession).where(
        LoginSession.person_id == person.id, LoginSession.ended_at.is_(None)
    )
    if except_ is not None:
        query = query.where(LoginSession.id != except_.id)
    session.execute(query.values(ended_at=now).execution_options(synchronize_session="fetch"))
    session.flush()


def sessions_of(
    session: Session, person: Person, *, now: datetime, lasting: timedelta
) -> list[LoginSession]:
    """The person's open logins, the most recently seen first."""
    return list(
        session.scalars(
            select(LoginSession)
            .where(
                LoginSession.person_id == person.id,
                LoginSession.ended_at.is_(None),
                LoginSession.last_seen_at > now - lasting,
            )
            .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc())
        )
    )


def end_own_session(session: Session, person: Person, login_id: int, *, now: datetime) -> None:
    """The person ends one of their logins (a phone lost, a shared computer left logged in)."""
    login = session.get(LoginSession, login_id)
    if login is None or login.person_id != person.id or login.ended_at is not None:
        raise LoginSessionNotFound(Message(N_("This login has already ended.")))
    end_session(session, login, now=now)


def end_sessions_of(session: Session, actor: Person, person: Person, *, now: datetime) -> None:
    """An administrator logs the person out everywhere (a phone lost, someone leaving)."""
    if not can_manage_person(actor, person):
        raise AdminRefused(Message(N_("This person also has roles you do not manage.")))
    end_all_sessions(session, person, now=now)
    audit(session, actor, "person.sessions_ended", person, now=now)


@dataclass(frozen=True)
class Device:
    """What a person recognises a login by: the browser or app, and the system it runs on.

    Names are catalogue msgids where they have a Chinese name (微信), brand names otherwise.
    """

    browser: str
    system: str


UNKNOWN = N_("Unknown")

# Checked in order: apps embed a browser and name it too (WeChat's says Safari and Chrome).
BROWSERS = (
    ("wxwork/", N_("WeCom")),
    ("micromessenger/", N_("WeChat")),
    ("dingtalk", N_("DingTalk")),
    ("mqqbrowser/", N_("QQ Browser")),
    ("ucbrowser/", N_("UC Browser")),
    ("huaweibrowser/", N_("Huawei Browser")),
    ("edg", "Edge"),
    ("firefox/", "Firefox"),
    ("chrome/", "Chrome"),
    ("crios/", "Chrome"),
    ("safari/", "Safari"),
)
SYSTEMS = (
    ("iphone", "iPhone"),
    ("ipad", "iPad"),
    ("harmonyos", N_("HarmonyOS")),
    ("openharmony", N_("HarmonyOS")),
    ("android", "Android"),
    ("windows", "Windows"),
    ("mac os x", "macOS"),
    ("cros", "ChromeOS"),
    ("linux", "Linux"),
)
EDGE_RE = re.compile(r"\bedg(e|a|ios)?/")


def device_of(user_agent: str) -> Device:
    """The browser and system a user agent names, or `UNKNOWN` for either."""
    agent = user_agent.lower()
    browser = next(
        (
            name
            for needle, name in BROWSERS
            if (EDGE_RE.search(agent) if needle == "edg" else needle in agent)
        ),
        UNKNOWN,
    )
    system = next((name for needle, name in SYSTEMS if needle in agent), UNKNOWN)
    return Device(browser, system)
