"""A calendar duty's window that ended, closed and rolled on for all its assets at once.

When a month, a quarter or a school day ends, every task of a duty that shares the window
closes at the same moment and the next window's task starts for the same assets. Done in the
database as one UPDATE per window (open tasks become missed) and one INSERT ... SELECT for the
next window, which takes the first record filed in it meanwhile, so the year-end minute costs
a few statements per duty instead of work per task. The UPDATE returns the tasks it closed:
only those roll on, so a second sweep at the same moment (waiting on the first one's row
locks on PostgreSQL) closes nothing and starts nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, literal, select, true, update
from sqlalchemy.orm import Session, aliased

from models.checklists import FormTemplate
from models.duties import Duty, Task, TaskState
from models.records import Record
from models.recurrence import Window

ROLLED_IN_ONE_STATEMENT = 5000  # closed tasks whose successors one INSERT ... SELECT starts
# A task's columns that an INSERT ... SELECT of new tasks gives, in its select's order; the
# others (reminded, escalated, ...) start empty.
TASK_COLUMNS_SET_BY_SELECT = (
    "duty_id",
    "asset_id",
    "school_id",
    "template_key",
    "opens_at",
    "due_at",
    "closes_at",
    "state",
    "current",
    "record_id",
    "done_at",
    "next_action_at",
)


def ended_windows(session: Session, now: datetime) -> dict[int, list[Window]]:
    """Per duty, the windows whose current tasks have ended by `now`."""
    # Only current tasks have a next moment: read by it alone, through its index, as the
    # sweep's other reads do; with `current` SQLite would scan every current task instead.
    rows = session.execute(
        select(Task.duty_id, Task.opens_at, Task.due_at, Task.closes_at)
        .where(Task.next_action_at <= now, Task.closes_at <= now)
        .group_by(Task.duty_id, Task.opens_at, Task.due_at, Task.closes_at)
        .order_by(Task.duty_id, Task.closes_at, Task.due_at, Task.opens_at)
    )
    windows: dict[int, list[Window]] = defaultdict(list)
    for duty_id, opens_at, due_at, closes_at in rows:
        windows[duty_id].append(Window(opens_at, due_at, closes_at))
    return windows


def roll_window(
    session: Session,
    duty: Duty,
    window: Window,
    following: Window | None,
    now: datetime,
) -> tuple[int, int]:
    """Close the duty's current tasks of an ended window (open ones as missed) and start
    `following` for the same assets; return how many closed and how many started."""
    closed = session.execute(
        update(Task)
        .where(
            Task.current,
            Task.duty_id == duty.id,
            Task.opens_at == window.opens_at,
            Task.due_at == window.due_at,
            Task.closes_at == window.closes_at,
            Task.next_action_at <= now,
        )
        .values(
            state=case(
                (Task.state == TaskState.OPEN, literal(TaskState.MISSED.value)),
                else_=Task.state,
            ),
            current=False,
            next_action_at=None,
        )
        .returning(Task.id)
        # Brought up to date below from the few tasks the session holds, not by matching
        # thirty thousand returned ids against it (a tenth of a second at the year's end).
        .execution_options(synchronize_session=False)
    )
    task_ids = sorted(closed.scalars().all())
    _expire_loaded(session, set(task_ids))
    if following is None or not task_ids:
        return len(task_ids), 0
    in_window = _filed_in(duty, following, now)
    # A window that has only just begun holds no record yet, and the year-end minute rolls
    # every window just as it begins: asked once, not once per asset.
    filed = session.scalar(select(Record.id).where(*in_window).limit(1)) is not None
    started = 0
    for start in range(0, len(task_ids), ROLLED_IN_ONE_STATEMENT):
        chunk = task_ids[start : start + ROLLED_IN_ONE_STATEMENT]
        started += _start_following(
            session, duty, following, now, chunk, in_window if filed else None
        )
    return len(task_ids), started


def _filed_in(duty: Duty, window: Window, now: datetime) -> list[Any]:
    """A record of the duty's checklist filed in the window, up to now."""
    until = min(window.closes_at, now + timedelta(microseconds=1))
    checklist = select(FormTemplate.id).where(FormTemplate.key == duty.template_key)
    return [
        Record.template_id.in_(checklist),
        Record.submitted_at >= window.opens_at,
        Record.submitted_at < until,
    ]


def _expire_loaded(session: Session, task_ids: set[int]) -> None:
    """Tasks of these ids that the session has loaded are read again when next used."""
    for key in list(session.identity_map.keys()):
        if key[0] is Task and key[1][0] in task_ids:
            session.expire(session.identity_map[key])


def _start_following(
    session: Session,
    duty: Duty,
    following: Window,
    now: datetime,
    closed_ids: Sequence[int],
    in_window: list[Any] | None,
) -> int:
    """One INSERT ... SELECT: the next window's task for each closed task's asset, done
    already when a record of its checklist was filed in that window up to now (`in_window`,
    None when there is none at all)."""
    old = aliased(Task)
    moment = Task.__table__.c.opens_at.type
    # The new task's state, record, done time and next moment: open, unless a record is in.
    columns: tuple[Any, ...] = (
        literal(TaskState.OPEN.value),
        literal(None, Record.__table__.c.id.type),
        literal(None, moment),
        literal(first_moment(duty, following), moment),
    )
    if in_window is not None:
        first = aliased(Record)
        first_record = (
            select(Record.id)
            .where(Record.asset_id == old.asset_id, *in_window)
            .order_by(Record.submitted_at, Record.id)
            .limit(1)
            .correlate(old)
            .scalar_subquery()
        )
        done = first.id.is_not(None)
        columns = (
            case((done, literal(TaskState.DONE.value)), else_=columns[0]),
            first.id,
            first.submitted_at,
            case((done, literal(following.closes_at, moment)), else_=columns[3]),
        )
    tasks = select(
        old.duty_id,
        old.asset_id,
        old.school_id,
        literal(duty.template_key),
        literal(following.opens_at, moment),
        literal(following.due_at, moment),
        literal(following.closes_at, moment),
        columns[0],
        true(),
        *columns[1:],
    ).select_from(old)
    if in_window is not None:
        tasks = tasks.outerjoin(first, first.id == first_record)
    tasks = tasks.where(old.id.in_(closed_ids)).order_by(old.id)
    insert = (
        insert_ignoring_duplicates(session, Task.__table__)
        .from_select(list(TASK_COLUMNS_SET_BY_SELECT), tasks)
        # psycopg reports no count for an INSERT ... SELECT unless asked to keep it.
        .execution_options(preserve_rowcount=True)
    )
    return int(session.execute(insert).rowcount or 0)  # type: ignore[attr-defined]


def first_moment(duty: Duty, window: Window) -> datetime:
    """When an open task of this window is first looked at: its reminder, or its close."""
    reminder = window.due_at - timedelta(minutes=duty.remind_before)
    return min(window.closes_at, max(reminder, window.opens_at))


def insert_ignoring_duplicates(session: Session, table: Any) -> Any:
    """An INSERT that leaves a row another sweep inserted a moment ago as that sweep made it."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table).on_conflict_do_nothing()
