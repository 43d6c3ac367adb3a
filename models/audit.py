"""The audit log: every administrator's change and every sign-in, who, when, from where,
what, before and after. Rows are only ever added; the database itself refuses to change or
delete one (a trigger on each engine), and nothing purges them: they are kept as the records.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    DDL,
    ForeignKey,
    Index,
    Select,
    String,
    and_,
    event,
    or_,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base
from models.messages import N_
from models.org import District
from models.paging import Page, page_of

if TYPE_CHECKING:
    from models.people import Person  # the people module logs its sign-ins here

ORIGIN = "origin"  # the key of a session's `info` under which its door leaves its Origin
# Field names whose values never go into the log: it says that a password changed, not to what.
SECRET_PARTS = ("password", "hash", "secret", "token")
PASSWORD_CHANGED = "changed"


@dataclass(frozen=True)
class Origin:
    """Where a change came from: the channel (web, telegram, cli, scheduler) and, on the web,
    the address and browser. A door leaves one on its session (`set_origin`)."""

    channel: str
    address: str = ""
    agent: str = ""


def set_origin(session: Session, origin: Origin) -> None:
    """Say where this session's work comes from, for every entry it writes."""
    session.info[ORIGIN] = origin


# What each entry's action says, as a district administrator reads it.
ACTIONS: dict[str, str] = {
    "login.succeeded": N_("Signed in"),
    "login.failed": N_("Sign-in refused"),
    "login.locked": N_("Login locked after wrong passwords"),
    "person.created": N_("Person added"),
    "person.edited": N_("Person changed"),
    "person.deactivated": N_("Login switched off"),
    "person.reactivated": N_("Login switched on"),
    "person.role_granted": N_("Role granted"),
    "person.role_revoked": N_("Role taken away"),
    "person.password_reset": N_("One-time password set"),
    "person.sign_in_code": N_("Sign-in code issued"),
    "person.password_changed": N_("Own password changed"),
    "person.unlocked": N_("Login unlocked"),
    "person.sessions_ended": N_("Logins ended by an administrator"),
    "asset.created": N_("Asset added"),
    "asset.edited": N_("Asset changed"),
    "asset.retired": N_("Asset retired"),
    "asset.reactivated": N_("Asset back in use"),
    "label.revoked": N_("Label revoked"),
    "checklist.published": N_("Checklist published"),
    "checklist.edited": N_("Checklist changed"),
    "schedule.changed": N_("Schedule changed"),
    "calendar.changed": N_("Calendar changed"),
    "import.saved": N_("File imported"),
    "flags.explained": N_("Flags explained"),
    "supplier.created": N_("Supplier added"),
    "supplier.edited": N_("Supplier changed"),
    "document.added": N_("Document added"),
    "document.renewed": N_("Document renewed"),
    "place.added": N_("Place added"),
    "school.stage_set": N_("School stage set"),
    "school.position_set": N_("School position set"),
    "group.added": N_("Notice group added"),
    "group.disabled": N_("Notice group switched off"),
    "score.changed": N_("Score weights changed"),
    "person.chat_linked": N_("Chat linked"),
    "person.chat_unlinked": N_("Chat unlinked"),
}

# What each field an entry names is called, as a district administrator reads it; a field
# not named here is shown by its own name.
FIELD_LABELS: dict[str, str] = {
    "login": N_("Login tried"),
    "active": N_("On"),
    "role": N_("Role"),
    "school": N_("School"),
    "password": N_("Password"),
    "username": N_("Username"),
    "phone": N_("Mobile phone"),
    "wecom": N_("WeCom user id"),
    "email": N_("E-mail"),
    "code": N_("Code"),
    "name": N_("Name"),
    "location": N_("Place"),
    "responsible": N_("Responsible"),
    "attributes": N_("Attributes"),
    "retired_reason": N_("Why retired"),
    "position": N_("Label position"),
    "key": N_("Checklist"),
    "version": N_("Version"),
    "roles": N_("Who files it"),
    "boarding": N_("Boarding school"),
    "rule": N_("Schedule"),
    "remind_before": N_("Reminder (minutes before)"),
    "escalate_school_after": N_("To the school after (minutes)"),
    "escalate_district_after": N_("To the district after (minutes)"),
    "kind": N_("Kind"),
    "starts_on": N_("First day"),
    "ends_on": N_("Last day"),
    "file": N_("File"),
    "rows_added": N_("Rows added"),
    "note": N_("Note"),
    "contact": N_("Contact person"),
    "categories": N_("Approved for"),
    "designated_brands": N_("Designated brands"),
    "approved": N_("Approved"),
    "title": N_("Title"),
    "number": N_("Number"),
    "insurance_type": N_("Type of insurance"),
    "issued_on": N_("Issued on"),
    "expires_on": N_("Valid until"),
    "holder": N_("Held by"),
    "building": N_("Building"),
    "floor": N_("Floor"),
    "room": N_("Room"),
    "stage": N_("School stage"),
    "latitude": N_("Latitude"),
    "longitude": N_("Longitude"),
    "radius_m": N_("Radius (metres)"),
    "label": N_("Group name"),
    "channel": N_("Channel"),
    "min_severity": N_("Notices from"),
    "webhook_secret": N_("Webhook key or access token"),
    "signing_secret": N_("Signing secret (DingTalk)"),
    "enabled": N_("On"),
    "drill_every_days": N_("A fire drill is due every so many days"),
    "telegram": N_("Telegram chat"),
}
# Where one field name means something else on one kind of target (its table's name), what it
# is called there instead: a person's `active` is their login, a duty's its schedule.
KIND_FIELD_LABELS: dict[str, dict[str, str]] = {
    "person": {"active": N_("Login on")},
    "duty": {"active": N_("Schedule on")},
}
# Where a change came from, as the door that made it says.
CHANNEL_LABELS: dict[str, str] = {
    "web": N_("Web"),
    "telegram": N_("Telegram"),
    "cli": N_("Command line"),
    "scheduler": N_("Scheduler"),
}


class AuditEntry(Base):
    """One change or sign-in, as it was; never changed afterwards."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_district_at", "district_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: a sign-in tried with a login nobody has, which belongs to no district.
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    # The actor's name then, or the login tried when nobody has it.
    actor_label: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(16), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    agent: Mapped[str] = mapped_column(String(300), default="")
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_kind: Mapped[str] = mapped_column(String(32), default="")
    target_id: Mapped[int | None]
    # What the target was called then, readable after it is renamed or gone.
    target_label: Mapped[str] = mapped_column(String(200), default="")
    before: Mapped[dict[str, Any]] = mapped_column(default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(default=dict)

    actor: Mapped[Person | None] = relationship()

    @property
    def action_text(self) -> str:
        """The action's msgid, for the door to translate; an unknown code is shown as is."""
        return ACTIONS.get(self.action, self.action)

    def field_text(self, name: str) -> str | None:
        """The msgid of a field this entry names, as its kind of target calls it; None: the
        log has no word for it."""
        return KIND_FIELD_LABELS.get(self.target_kind, {}).get(name) or FIELD_LABELS.get(name)

    @property
    def changed(self) -> list[tuple[str, Any, Any]]:
        """Each field the entry names: its name, its value before and after (None: unset)."""
        names = list(self.before) + [name for name in self.after if name not in self.before]
        return [(name, self.before.get(name), self.after.get(name)) for name in names]


_REFUSED = "audit entries are never changed or deleted"
_SQLITE_GUARD = [
    f"CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
    f"BEGIN SELECT RAISE(ABORT, '{_REFUSED}'); END",
    f"CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry "
    f"BEGIN SELECT RAISE(ABORT, '{_REFUSED}'); END",
]
_POSTGRESQL_GUARD = [
    "CREATE OR REPLACE FUNCTION audit_entry_refuse() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN RAISE EXCEPTION '{_REFUSED}'; END $$",
    "CREATE TRIGGER audit_entry_no_change BEFORE UPDATE OR DELETE ON audit_entry "
    "FOR EACH ROW EXECUTE FUNCTION audit_entry_refuse()",
]
_SQLITE_LIFT = [
    "DROP TRIGGER IF EXISTS audit_entry_no_update",
    "DROP TRIGGER IF EXISTS audit_entry_no_delete",
]
_POSTGRESQL_LIFT = ["DROP TRIGGER IF EXISTS audit_entry_no_change ON audit_entry"]


def guard_statements(dialect: str) -> list[str]:
    """The DDL that makes the database refuse an UPDATE or DELETE of an audit row."""
    return _POSTGRESQL_GUARD if dialect == "postgresql" else _SQLITE_GUARD


def lift_statements(dialect: str) -> list[str]:
    """The DDL that takes the guard away (a restore with --force replaces every row)."""
    return _POSTGRESQL_LIFT if dialect == "postgresql" else _SQLITE_LIFT


def guard(connection: Connection) -> None:
    for statement in guard_statements(connection.dialect.name):
        connection.exec_driver_sql(statement)


def lift_guard(connection: Connection) -> None:
    for statement in lift_statements(connection.dialect.name):
        connection.exec_driver_sql(statement)


for _dialect, _statements in (("sqlite", _SQLITE_GUARD), ("postgresql", _POSTGRESQL_GUARD)):
    for _statement in _statements:
        event.listen(
            AuditEntry.__table__,
            "after_create",
            DDL(_statement).execute_if(dialect=_dialect),
        )


def _plain(value: Any) -> Any:
    """A value as JSON keeps it: an enum by its value, a date or time in ISO 8601."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _secret(name: str) -> bool:
    return any(part in name.lower() for part in SECRET_PARTS)


def fields_of(target: object, names: tuple[str, ...]) -> dict[str, Any]:
    """The named fields of an entity as they are now, to compare after a change."""
    return {name: _plain(getattr(target, name)) for name in names}


def differences(
    before: dict[str, Any], after: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Just the fields that changed, before and after."""
    names = [name for name in after if before.get(name) != after[name]]
    return {n: before.get(n) for n in names}, {n: after[n] for n in names}


def label_of(target: object) -> str:
    """What a target is called, as a person reads it later."""
    for name in ("display_name", "name", "label", "username", "code"):
        value = getattr(target, name, None)
        if isinstance(value, str) and value:
            return value[:200]
    spec = getattr(target, "spec", None)  # a checklist, by its title
    title = getattr(spec if spec is not None else target, "title", None)
    if isinstance(title, dict):
        return str(title.get("zh_CN") or title.get("en") or next(iter(title.values()), ""))[:200]
    return ""


def _district_of(target: object, actor: Person | None) -> int | None:
    for candidate in (target, getattr(target, "school", None), getattr(target, "asset", None)):
        if candidate is None:
            continue
        if isinstance(candidate, District):
            return candidate.id
        district_id = getattr(candidate, "district_id", None)
        if isinstance(district_id, int):
            return district_id
        school = getattr(candidate, "school", None)
        if school is not None and isinstance(getattr(school, "district_id", None), int):
            return int(school.district_id)
    for person in (target, actor):
        grants = getattr(person, "grants", None)
        if grants:
            return int(grants[0].district_id)
    return None


def audit(
    session: Session,
    actor: Person | None,
    action: str,
    target: object | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    *,
    now: datetime,
    district_id: int | None = None,
    label: str | None = None,
) -> AuditEntry:
    """Log one change by `actor` (None: nobody known) to `target`, with the fields that changed.

    A password's, hash's, secret's or token's value is never kept, only that it changed. The
    district is the target's (its school's), else the actor's. One INSERT, at the next flush.
    """
    origin = session.info.get(ORIGIN) or Origin(channel="")
    kept_before = {
        k: PASSWORD_CHANGED if _secret(k) else _plain(v) for k, v in (before or {}).items()
    }
    kept_after = {
        k: PASSWORD_CHANGED if _secret(k) else _plain(v) for k, v in (after or {}).items()
    }
    target_id = getattr(target, "id", None)
    entry = AuditEntry(
        district_id=district_id if district_id is not None else _district_of(target, actor),
        actor_id=actor.id if actor is not None else None,
        actor_label=(actor.display_name if actor is not None else "")[:200],
        at=now,
        channel=origin.channel[:16],
        address=origin.address[:64],
        agent=origin.agent[:300],
        action=action,
        target_kind=getattr(getattr(target, "__table__", None), "name", "") if target else "",
        target_id=target_id if isinstance(target_id, int) else None,
        target_label=label if label is not None else label_of(target),
        before=kept_before,
        after=kept_after,
    )
    session.add(entry)
    return entry


@dataclass(frozen=True)
class AuditFilter:
    """What a district administrator narrows the log to; None or empty: everything."""

    person_id: int | None = None
    action: str = ""
    since: datetime | None = None
    until: datetime | None = None


def entries_query(district_id: int, chosen: AuditFilter) -> Select[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.district_id == district_id)
    if chosen.person_id is not None:
        # By the person, or about them (a sign-in refused, a role they were given).
        query = query.where(
            or_(
                AuditEntry.actor_id == chosen.person_id,
                and_(AuditEntry.target_kind == "person", AuditEntry.target_id == chosen.person_id),
            )
        )
    if chosen.action:
        query = query.where(AuditEntry.action == chosen.action)
    if chosen.since is not None:
        query = query.where(AuditEntry.at >= chosen.since)
    if chosen.until is not None:
        query = query.where(AuditEntry.at < chosen.until)
    return query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())


def audit_page(
    session: Session, reader: Person, district: District, chosen: AuditFilter, number: Any = 1
) -> Page[AuditEntry] | None:
    """The district's log, newest first, for one of its district administrators; None for
    anyone else."""
    if not reader.is_district_admin_of(district.id):
        return None
    return page_of(session, entries_query(district.id, chosen), number)
