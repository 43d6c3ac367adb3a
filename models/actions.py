"""Corrective actions: a failed item gets an owner, a due date, and a history until fixed."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, bindparam, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, selectinload

from models.assets import Asset
from models.base import Base
from models.db import read_rows
from models.messages import N_, DomainError, Message, SubmissionInvalid
from models.notifications import Severity, notify, school_admins
from models.paging import PAGE_SIZE, Page, page_of
from models.people import (
    Person,
    can_see_school,
    visibility_of,
    visible_school_ids,
    visible_school_ids_bound,
)
from models.photos import Photo, PhotoStore, ProcessedPhoto, capture_time, store_photo

# Kept with a record's answers by a rule that failed an item for a reason the checklist's own
# words do not name (a worker's expired certificate): {item key: {zh_CN, en}}.
FAILURE_DETAILS = "_failures"

DUE_AFTER = {
    "critical": timedelta(days=1),
    "major": timedelta(days=3),
    "minor": timedelta(days=7),
}


class ActionStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class CorrectiveAction(Base):
    __tablename__ = "corrective_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id"), index=True)
    # The record whose failed item opened it; none for a problem someone reported.
    # Indexed: the ledgers and reports look a record's actions up by it.
    record_id: Mapped[int | None] = mapped_column(ForeignKey("record.id"), index=True)
    item_key: Mapped[str] = mapped_column(String(64))
    # What failed, as the checklist said it ({zh_CN, en}), so it reads right after edits.
    what: Mapped[dict[str, Any]]
    severity: Mapped[str] = mapped_column(String(16))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    status: Mapped[str] = mapped_column(String(8), default=ActionStatus.OPEN)
    opened_at: Mapped[datetime]
    due_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]

    asset: Mapped[Asset] = relationship()
    assignee: Mapped[Person | None] = relationship()
    events: Mapped[list[ActionEvent]] = relationship(
        back_populates="action", order_by="ActionEvent.id", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.status == ActionStatus.OPEN

    def is_overdue(self, now: datetime) -> bool:
        return self.is_open and self.due_at < now


class EventKind(enum.StrEnum):
    OPENED = "opened"
    FAILED_AGAIN = "failed_again"
    CLOSED = "closed"
    REOPENED = "reopened"
    PHOTO = "photo"


class ActionEvent(Base):
    """One step in an action's history: who did what, when, with what note and photo."""

    __tablename__ = "action_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("corrective_action.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("record.id"))
    note: Mapped[str | None] = mapped_column(String(1000))
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("photo.id"))

    action: Mapped[CorrectiveAction] = relationship(back_populates="events")
    by: Mapped[Person | None] = relationship()
    photo: Mapped[Photo | None] = relationship()


def open_actions_for_failures(
    session: Session, record: Any, *, now: datetime
) -> list[CorrectiveAction]:
    """One open action per failed item; a repeat failure joins the action already open,
    except a critical one: a child missing from a new trip is a new emergency, with its own
    action and deadline, never a line in an older action whose deadline may have passed."""
    spec = record.template.spec
    asset: Asset = record.asset
    actions = []
    for key in record.failed_items:
        item = spec.item(key)
        existing = None
        if item.severity != "critical":
            existing = session.scalar(
                select(CorrectiveAction).where(
                    CorrectiveAction.asset_id == asset.id,
                    CorrectiveAction.item_key == key,
                    CorrectiveAction.status == ActionStatus.OPEN,
                )
            )
        if existing is not None:
            existing.events.append(
                ActionEvent(
                    kind=EventKind.FAILED_AGAIN, at=now, by=record.submitted_by, record_id=record.id
                )
            )
            actions.append(existing)
            continue
        action = CorrectiveAction(
            school_id=asset.school_id,
            asset=asset,
            record_id=record.id,
            item_key=key,
            what=dict(record.answers.get(FAILURE_DETAILS, {}).get(key) or item.fail_texts()),
            severity=item.severity,
            assignee=asset.responsible,
            status=ActionStatus.OPEN,
            opened_at=now,
            due_at=now + DUE_AFTER[item.severity],
            events=[
                ActionEvent(
                    kind=EventKind.OPENED, at=now, by=record.submitted_by, record_id=record.id
                )
            ],
        )
        session.add(action)
        actions.append(action)
    session.flush()
    for action in actions:
        _announce(session, action, record, now=now)
    return actions


def _announce(session: Session, action: CorrectiveAction, record: Any, *, now: datetime) -> None:
    """The assignee hears of every action; administrators of critical ones, at once."""
    params = {
        "asset": f"{action.asset.code} {action.asset.name}",
        "item": action.what,
        "school": action.asset.school.name,
    }
    link = f"/actions/{action.id}"
    if action.assignee is not None:
        notify(
            session,
            [action.assignee],
            message=N_("To fix by %(due)s: %(item)s at %(asset)s."),
            params={**params, "due": action.due_at.isoformat()},
            severity=Severity(action.severity),
            dedup_key=f"action:{action.id}:assigned",
            now=now,
            link=link,
        )
    if action.severity == "critical":
        notify(
            session,
            school_admins(session, action.school_id, action.asset.school.district_id),
            message=N_("Critical failure at %(school)s: %(item)s at %(asset)s."),
            params=params,
            severity=Severity.CRITICAL,
            dedup_key=f"action:{action.id}:critical:{record.id}",
            now=now,
            link=link,
        )


class ActionRefused(DomainError):
    pass


REPORTED = "report"  # the item_key of an action someone reported rather than a failed check


REPORT_DESCRIPTION_MAX = 1000


def clean_description(description: str) -> str:
    """A reported problem's description, or what is wrong with it (one rule for every door)."""
    description = description.strip()
    if not description:
        raise SubmissionInvalid({"description": Message(N_("Say what is wrong."))})
    if len(description) > REPORT_DESCRIPTION_MAX:
        raise SubmissionInvalid(
            {
                "description": Message(
                    N_("At most %(count)d characters, please."), {"count": REPORT_DESCRIPTION_MAX}
                )
            }
        )
    return description


def report_problem(
    session: Session,
    actor: Person,
    asset: Asset,
    *,
    description: str,
    photos: list[ProcessedPhoto],
    store: PhotoStore,
    now: datetime,
) -> CorrectiveAction:
    """A problem someone noticed at an asset (from the bot's /report): a corrective action for
    its responsible person, due as a major failure is, announced to the school's administrators."""
    if not can_see_school(session, actor, asset.school_id):
        raise ActionRefused(Message(N_("You cannot report problems at this school.")))
    description = clean_description(description)
    stored = [store_photo(session, store, photo, now=now) for photo in photos]
    action = CorrectiveAction(
        school_id=asset.school_id,
        asset=asset,
        record_id=None,
        item_key=REPORTED,
        what={"zh_CN": description, "en": description},
        severity="major",
        assignee=asset.responsible,
        status=ActionStatus.OPEN,
        opened_at=now,
        due_at=now + DUE_AFTER["major"],
        events=[
            ActionEvent(
                kind=EventKind.OPENED,
                at=now,
                by=actor,
                note=description,
                photo_id=stored[0].id if stored else None,
            ),
            *(
                ActionEvent(kind=EventKind.PHOTO, at=now, by=actor, photo_id=p.id)
                for p in stored[1:]
            ),
        ],
    )
    session.add(action)
    session.flush()
    params = {
        "asset": f"{asset.code} {asset.name}",
        "item": action.what,
        "school": asset.school.name,
        "by": actor.display_name,
    }
    link = f"/actions/{action.id}"
    recipients = [p for p in school_admins(session, asset.school_id, asset.school.district_id)]
    if asset.responsible is not None:
        recipients.append(asset.responsible)
    notify(
        session,
        [p for p in recipients if p.id != actor.id],
        message=N_("%(by)s reported a problem at %(asset)s (%(school)s): %(item)s"),
        params=params,
        severity=Severity.MAJOR,
        dedup_key=f"action:{action.id}:reported",
        now=now,
        link=link,
    )
    return action


def can_close(person: Person, action: CorrectiveAction) -> bool:
    return action.assignee_id == person.id or person.can_manage_school(action.asset.school)


def can_reopen(person: Person, action: CorrectiveAction) -> bool:
    """Administrators of the school judge a fix, and reopen it when it falls short."""
    return person.can_manage_school(action.asset.school)


def close_action(
    session: Session,
    action: CorrectiveAction,
    *,
    actor: Person,
    note: str,
    photo: ProcessedPhoto | None,
    store: PhotoStore,
    now: datetime,
    taken_at: str | None = None,
) -> None:
    """Closing needs a note saying what was done and a photo showing it (`taken_at`: the
    capture time the phone read from it, unchecked)."""
    if not can_close(actor, action):
        raise ActionRefused(
            Message(N_("Only the person assigned or an administrator can close this."))
        )
    if not action.is_open:
        raise ActionRefused(Message(N_("This action is already closed.")))
    errors = {}
    if not note.strip():
        errors["note"] = Message(N_("Say what was done."))
    if photo is None:
        errors["photo"] = Message(N_("Please take a photo."))
    if errors or photo is None:
        raise SubmissionInvalid(errors)
    taken = capture_time(taken_at, photo, zone=action.asset.school.district.zone, now=now)
    stored = store_photo(session, store, photo, now=now, taken_at=taken)
    action.status = ActionStatus.CLOSED
    action.closed_at = now
    action.events.append(
        ActionEvent(kind=EventKind.CLOSED, at=now, by=actor, note=note.strip(), photo=stored)
    )
    session.flush()


def reopen_action(
    session: Session, action: CorrectiveAction, *, actor: Person, note: str, now: datetime
) -> None:
    """An administrator who finds the fix lacking reopens it, with a new due date."""
    if not can_reopen(actor, action):
        raise ActionRefused(Message(N_("Only an administrator can reopen this.")))
    if action.is_open:
        raise ActionRefused(Message(N_("This action is still open.")))
    if not note.strip():
        raise SubmissionInvalid({"note": Message(N_("Say why it is reopened."))})
    action.status = ActionStatus.OPEN
    action.closed_at = None
    action.due_at = now + DUE_AFTER[action.severity]
    action.events.append(ActionEvent(kind=EventKind.REOPENED, at=now, by=actor, note=note.strip()))
    session.flush()
    if action.assignee is not None:
        notify(
            session,
            [action.assignee],
            message=N_("Reopened, to fix by %(due)s: %(item)s at %(asset)s."),
            params={
                "asset": f"{action.asset.code} {action.asset.name}",
                "item": action.what,
                "due": action.due_at.isoformat(),
            },
            severity=Severity(action.severity),
            dedup_key=f"action:{action.id}:reopened:{len(action.events)}",
            now=now,
            link=f"/actions/{action.id}",
        )


def visible_actions(
    session: Session,
    viewer: Person,
    *,
    open_only: bool = True,
    assigned_to_me: bool = False,
    asset_id: int | None = None,
) -> list[CorrectiveAction]:
    """Actions at the viewer's schools, soonest due first."""
    query = _visible_actions(open_only, assigned_to_me, asset_id is not None)
    values = {**visibility_of(viewer), "viewer_id": viewer.id, "asset_id": asset_id}
    return list(session.scalars(query, values))


@dataclass(frozen=True)
class ActionLine:
    """An open action as a list of them shows it: what to fix, by when, and its page's id."""

    id: int
    what: dict[str, Any]
    due_at: datetime


def open_actions_at_asset(session: Session, viewer: Person, asset_id: int) -> list[ActionLine]:
    """`visible_actions` open at one asset, read as plain columns: every scan shows them."""
    values = {**visibility_of(viewer), "viewer_id": viewer.id, "asset_id": asset_id}
    return [ActionLine(*row) for row in read_rows(session, _open_action_lines(), values)]


@cache
def _open_action_lines() -> Any:
    return _visible_actions(True, False, True).with_only_columns(
        CorrectiveAction.id, CorrectiveAction.what, CorrectiveAction.due_at
    )


@cache
def _visible_actions(open_only: bool, assigned_to_me: bool, of_one_asset: bool) -> Any:
    """Built once for each choice: every scan of a label lists the asset's open actions."""
    query = select(CorrectiveAction).where(
        CorrectiveAction.school_id.in_(visible_school_ids_bound())
    )
    if open_only:
        query = query.where(CorrectiveAction.status == ActionStatus.OPEN)
    if assigned_to_me:
        query = query.where(CorrectiveAction.assignee_id == bindparam("viewer_id", type_=Integer))
    if of_one_asset:
        query = query.where(CorrectiveAction.asset_id == bindparam("asset_id", type_=Integer))
    return query.order_by(CorrectiveAction.due_at, CorrectiveAction.id)


def action_page(
    session: Session,
    viewer: Person,
    *,
    assigned_to_me: bool = False,
    school_id: int | None = None,
    page: Any = 1,
    size: int = PAGE_SIZE,
) -> Page[CorrectiveAction]:
    """One page of the open actions at the viewer's schools (or one of them), soonest due
    first."""
    query = (
        select(CorrectiveAction)
        .where(
            CorrectiveAction.school_id.in_(visible_school_ids(viewer)),
            CorrectiveAction.status == ActionStatus.OPEN,
        )
        .options(
            selectinload(CorrectiveAction.asset).selectinload(Asset.school),
            selectinload(CorrectiveAction.assignee),
        )
        .order_by(CorrectiveAction.due_at, CorrectiveAction.id)
    )
    if assigned_to_me:
        query = query.where(CorrectiveAction.assignee_id == viewer.id)
    if school_id is not None:
        query = query.where(CorrectiveAction.school_id == school_id)
    return page_of(session, query, page, size)


def visible_action(session: Session, viewer: Person, action_id: int) -> CorrectiveAction | None:
    return session.scalar(
        select(CorrectiveAction).where(
            CorrectiveAction.id == action_id,
            CorrectiveAction.school_id.in_(visible_school_ids(viewer)),
        )
    )
