"""The sweep: what time has made due, queued in the outbox in the same transaction.

One sweep starts the task each (duty, asset) pair lacks, acts on every task whose next moment
has come (remind, announce due, escalate, close and roll on), announces expiring documents and
sends each district's daily digest. Everything it decides is read from the database and marked
there, so running it twice changes nothing; tasks are locked while acted on, so two sweeps on
one PostgreSQL database never queue the same notice twice.

A notice whose moment passed longer ago than `catch_up_after` (the scheduler was down) is not
sent on its own: each person gets one summary of what they missed instead of a flood.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    CursorResult,
    Integer,
    Select,
    String,
    and_,
    exists,
    func,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from models import extinguishers
from models.actions import ActionStatus, CorrectiveAction
from models.assets import Asset, AssetKind
from models.base import Base
from models.catalogue import COLON, GROUP_SEPARATOR, LOCALES, join_list
from models.checklists import FormTemplate, latest_template
from models.documents import Document, document_link
from models.duties import (
    Duty,
    DutyDefaults,
    DutyScope,
    Task,
    TaskState,
    covered_assets,
    district_calendar,
    ensure_builtin_duties,
    first_window,
)
from models.food_samples import remind_disposals
from models.messages import N_
from models.notice_preferences import DIGEST
from models.notifications import Notification, Severity, district_admins, notify, school_admins
from models.orders import remind_unsettled_orders
from models.org import District, School
from models.people import Person
from models.records import Record
from models.recurrence import Calendar, Frequency, Rule, Window
from models.task_lists import CareBook, carers
from models.window_rolls import (
    ended_windows,
    first_moment,
    insert_ignoring_duplicates,
    roll_window,
)

EXPIRY_NOTICE_DAYS = (30, 7, 1, 0)
LISTED_TASKS = 5
# SQLite allows 500 terms in a compound SELECT.
DUTIES_IN_ONE_STATEMENT = 100

REMIND = N_("Due soon: %(tasks)s")
DUE = N_("Due now: %(tasks)s")
OVERDUE_SCHOOL = N_("Overdue at %(school)s: %(tasks)s")
OVERDUE_DISTRICT = N_("Still overdue at %(school)s: %(tasks)s")
OVERDUE_SINCE_START = N_(
    "Already overdue when Houqin started following them, and still not done: %(tasks)s"
)
CATCH_UP = N_("Houqin's reminders were paused since %(since)s. Meanwhile: %(summary)s")
EXPIRES_IN = N_("%(document)s (%(holder)s) expires on %(date)s, in %(days)d days.")
EXPIRES_TODAY = N_("%(document)s (%(holder)s) expires today.")
EXPIRED = N_("%(document)s (%(holder)s) expired on %(date)s.")
SERVICE_DUE_IN = N_(
    "%(asset)s (%(code)s) at %(school)s is due for its service on %(date)s, in %(days)d days."
)
SERVICE_DUE_NOW = N_(
    "%(asset)s (%(code)s) at %(school)s was due for its service on %(date)s: have a licensed"
    " company service it."
)
SCRAP_IN = N_(
    "%(asset)s (%(code)s) at %(school)s reaches its scrap date on %(date)s, in %(days)d days:"
    " plan its replacement."
)
SCRAP_NOW = N_(
    "%(asset)s (%(code)s) at %(school)s reached its scrap date on %(date)s: take it out of use"
    " and replace it."
)


class SweepMark(Base):
    """What a sweep last did once per period (a district's digest date), claimed under a lock."""

    __tablename__ = "sweep_mark"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(String(100), default="")


@dataclass(frozen=True)
class SweepPolicy:
    catch_up_after: timedelta = timedelta(minutes=30)
    digest_at: time = time(7, 30)
    defaults: DutyDefaults = field(default_factory=DutyDefaults)


@dataclass
class SweepReport:
    started: int = 0
    closed: int = 0
    queued: list[Notification] = field(default_factory=list)


@dataclass
class _Event:
    """Something a task's moment calls for, for one recipient, before grouping."""

    recipient_id: int
    message: str
    severity: Severity
    task: _TaskRow
    at: datetime
    school_id: int | None = None


@dataclass
class _TaskRow:
    id: int
    duty_id: int
    asset_id: int
    school_id: int
    template_key: str
    opens_at: datetime
    due_at: datetime
    closes_at: datetime
    state: str
    done_at: datetime | None
    reminded_at: datetime | None
    due_notice_at: datetime | None
    escalated_school_at: datetime | None
    escalated_district_at: datetime | None
    seen_overdue_at: datetime | None
    responsible_id: int | None = None


TASK_COLUMNS = [f for f in _TaskRow.__dataclass_fields__ if f != "responsible_id"]
# Every update carries the same columns, so it goes to the database as one batch.
UPDATED_COLUMNS = (
    "state",
    "next_action_at",
    "reminded_at",
    "due_notice_at",
    "escalated_school_at",
    "escalated_district_at",
)


def sweep(session: Session, *, now: datetime, policy: SweepPolicy | None = None) -> SweepReport:
    """One sweep of every district at `now`, in the caller's transaction."""
    policy = policy or SweepPolicy()
    report = SweepReport()
    districts = session.scalars(select(District).order_by(District.id)).all()
    calendars: dict[int, Calendar] = {}
    for district in districts:
        ensure_builtin_duties(session, district, now=now, policy=policy.defaults)
        calendars[district.id] = district_calendar(session, district)
    context = _Context(session, now, policy, calendars, report)
    for district in districts:
        context.start_tasks(district)
    context.act_on_tasks()
    for district in districts:
        context.announce_expiries(district)
        context.announce_extinguisher_dates(district)
        report.queued += remind_unsettled_orders(
            session, district, today=district.local(now).date(), now=now
        )
        context.send_digest(district)
        context.remind_sample_disposals(district)
    context.flush_events()
    return report


@dataclass
class Simulation:
    """What the sweeps between two moments did, each notice with the moment it was queued."""

    sweeps: int = 0
    started: int = 0
    closed: int = 0
    queued: list[tuple[datetime, Notification]] = field(default_factory=list)


def simulate(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    policy: SweepPolicy | None = None,
    max_sweeps: int = 100_000,
) -> Simulation:
    """Sweep at every moment from `since` to `until` when a running scheduler would have acted
    (each task's next moment, each district's digest time and local midnight), so every step
    before `until` counts as sent and nothing is taken for a catch-up. The caller rolls back."""
    policy = policy or SweepPolicy()
    result = Simulation()
    moment = since
    while True:
        report = sweep(session, now=moment, policy=policy)
        session.flush()
        result.sweeps += 1
        result.started += report.started
        result.closed += report.closed
        result.queued += [(moment, notice) for notice in report.queued]
        if moment >= until or result.sweeps >= max_sweeps:
            return result
        moment = min(_next_moment(session, moment, policy), until)


def _next_moment(session: Session, after: datetime, policy: SweepPolicy) -> datetime:
    """The first moment after `after` at which a sweep has something to do."""
    candidates = [after + timedelta(days=1)]
    task_moment = session.scalar(
        select(func.min(Task.next_action_at)).where(Task.current, Task.next_action_at > after)
    )
    if task_moment is not None:
        candidates.append(task_moment)
    for district in session.scalars(select(District)):
        calendar = district_calendar(session, district)
        today = calendar.local_date(after)
        for day in (today, today + timedelta(days=1)):
            for at in (calendar.at(day), calendar.at(day, policy.digest_at)):
                if at > after:
                    candidates.append(at)
    return min(candidates)


class _Context:
    def __init__(
        self,
        session: Session,
        now: datetime,
        policy: SweepPolicy,
        calendars: dict[int, Calendar],
        report: SweepReport,
    ) -> None:
        self.session = session
        self.now = now
        self.policy = policy
        self.calendars = calendars
        self.report = report
        self.events: list[_Event] = []
        # Person → (task or window, checklist) → the furthest it got: due, overdue, missed.
        self.stale: dict[int, dict[tuple[Any, str], str]] = defaultdict(dict)
        self.stale_since: dict[int, datetime] = {}
        self.duties: dict[int, Duty] = {}
        self.titles: dict[tuple[str, int | None], dict[str, str]] = {}
        self.windows: dict[tuple[int, datetime, datetime, datetime], Window | None] = {}
        self.rules: dict[int, Rule] = {}
        self.care = CareBook()

    # --- starting tasks -------------------------------------------------------------------

    def start_tasks(self, district: District) -> None:
        """A task for every covered asset that has no current one: the district's duties'
        assets without one are read in one statement."""
        duties = self.session.scalars(
            select(Duty).where(Duty.district_id == district.id, Duty.active).order_by(Duty.id)
        ).all()
        calendar = self.calendars[district.id]
        missing: dict[int, list[tuple[int, int, datetime]]] = defaultdict(list)
        for chunk in _chunks(duties, DUTIES_IN_ONE_STATEMENT):
            query = _assets_lacking_tasks(tuple(DutyScope.of(duty) for duty in chunk))
            for duty_id, asset_id, school_id, created_at in self.session.execute(query):
                missing[duty_id].append((asset_id, school_id, created_at))
        for duty in duties:
            self.duties[duty.id] = duty
            if missing[duty.id]:
                self._start(duty, calendar, missing[duty.id])

    def _start(
        self, duty: Duty, calendar: Calendar, assets: list[tuple[int, int, datetime]]
    ) -> None:
        rule = self._rule(duty)
        asset_ids = [asset_id for asset_id, _, _ in assets]
        rows = []
        if rule.frequency == Frequency.EVERY_N_DAYS:
            since = self.now - timedelta(days=2 * rule.every_days + 1)
            last = self._records(duty.template_key, asset_ids, since, self.now)
            windows = {a: first_window(calendar, rule, self.now, last.get(a)) for a in asset_ids}
            done: dict[int, tuple[int, datetime]] = {}
        else:
            window = first_window(calendar, rule, self.now, None)
            if window is None:
                return
            done = self._records_with_ids(duty.template_key, asset_ids, window)
            following = None
            if window.due_at < self.now:
                following = calendar.window_after(rule, window)
            # An asset added after this window fell due (a new or imported one) starts with
            # the next window, not overdue from one that passed before it existed.
            windows = {
                asset_id: following
                if following is not None and created_at > window.due_at and asset_id not in done
                else window
                for asset_id, _, created_at in assets
            }
        for asset_id, school_id, _ in assets:
            window = windows[asset_id]
            if window is None:
                continue
            row = _task_values(duty, asset_id, school_id, window)
            if asset_id in done:
                record_id, at = done[asset_id]
                row.update(state=TaskState.DONE, record_id=record_id, done_at=at)
                row["next_action_at"] = window.closes_at
            else:
                self._skip_past_notices(row, duty)
            rows.append(row)
        self.report.started += _insert_tasks(self.session, rows)

    def _skip_past_notices(self, row: dict[str, Any], duty: Duty) -> None:
        """A task that starts now (a new asset, a changed schedule) does not announce what was
        due long before it existed: only a scheduler that was down owes a catch-up summary."""
        due = row["due_at"]
        moments = {
            "reminded_at": max(due - timedelta(minutes=duty.remind_before), row["opens_at"]),
            "due_notice_at": due,
            "escalated_school_at": due + timedelta(minutes=duty.escalate_school_after),
            "escalated_district_at": due + timedelta(minutes=duty.escalate_district_after),
        }
        for column, moment in moments.items():
            if moment < self.now - self.policy.catch_up_after:
                row[column] = self.now
        if row["escalated_district_at"] is not None:
            # Overdue for long already: the district still hears of it, that long from now.
            row["escalated_district_at"] = None
            row["seen_overdue_at"] = self.now

    def _records(
        self,
        template_key: str,
        asset_ids: list[int],
        since: datetime,
        until: datetime,
    ) -> dict[int, datetime]:
        """The latest record time per asset for a checklist within [since, until)."""
        found: dict[int, datetime] = {}
        for chunk in _chunks(asset_ids):
            rows = self.session.execute(
                select(Record.asset_id, func.max(Record.submitted_at))
                .join(FormTemplate, FormTemplate.id == Record.template_id)
                .where(
                    FormTemplate.key == template_key,
                    Record.asset_id.in_(chunk),
                    Record.submitted_at >= since,
                    Record.submitted_at < until,
                )
                .group_by(Record.asset_id)
            )
            found.update({asset_id: at for asset_id, at in rows})
        return found

    def _records_with_ids(
        self,
        template_key: str,
        asset_ids: list[int],
        window: Window,
        *,
        after_opening: bool = False,
    ) -> dict[int, tuple[int, datetime]]:
        """The first record per asset for a checklist inside a window, up to now."""
        found: dict[int, tuple[int, datetime]] = {}
        until = min(window.closes_at, self.now + timedelta(microseconds=1))
        if window.opens_at >= until:
            return found
        for chunk in _chunks(asset_ids):
            rows = self.session.execute(
                select(Record.asset_id, Record.id, Record.submitted_at)
                .join(FormTemplate, FormTemplate.id == Record.template_id)
                .where(
                    FormTemplate.key == template_key,
                    Record.asset_id.in_(chunk),
                    Record.submitted_at > window.opens_at
                    if after_opening
                    else Record.submitted_at >= window.opens_at,
                    Record.submitted_at < until,
                )
                .order_by(Record.submitted_at)
            )
            for asset_id, record_id, at in rows:
                found.setdefault(asset_id, (record_id, at))
        return found

    # --- acting on tasks ------------------------------------------------------------------

    def act_on_tasks(self) -> None:
        """Every current task whose next moment has come, locked while it is acted on; the
        ended windows of calendar duties are closed and rolled on in whole windows."""
        rolls = self._whole_window_rolls()
        columns = [getattr(Task, name) for name in TASK_COLUMNS]
        acted_on_alone = and_(Task.current, Task.next_action_at <= self.now)
        if rolls:
            acted_on_alone = and_(
                acted_on_alone, ~and_(Task.closes_at <= self.now, Task.duty_id.in_(rolls))
            )
        rows = self.session.execute(
            select(*columns, Asset.responsible_id)
            .join(Asset, Asset.id == Task.asset_id)
            .where(acted_on_alone)
            # In index order (no scan of the whole table); the same order in every sweep, so
            # two sweeps lock tasks in the same order and never deadlock.
            .order_by(Task.next_action_at, Task.id)
            .with_for_update(of=Task)
        ).all()
        updates: list[dict[str, Any]] = []
        new_tasks: list[dict[str, Any]] = []
        for row in rows:
            task = _TaskRow(*row)  # type: ignore[call-arg]  # the selected columns, in order
            duty = self._duty(task.duty_id)
            if duty is None or not duty.active:
                changes = {"id": task.id, "current": False, "next_action_at": None}
            elif self.now >= task.closes_at:
                changes = self._close(task, duty, new_tasks)
            else:
                changes = self._notices(task, duty)
            unchanged = {c: getattr(task, c, None) for c in UPDATED_COLUMNS}
            updates.append({**unchanged, "current": True, **changes})
        if updates:
            self.session.execute(update(Task), updates)
        for duty_id, windows in rolls.items():
            for window, following in windows:
                closed, started = roll_window(
                    self.session, self.duties[duty_id], window, following, self.now
                )
                self.report.closed += closed
                self.report.started += started
        self._count_records(new_tasks)
        self.report.started += _insert_tasks(self.session, new_tasks)
        self.report.closed += sum(1 for u in updates if not u["current"])

    def _whole_window_rolls(self) -> dict[int, list[tuple[Window, Window | None]]]:
        """Per calendar duty, its ended windows with the one that follows, when rolling them
        on needs nothing of each task: the duty is active, the following window is still
        ahead (none passed unseen) and the ended one closed too recently for a catch-up.
        A duty with any other ended window is left, whole, to the task by task way."""
        rolls: dict[int, list[tuple[Window, Window | None]]] = {}
        for duty_id, windows in ended_windows(self.session, self.now).items():
            duty = self._duty(duty_id)
            if duty is None or not duty.active:
                continue
            rule = self._rule(duty)
            if rule.frequency == Frequency.EVERY_N_DAYS:
                continue
            pairs = [(window, self._following_window(duty, rule, window)) for window in windows]
            if all(
                window.closes_at >= self.now - self.policy.catch_up_after
                and (following is None or following.closes_at > self.now)
                for window, following in pairs
            ):
                rolls[duty_id] = pairs
        return rolls

    def _duty(self, duty_id: int) -> Duty | None:
        if duty_id not in self.duties:
            self.duties[duty_id] = self.session.get(Duty, duty_id)  # type: ignore[assignment]
        return self.duties[duty_id]

    def _notices(self, task: _TaskRow, duty: Duty) -> dict[str, Any]:
        """Send what is due for an open task; return its changes and its next moment."""
        changes: dict[str, Any] = {"id": task.id}
        if task.state != TaskState.OPEN:
            changes["next_action_at"] = task.closes_at
            return changes
        steps = self._steps(task, duty)
        upcoming = [task.closes_at]
        for column, moment, recipients, message, severity in steps:
            if getattr(task, column) is not None:
                continue
            if moment > self.now:
                upcoming.append(moment)
                continue
            changes[column] = self.now
            for person_id in recipients(task.responsible_id):
                self._event(person_id, message, severity, task, moment)
        changes["next_action_at"] = min(upcoming)
        return changes

    def _steps(self, task: _TaskRow, duty: Duty) -> list[tuple[str, datetime, Any, str, Severity]]:
        def responsible(person_id: int | None) -> list[int]:
            return carers(self.session, task, person_id, self.care)

        def school(person_id: int | None) -> list[int]:
            return [p.id for p in school_admins(self.session, task.school_id, duty.district_id)]

        def district(person_id: int | None) -> list[int]:
            return [p.id for p in district_admins(self.session, duty.district_id)]

        due = task.due_at
        return [
            (
                "reminded_at",
                max(due - timedelta(minutes=duty.remind_before), task.opens_at),
                responsible,
                REMIND,
                Severity.INFO,
            ),
            ("due_notice_at", due, responsible, DUE, Severity.INFO),
            (
                "escalated_school_at",
                due + timedelta(minutes=duty.escalate_school_after),
                school,
                OVERDUE_SCHOOL,
                Severity.MAJOR,
            ),
            (
                "escalated_district_at",
                max(due, task.seen_overdue_at or due)
                + timedelta(minutes=duty.escalate_district_after),
                district,
                OVERDUE_SINCE_START if task.seen_overdue_at else OVERDUE_DISTRICT,
                Severity.CRITICAL,
            ),
        ]

    def _close(self, task: _TaskRow, duty: Duty, new_tasks: list[dict[str, Any]]) -> dict[str, Any]:
        """End a task's window and start the next; windows that passed while the scheduler
        was down are kept as missed, and counted in the catch-up summary."""
        changes: dict[str, Any] = {"id": task.id, "current": False, "next_action_at": None}

        def responsible() -> list[int]:
            return carers(self.session, task, task.responsible_id, self.care)

        if task.state == TaskState.OPEN:
            changes["state"] = TaskState.MISSED
            if task.closes_at < self.now - self.policy.catch_up_after:
                for person_id in responsible():
                    self._stale(person_id, "missed", task.id, task.template_key, task.closes_at)
        rule = self._rule(duty)
        every_n = rule.frequency == Frequency.EVERY_N_DAYS
        calendar = self.calendars[duty.district_id]
        window = self._following(duty, calendar, rule, task)
        while window is not None and window.closes_at <= self.now:
            # A whole window passed unseen: kept as missed history.
            row = _task_values(duty, task.asset_id, task.school_id, window)
            row.update(state=TaskState.MISSED, current=False, next_action_at=None)
            row["_unseen"] = (responsible(), every_n)
            new_tasks.append(row)
            window = _next_window(calendar, rule, window)
        if window is not None:
            row = _task_values(duty, task.asset_id, task.school_id, window)
            row["_unseen"] = ([], every_n)
            new_tasks.append(row)
        return changes

    def _count_records(self, rows: list[dict[str, Any]]) -> None:
        """Windows the sweep creates after the fact take the records filed in them meanwhile;
        the ones without a record are counted as missed for the catch-up summary."""
        groups: dict[tuple[str, datetime, datetime, datetime, bool], list[dict[str, Any]]] = {}
        for row in rows:
            every_n = row["_unseen"][1]
            key = (row["template_key"], row["opens_at"], row["due_at"], row["closes_at"], every_n)
            groups.setdefault(key, []).append(row)
        for (template_key, opens, due, closes, every_n), members in groups.items():
            found = self._records_with_ids(
                template_key,
                [row["asset_id"] for row in members],
                Window(opens, due, closes),
                # Every N days opens at the record that closed the last one: not that record.
                after_opening=every_n,
            )
            for row in members:
                responsible, every_n = row.pop("_unseen")
                record = found.get(row["asset_id"])
                if record is not None:
                    record_id, at = record
                    row.update(state=TaskState.DONE, record_id=record_id, done_at=at)
                    if every_n and row["current"]:
                        row["closes_at"] = at
                    if row["current"]:
                        row["next_action_at"] = row["closes_at"]
                elif row["state"] == TaskState.MISSED:
                    for person_id in responsible:
                        self._stale(person_id, "missed", row["due_at"], template_key, closes)

    def _following(
        self, duty: Duty, calendar: Calendar, rule: Rule, task: _TaskRow
    ) -> Window | None:
        """The window after a task's."""
        window = Window(task.opens_at, task.due_at, task.closes_at)
        if rule.frequency == Frequency.EVERY_N_DAYS:
            return _next_window(calendar, rule, window, task.done_at)
        return self._following_window(duty, rule, window)

    def _following_window(self, duty: Duty, rule: Rule, window: Window) -> Window | None:
        """The calendar window after this one; computed once for all the assets that share it."""
        key = (duty.id, window.opens_at, window.due_at, window.closes_at)
        if key not in self.windows:
            self.windows[key] = self.calendars[duty.district_id].window_after(rule, window)
        return self.windows[key]

    def _rule(self, duty: Duty) -> Rule:
        """The duty's rule, read from its JSON once a sweep."""
        if duty.id not in self.rules:
            self.rules[duty.id] = duty.recurrence
        return self.rules[duty.id]

    # --- notices ----------------------------------------------------------------------------

    def _event(
        self, person_id: int, message: str, severity: Severity, task: _TaskRow, moment: datetime
    ) -> None:
        if moment < self.now - self.policy.catch_up_after:
            overdue = (OVERDUE_SCHOOL, OVERDUE_DISTRICT, OVERDUE_SINCE_START, DUE)
            kind = "overdue" if message in overdue else "due"
            self._stale(person_id, kind, task.id, task.template_key, moment)
            return
        self.events.append(_Event(person_id, message, severity, task, moment, task.school_id))

    def _stale(
        self, person_id: int, kind: str, occurrence: Any, template_key: str, at: datetime
    ) -> None:
        """Count a notice that came too late to send, once per task at its furthest stage."""
        seen = self.stale[person_id]
        earlier = seen.get((occurrence, template_key))
        if earlier is None or STALE_STAGES.index(kind) > STALE_STAGES.index(earlier):
            seen[(occurrence, template_key)] = kind
        since = self.stale_since.get(person_id)
        self.stale_since[person_id] = at if since is None else min(since, at)

    def _title(self, key: str, district_id: int | None) -> dict[str, str]:
        """The checklist's title as the district has it (None: the base's)."""
        if (key, district_id) not in self.titles:
            template = latest_template(self.session, key, district_id=district_id)
            self.titles[(key, district_id)] = (
                dict(template.spec.title) if template else dict.fromkeys(LOCALES, key)
            )
        return self.titles[(key, district_id)]

    def flush_events(self) -> None:
        """One notice per person and kind: a reminder lists every task it is about."""
        groups: dict[tuple[int, str, int | None], list[_Event]] = defaultdict(list)
        for event in self.events:
            school = (
                event.school_id if event.message in (OVERDUE_SCHOOL, OVERDUE_DISTRICT) else None
            )
            groups[(event.recipient_id, event.message, school)].append(event)
        people = self._people({key[0] for key in groups} | set(self.stale))
        for (person_id, message, school_id), events in groups.items():
            person = people.get(person_id)
            if person is None:
                continue
            tasks = sorted({e.task.id: e.task for e in events}.values(), key=lambda t: t.due_at)
            params: dict[str, Any] = {
                "tasks": self._school_summary(tasks)
                if message == OVERDUE_SINCE_START
                else self._task_list(tasks)
            }
            if school_id is not None:
                params["school"] = self._school_name(school_id)
            ids = ",".join(str(t.id) for t in tasks)
            self._notify(
                person,
                message,
                params,
                events[0].severity,
                f"task:{message_key(message)}:{ids}"[:200],
                "/tasks",
                [t.id for t in tasks],
            )
        for person_id, stages in self.stale.items():
            counts = Counter((kind, key) for (_, key), kind in stages.items())
            person = people.get(person_id)
            if person is None:
                continue
            params = {
                "since": self.stale_since[person_id].isoformat(),
                "summary": self._summary(
                    counts, person.grants[0].district_id if person.grants else None
                ),
            }
            self._notify(
                person,
                CATCH_UP,
                params,
                Severity.MAJOR,
                f"catch-up:{self.now.isoformat(timespec='minutes')}",
                "/tasks",
            )

    def _people(self, ids: Iterable[int]) -> dict[int, Person]:
        ids = sorted(ids)
        if not ids:
            return {}
        people = self.session.scalars(select(Person).where(Person.id.in_(ids), Person.active))
        return {p.id: p for p in people}

    def _school_name(self, school_id: int) -> str:
        school = self.session.get(School, school_id)
        return school.name if school is not None else ""

    def _task_list(self, tasks: Sequence[_TaskRow]) -> dict[str, str]:
        """A few tasks by name and due time, or many counted by checklist."""
        district_id = self.session.get_one(School, tasks[0].school_id).district_id
        zone = self.calendars[district_id].zone
        texts = {}
        for locale, separator in GROUP_SEPARATOR.items():
            if len(tasks) <= LISTED_TASKS:
                parts = []
                for task in tasks:
                    asset = self.session.get_one(Asset, task.asset_id)
                    due = task.due_at.astimezone(zone).strftime("%m-%d %H:%M")
                    title = self._title(task.template_key, district_id)[locale]
                    parts.append(f"{title} · {asset.code} {asset.name} · {due}")
            else:
                counts = Counter(task.template_key for task in tasks)
                parts = [f"{self._title(k, district_id)[locale]} ×{n}" for k, n in counts.items()]
            texts[locale] = separator.join(parts)
        return texts

    def _school_summary(self, tasks: Sequence[_TaskRow]) -> dict[str, str]:
        """Many tasks in a few words: per school, how many of each checklist."""
        counts = Counter((task.school_id, task.template_key) for task in tasks)
        texts = {}
        for locale, separator in GROUP_SEPARATOR.items():
            by_school: dict[int, list[str]] = defaultdict(list)
            for (school_id, key), n in sorted(counts.items()):
                district_id = self.session.get_one(School, school_id).district_id
                by_school[school_id].append(f"{self._title(key, district_id)[locale]} ×{n}")
            texts[locale] = separator.join(
                f"{self._school_name(school_id)}{COLON[locale]}{join_list(parts, locale)}"
                for school_id, parts in by_school.items()
            )
        return texts

    def _summary(self, counts: Counter[tuple[str, str]], district_id: int | None) -> dict[str, str]:
        words = {
            "zh_CN": {"missed": "漏做 {n} 次", "overdue": "逾期 {n} 项", "due": "到期 {n} 项"},
            "en": {"missed": "{n} missed", "overdue": "{n} overdue", "due": "{n} due"},
        }
        texts = {}
        for locale, separator in GROUP_SEPARATOR.items():
            by_template: dict[str, list[str]] = defaultdict(list)
            for (kind, key), n in sorted(counts.items(), key=lambda item: item[0][1]):
                by_template[key].append(words[locale][kind].format(n=n))
            texts[locale] = separator.join(
                f"{self._title(key, district_id)[locale]}{COLON[locale]}{join_list(parts, locale)}"
                for key, parts in by_template.items()
            )
        return texts

    def _notify(
        self,
        person: Person,
        message: str,
        params: dict[str, Any],
        severity: Severity,
        dedup_key: str,
        link: str | None,
        task_ids: list[int] | None = None,
    ) -> None:
        """Queue one notice, in the person's language and their district's time."""
        self.report.queued += notify(
            self.session,
            [person],
            message=message,
            params=params,
            severity=severity,
            dedup_key=dedup_key,
            now=self.now,
            link=link,
            task_ids=task_ids,
        )

    # --- expiring documents -----------------------------------------------------------------

    def announce_expiries(self, district: District) -> None:
        """Each current document 30, 7 and 1 days before it expires and on the day; a sweep
        that missed a day announces the nearest step once."""
        calendar = self.calendars[district.id]
        today = calendar.local_date(self.now)
        documents = self.session.scalars(
            select(Document)
            .where(
                Document.district_id == district.id,
                Document.replaced_by_id.is_(None),
                Document.expires_on.is_not(None),
                Document.expires_on <= today + timedelta(days=EXPIRY_NOTICE_DAYS[0]),
                Document.expires_on >= today - timedelta(days=1),
            )
            .order_by(Document.expires_on, Document.id)
        ).all()
        for document in documents:
            assert document.expires_on is not None
            days = (document.expires_on - today).days
            step = min((d for d in EXPIRY_NOTICE_DAYS if d >= max(days, 0)), default=None)
            if step is None or (
                document.expiry_notice_days is not None and document.expiry_notice_days <= step
            ):
                continue
            document.expiry_notice_days = step
            self._announce(document, days, district)

    def _announce(self, document: Document, days: int, district: District) -> None:
        params: dict[str, Any] = {
            "document": document.title,
            "holder": document.holder_name,
            "date": document.expires_on.isoformat() if document.expires_on else "",
            "days": days,
        }
        message = EXPIRES_IN if days > 0 else EXPIRES_TODAY if days == 0 else EXPIRED
        severity = Severity.INFO if days > 7 else Severity.MINOR if days > 1 else Severity.MAJOR
        recipients: list[Person] = []
        if document.person is not None and document.person.active:
            recipients.append(document.person)
        if document.asset is not None and document.asset.responsible is not None:
            recipients.append(document.asset.responsible)
        if document.school_id is not None:
            recipients += school_admins(self.session, document.school_id, district.id)
        else:
            recipients += district_admins(self.session, district.id)
        self.report.queued += notify(
            self.session,
            recipients,
            message=message,
            params=params,
            severity=severity,
            dedup_key=f"document:{document.id}:expiry:{document.expiry_notice_days}",
            now=self.now,
            link=document_link(document),
        )

    # --- food samples past their 48 hours -----------------------------------------------------

    def remind_sample_disposals(self, district: District) -> None:
        """Once a morning, with the digest: the samples that may now be disposed of."""
        calendar = self.calendars[district.id]
        today = calendar.local_date(self.now)
        if self.now < calendar.at(today, self.policy.digest_at):
            return
        if not _claim(self.session, f"samples:{district.id}", today.isoformat()):
            return
        self.report.queued += remind_disposals(self.session, district, self.now)

    # --- extinguishers' service and scrap dates ---------------------------------------------

    def announce_extinguisher_dates(self, district: District) -> None:
        """Once a day, from the digest's time: each extinguisher's service 30 and 7 days before
        it is due and on the day, its scrap date 90 and 30 days before and on the day; a sweep
        that missed days announces the nearest step once."""
        calendar = self.calendars[district.id]
        today = calendar.local_date(self.now)
        if self.now < calendar.at(today, self.policy.digest_at):
            return
        if not _claim(self.session, f"extinguishers:{district.id}", today.isoformat()):
            return
        assets = self.session.scalars(
            select(Asset)
            .join(School, School.id == Asset.school_id)
            .where(
                School.district_id == district.id,
                Asset.kind == AssetKind.EXTINGUISHER,
                Asset.retired_at.is_(None),
            )
            .order_by(Asset.id)
        ).all()
        by_id = {asset.id: asset for asset in assets}
        for asset_id, life in extinguishers.lives(self.session, assets, district.zone).items():
            asset = by_id[asset_id]
            scrap_days = life.scrap_days(today)
            step = extinguishers.notice_step(scrap_days, extinguishers.SCRAP_NOTICE_DAYS)
            if step is not None:
                self._announce_date(asset, district, "scrap", life.scrap_on, scrap_days, step)
            service_days = life.service_days(today)
            if scrap_days <= 0 or life.service_due is None or service_days is None:
                continue  # replaced, not serviced
            step = extinguishers.notice_step(service_days, extinguishers.SERVICE_NOTICE_DAYS)
            if step is not None:
                self._announce_date(
                    asset, district, "service", life.service_due, service_days, step
                )

    def _announce_date(
        self, asset: Asset, district: District, what: str, on: date, days: int, step: int
    ) -> None:
        if what == "scrap":
            message = SCRAP_IN if days > 0 else SCRAP_NOW
        else:
            message = SERVICE_DUE_IN if days > 0 else SERVICE_DUE_NOW
        severity = Severity.INFO if days > 7 else Severity.MINOR if days > 0 else Severity.MAJOR
        recipients: list[Person] = []
        if asset.responsible is not None and asset.responsible.active:
            recipients.append(asset.responsible)
        recipients += school_admins(self.session, asset.school_id, district.id)
        self.report.queued += notify(
            self.session,
            recipients,
            message=message,
            params={
                "asset": asset.name,
                "code": asset.code,
                "school": asset.school.name,
                "date": on.isoformat(),
                "days": days,
            },
            severity=severity,
            # The date is in the key: a service done moves it, and its reminders start afresh.
            dedup_key=f"extinguisher:{asset.id}:{what}:{on.isoformat()}:{step}",
            now=self.now,
            link=f"/registers/{asset.school.code}?tab=extinguishers",
        )

    # --- daily digest -------------------------------------------------------------------------

    def send_digest(self, district: District) -> None:
        """Once a day after the configured local time: each school's administrators get their
        school's figures, the district's administrators the whole district's."""
        calendar = self.calendars[district.id]
        today = calendar.local_date(self.now)
        if self.now < calendar.at(today, self.policy.digest_at):
            return
        if not _claim(self.session, f"digest:{district.id}", today.isoformat()):
            return
        schools = {s.id: s for s in district.schools}
        figures = school_figures(self.session, list(schools), calendar, today, self.now)
        total: Counter[str] = Counter()
        for school_id, school in schools.items():
            counts = figures.get(school_id, Counter())
            total.update(counts)
            admins = [
                p
                for p in school_admins(self.session, school_id, district.id)
                if not p.is_district_admin_of(district.id)
            ]
            self._digest(admins, school.name, counts, f"digest:{today}:school:{school_id}")
        self._digest(
            district_admins(self.session, district.id),
            district.name,
            total,
            f"digest:{today}:district:{district.id}",
        )

    def _digest(self, people: list[Person], place: str, counts: Counter[str], key: str) -> None:
        if not people:
            return
        params = {name: counts.get(name, 0) for name in DIGEST_FIGURES}
        params["place"] = place  # type: ignore[assignment]
        self.report.queued += notify(
            self.session,
            people,
            message=DIGEST,
            params=params,
            severity=Severity.INFO,
            dedup_key=key,
            now=self.now,
            link="/tasks",
        )


def school_figures(
    session: Session, school_ids: list[int], calendar: Calendar, today: date, now: datetime
) -> dict[int, Counter[str]]:
    """Per school: tasks due later today, overdue, missed yesterday; open corrective
    actions; documents expiring within 7 days. Reads only current tasks and a day's worth."""
    figures: dict[int, Counter[str]] = defaultdict(Counter)
    if not school_ids:
        return figures
    start, end = calendar.at(today), calendar.at(today + timedelta(days=1))
    yesterday = calendar.at(today - timedelta(days=1))
    open_now = and_(Task.current, Task.state == TaskState.OPEN)
    queries = {
        "due": select(Task.school_id, func.count()).where(
            open_now, Task.due_at >= now, Task.due_at < end
        ),
        "overdue": select(Task.school_id, func.count()).where(open_now, Task.due_at < now),
        "missed": select(Task.school_id, func.count()).where(
            Task.state == TaskState.MISSED, Task.due_at >= yesterday, Task.due_at < start
        ),
        "actions": select(CorrectiveAction.school_id, func.count()).where(
            CorrectiveAction.status == ActionStatus.OPEN
        ),
        "expiring": select(Document.school_id, func.count()).where(
            Document.replaced_by_id.is_(None),
            Document.expires_on >= today,
            Document.expires_on <= today + timedelta(days=7),
        ),
    }
    for name, query in queries.items():
        school_column = query.selected_columns[0]
        rows = session.execute(query.where(school_column.in_(school_ids)).group_by(school_column))
        for school_id, count in rows:
            if school_id is not None:
                figures[school_id][name] = count
    return figures


def completion(
    session: Session, school_ids: list[int], since: datetime, now: datetime
) -> dict[int, Counter[str]]:
    """Per school, the tasks that fell due between `since` and now: done and missed."""
    figures: dict[int, Counter[str]] = defaultdict(Counter)
    if not school_ids:
        return figures
    rows = session.execute(
        select(Task.school_id, Task.state, func.count())
        .where(Task.school_id.in_(school_ids), Task.due_at >= since, Task.due_at < now)
        .group_by(Task.school_id, Task.state)
    )
    for school_id, state, count in rows:
        figures[school_id][state] = count
    return figures


@dataclass(frozen=True)
class Completion:
    """A school's tasks that fell due in a period: done on time and missed, and the rate."""

    school_id: int
    done: int
    missed: int

    @property
    def rate(self) -> int:
        """Per cent done of those that fell due; 100 when none did."""
        due = self.done + self.missed
        return round(100 * self.done / due) if due else 100


def completion_rates(
    session: Session, school_ids: list[int], since: datetime, now: datetime
) -> list[Completion]:
    """Each school's completion between `since` and now, worst first (the /stats figures, and
    the first input of a school's score)."""
    counts = completion(session, school_ids, since, now)
    rates = [
        Completion(school_id, counts[school_id].get("done", 0), counts[school_id].get("missed", 0))
        for school_id in school_ids
    ]
    return sorted(rates, key=lambda c: c.rate)


DIGEST_FIGURES = ("due", "overdue", "missed", "actions", "expiring")
STALE_STAGES = ("due", "overdue", "missed")


def message_key(message: str) -> str:
    return {
        REMIND: "remind",
        DUE: "due",
        OVERDUE_SCHOOL: "school",
        OVERDUE_DISTRICT: "district",
        OVERDUE_SINCE_START: "since-start",
    }[message]


def _next_window(
    calendar: Calendar, rule: Rule, window: Window, done_at: datetime | None = None
) -> Window | None:
    """The window after this one: every N days counts from when it was done, or it ended."""
    if rule.frequency == Frequency.EVERY_N_DAYS:
        return calendar.window_since(rule, done_at or window.closes_at)
    return calendar.window_after(rule, window)


@lru_cache(maxsize=256)
def _assets_lacking_tasks(scopes: tuple[DutyScope, ...]) -> Any:
    """The duties' covered assets that have no current task of theirs, as one statement.

    Kept for the same duties: building it anew took most of a quiet minute's sweep."""
    probes = [_assets_lacking_a_task(scope) for scope in scopes]
    return probes[0] if len(probes) == 1 else union_all(*probes)


def _assets_lacking_a_task(duty: DutyScope) -> Select[int, int, int, datetime]:
    """The duty's covered assets (id, school, created) that have no current task of it."""
    lacking = ~exists().where(Task.duty_id == duty.id, Task.asset_id == Asset.id, Task.current)
    # The current-task probe first: SQLite tries the subqueries in the order written, and
    # this one settles almost every asset before the narrower duties are looked at.
    return select(
        literal(duty.id, Integer).label("duty_id"), Asset.id, Asset.school_id, Asset.created_at
    ).where(lacking, covered_assets(duty).whereclause)


def _task_values(duty: Duty, asset_id: int, school_id: int, window: Window) -> dict[str, Any]:
    return {
        "duty_id": duty.id,
        "asset_id": asset_id,
        "school_id": school_id,
        "template_key": duty.template_key,
        "opens_at": window.opens_at,
        "due_at": window.due_at,
        "closes_at": window.closes_at,
        "state": TaskState.OPEN,
        "current": True,
        "record_id": None,
        "done_at": None,
        "reminded_at": None,
        "due_notice_at": None,
        "escalated_school_at": None,
        "escalated_district_at": None,
        "seen_overdue_at": None,
        "next_action_at": first_moment(duty, window),
    }


def _insert_tasks(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert tasks; a pair another sweep started a moment ago is left as that sweep made it."""
    if not rows:
        return 0
    inserted = 0
    for chunk in _chunks(rows, 2000):
        insert = insert_ignoring_duplicates(session, Task.__table__)
        inserted += len(session.execute(insert.returning(Task.__table__.c.id), chunk).all())
    return inserted


def _claim(session: Session, name: str, value: str) -> bool:
    """Take a once-per-period job: True for the one sweep that moves the mark to `value`."""
    insert = insert_ignoring_duplicates(session, SweepMark.__table__)
    session.execute(insert.values(name=name, value=""))
    result = session.execute(
        update(SweepMark).where(SweepMark.name == name, SweepMark.value < value).values(value=value)
    )
    return cast(CursorResult[Any], result).rowcount == 1


def _chunks(items: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
