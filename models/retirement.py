"""Retiring an asset (报废/停用): its tasks stop, its label sheet entry goes, its history stays."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from models.assets import Asset
from models.audit import audit
from models.duties import Task, TaskState
from models.messages import N_, DomainError, Message, SubmissionInvalid
from models.people import Person

REASON_LENGTH = 200


class RetirementRefused(DomainError):
    pass


def _check_manager(actor: Person, asset: Asset) -> None:
    if not actor.can_manage_school(asset.school):
        raise RetirementRefused(
            Message(N_("Only the school's or the district's administrators can retire an asset."))
        )


def retire_asset(
    session: Session, actor: Person, asset: Asset, *, reason: str, now: datetime
) -> Asset:
    """Take an asset out of use: its open tasks close as retired (not missed), none start."""
    _check_manager(actor, asset)
    if asset.retired_at is not None:
        raise RetirementRefused(Message(N_("This asset is already retired.")))
    reason = reason.strip()
    if not reason:
        raise SubmissionInvalid({"reason": Message(N_("Say why it is retired."))})
    if len(reason) > REASON_LENGTH:
        raise SubmissionInvalid(
            {"reason": Message(N_("At most %(count)d characters."), {"count": REASON_LENGTH})}
        )
    asset.retired_at, asset.retired_reason, asset.retired_by_id = now, reason, actor.id
    audit(session, actor, "asset.retired", asset, {}, {"retired_reason": reason}, now=now)
    current = [Task.asset_id == asset.id, Task.current]
    session.execute(
        update(Task)
        .where(*current, Task.state == TaskState.OPEN)
        .values(state=TaskState.RETIRED, current=False, next_action_at=None)
    )
    session.execute(update(Task).where(*current).values(current=False, next_action_at=None))
    session.flush()
    session.expire_all()
    return asset


def reactivate_asset(session: Session, actor: Person, asset: Asset, *, now: datetime) -> Asset:
    """Bring a retired asset back into use: the next sweep gives it tasks again."""
    _check_manager(actor, asset)
    if asset.retired_at is None:
        raise RetirementRefused(Message(N_("This asset is in use.")))
    before = {"retired_reason": asset.retired_reason}
    asset.retired_at, asset.retired_reason, asset.retired_by_id = None, "", None
    audit(session, actor, "asset.reactivated", asset, before, {"retired_reason": ""}, now=now)
    # A window the retirement closed that is still running starts afresh as an open task.
    session.execute(
        delete(Task).where(
            # Through the school's tasks by state: a few retired ones, whatever the history.
            Task.school_id == asset.school_id,
            Task.state == TaskState.RETIRED,
            Task.asset_id == asset.id,
            Task.closes_at > now,
        )
    )
    session.flush()
    return asset
