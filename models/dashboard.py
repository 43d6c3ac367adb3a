"""The dashboard: each school's duties done on time, late and missed, what is overdue, open
corrective actions by age and severity, papers expiring, bus trips with alerts, flagged records
and drills; weekly trends; and the unreported list (未上报) the district chases first.

Every figure is counted in the database (GROUP BY over the period), never by loading a year of
rows; the schools are the ones the viewer administers.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, and_, case, func, literal_column, or_, select, union_all
from sqlalchemy.orm import Session

from models.actions import ActionStatus, CorrectiveAction
from models.assets import Asset
from models.documents import EXPIRING_WITHIN, Document, missing_papers_at
from models.drills import DRILL_EVERY_DAYS, drill_window, drills_due, drills_held
from models.duties import Task, TaskState, done_late
from models.org import School
from models.people import Person, Role, managed_schools
from models.periods import Period, PeriodKind
from models.plausibility import DEFAULT_PHOTO_OLDER, DEFAULT_WITHIN, flagged_records
from models.records import Record
from models.recurrence import Calendar
from models.sweep import school_figures
from models.trips import Trip, TripStatus

# The periods a dashboard offers, in days back from today; the first is the default.
PERIOD_DAYS = (30, 7, 91, 365)
# The trend shows the weeks the period spans, at least 4 and at most 13 (a quarter): bars a
# phone can show, and no more tasks read than the period's own.
TREND_WEEKS = (4, 13)
# Open corrective actions by how long they have been open: up to 3 days, 7, 30, and longer.
AGE_BANDS = (3, 7, 30)
SEVERITY_ORDER = ("critical", "major", "minor")
UNREPORTED_LIMIT = 300
# What is counted of the tasks that fell due: done, missed, and (of the done) done late.
TALLIES: tuple[tuple[Any, ...], ...] = (
    (TaskState.DONE,),
    (TaskState.MISSED,),
    (TaskState.DONE, done_late()),
)
TALLY_NAMES = ("done", "missed", "late")


@dataclass(frozen=True)
class Span:
    """Local dates from `first` to `last`, both included: the last N days the dashboard reads."""

    first: date
    last: date

    @classmethod
    def last_days(cls, today: date, days: int) -> Span:
        return cls(today - timedelta(days=days - 1), today)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The span as UTC instants: from local midnight of the first day to after the last."""
        return Period(PeriodKind.RANGE, self.first, self.last).bounds(zone)


@dataclass
class SchoolFigures:
    """One school's figures over a span, as the dashboard shows them."""

    school: School
    on_time: int = 0
    late: int = 0
    missed: int = 0
    overdue: int = 0
    # (severity, age band index) → open actions; the band index counts AGE_BANDS passed.
    actions: Counter[tuple[str, int]] = field(default_factory=Counter)
    actions_overdue: int = 0
    expired: int = 0
    expiring: int = 0
    # Papers the registers list as missing: certificates staff need, insurance (documents.py).
    missing: int = 0
    trips: int = 0
    trip_alerts: int = 0
    records: int = 0
    flagged: int = 0
    drills_held: int = 0
    drills_due: int = 0

    @property
    def fell_due(self) -> int:
        return self.on_time + self.late + self.missed

    @property
    def rate(self) -> int:
        """Per cent of the duties that fell due done on time; 100 when none fell due."""
        return round(100 * self.on_time / self.fell_due) if self.fell_due else 100

    @property
    def open_actions(self) -> int:
        return sum(self.actions.values())

    def actions_of(self, severity: str) -> int:
        return sum(n for (s, _), n in self.actions.items() if s == severity)

    def actions_aged(self, band: int) -> int:
        return sum(n for (_, b), n in self.actions.items() if b == band)


@dataclass(frozen=True)
class Week:
    """A week of the trend: its first day and its duties done on time, late and missed."""

    first: date
    on_time: int
    late: int
    missed: int


@dataclass(frozen=True)
class Unreported:
    """A duty a school did not report on a day: how many assets, and one of their names."""

    school: School
    day: date
    template_key: str
    assets: int
    asset_name: str


def reads_dashboard(person: Person) -> bool:
    """Whether the person administers a school or a district, so has a dashboard to read."""
    return any(g.role in (Role.SCHOOL_ADMIN, Role.DISTRICT_ADMIN) for g in person.grants)


def dashboard_schools(session: Session, viewer: Person) -> list[School]:
    """The schools whose dashboard the viewer reads: those they administer (a district
    administrator every school of the district); none for anyone else."""
    return managed_schools(session, viewer)


def _tallies(ids: list[int], since: datetime, until: datetime, *by: Any) -> Any:
    """The tasks due from `since` to before `until` that were done, missed and done late, by
    `by`: each count one range of an index read in its own order, so no task's row is read and
    nothing is sorted — done and missed along (school, state, due), late along the partial index
    of the late ones, so computing lateness costs nothing for the tasks that were not."""
    tallies = []
    for n, (state, *late) in enumerate(TALLIES):
        tallies.append(
            select(literal_column(str(n), Integer).label("tally"), *by, func.count())
            .where(
                Task.school_id.in_(ids),
                Task.state == state,
                Task.due_at >= since,
                Task.due_at < until,
                *late,
            )
            .group_by(*by)
        )
    return union_all(*tallies)


def _school_tallies(
    session: Session, ids: list[int], since: datetime, until: datetime
) -> dict[int, Counter[str]]:
    """Per school: its tasks done, missed and done late over the period."""
    tallied: dict[int, Counter[str]] = defaultdict(Counter)
    for n, school_id, count in session.execute(_tallies(ids, since, until, Task.school_id)):
        tallied[school_id][TALLY_NAMES[n]] += count
    return tallied


def _segments(cuts: list[datetime], until: datetime) -> list[tuple[datetime, datetime]]:
    """The stretches between the cuts before `until`, the last one ending at `until`."""
    points = sorted({c for c in cuts if c < until})
    return list(zip(points, [*points[1:], until], strict=True))


@dataclass(frozen=True)
class Dashboard:
    """The schools' figures over a span, and their weekly trend up to today."""

    schools: list[SchoolFigures]
    weeks: list[Week]


def school_dashboard(
    session: Session,
    schools: Sequence[School],
    span: Span,
    *,
    now: datetime,
    weeks: int | None = None,
    drill_every_days: int = DRILL_EVERY_DAYS,
    implausible_within: timedelta = DEFAULT_WITHIN,
    photo_older: timedelta = DEFAULT_PHOTO_OLDER,
) -> Dashboard:
    """Each school's figures over the span (tasks that fell due in it up to now, trips and
    records in it), with what is open or expiring now, in the schools' order; and the weekly
    trend of the last `weeks` weeks, each counted along the tasks' indexes (_tallies)."""
    if not schools:
        return Dashboard([], [])
    zone = schools[0].district.zone
    start, end = span.bounds(zone)
    end = min(end, now)
    ids = [s.id for s in schools]
    figures = {s.id: SchoolFigures(s) for s in schools}
    today = now.astimezone(zone).date()
    weeks = weeks or trend_weeks(span)
    # Calendar weeks, Monday to Sunday, the last one this week's so far.
    monday = today - timedelta(days=today.weekday())
    trend = [
        Span(start, start + timedelta(days=6))
        for start in (monday - timedelta(days=7 * (weeks - 1 - n)) for n in range(weeks))
    ]
    week_starts = [w.bounds(zone)[0] for w in trend]

    # Each task is counted once: the period and the trend are cut where either begins, and
    # every stretch adds to the span if it lies in it and to the week it lies in.
    by_week = [Counter[str]() for _ in trend]
    for since, until in _segments([start, *week_starts], now):
        tallied = _school_tallies(session, ids, since, until)
        if since >= start:
            for school_id, tally in tallied.items():
                f = figures[school_id]
                f.on_time += tally["done"] - tally["late"]
                f.late += tally["late"]
                f.missed += tally["missed"]
        if since >= week_starts[0]:
            week = by_week[bisect_right(week_starts, since) - 1]
            for tally in tallied.values():
                week.update(tally)
    weeks_shown = [
        Week(w.first, tally["done"] - tally["late"], tally["late"], tally["missed"])
        for w, tally in zip(trend, by_week, strict=True)
    ]

    today = now.astimezone(zone).date()
    for school_id, counts in school_figures(session, ids, Calendar(zone), today, now).items():
        figures[school_id].overdue = counts["overdue"]

    band = case(
        *(
            (CorrectiveAction.opened_at > now - timedelta(days=d), i)
            for i, d in enumerate(AGE_BANDS)
        ),
        else_=len(AGE_BANDS),
    ).label("band")
    overdue = case((CorrectiveAction.due_at < now, 1), else_=0).label("overdue")
    actions = session.execute(
        select(CorrectiveAction.school_id, CorrectiveAction.severity, band, overdue, func.count())
        .where(CorrectiveAction.school_id.in_(ids), CorrectiveAction.status == ActionStatus.OPEN)
        .group_by(CorrectiveAction.school_id, CorrectiveAction.severity, band, overdue)
    )
    for school_id, severity, age, is_overdue, count in actions:
        figures[school_id].actions[(severity, age)] += count
        figures[school_id].actions_overdue += count if is_overdue else 0

    expired = case((Document.expires_on < today, 1), else_=0).label("expired")
    documents = session.execute(
        select(Document.school_id, expired, func.count())
        .where(
            Document.school_id.in_(ids),
            Document.replaced_by_id.is_(None),
            Document.expires_on.is_not(None),
            Document.expires_on <= today + EXPIRING_WITHIN,
        )
        .group_by(Document.school_id, expired)
    )
    for school_id, is_expired, count in documents:
        if is_expired:
            figures[school_id].expired += count
        else:
            figures[school_id].expiring += count
    for school_id, count in missing_papers_at(session, ids, today).items():
        figures[school_id].missing = count

    alert = case((trip_alert(), 1), else_=0).label("alert")
    trips = session.execute(
        select(Trip.school_id, alert, func.count())
        .where(Trip.school_id.in_(ids), Trip.departed_at >= start, Trip.departed_at < end)
        .group_by(Trip.school_id, alert)
    )
    for school_id, alerted, count in trips:
        figures[school_id].trips += count
        figures[school_id].trip_alerts += count if alerted else 0

    in_records = (
        Record.school_id.in_(ids),
        Record.submitted_at >= start,
        Record.submitted_at < end,
    )
    records = session.execute(
        select(Record.school_id, func.count()).where(*in_records).group_by(Record.school_id)
    )
    for school_id, count in records:
        figures[school_id].records = count
    flagged_query = flagged_records(implausible_within, *in_records, photo_older=photo_older)
    flagged_ids = flagged_query.subquery()
    flagged = session.execute(
        select(flagged_ids.c.school_id, func.count()).group_by(flagged_ids.c.school_id)
    )
    for school_id, count in flagged:
        figures[school_id].flagged = count

    # Drills by the one rule the score uses too (models/drills.py).
    drill_first, _ = drill_window(span.first, span.last, drill_every_days)
    drill_start, _ = Span(drill_first, span.last).bounds(zone)
    for school_id, count in drills_held(session, ids, drill_start, end).items():
        figures[school_id].drills_held = count
    for f in figures.values():
        f.drills_due = drills_due(span.first, span.last, drill_every_days)
    return Dashboard([figures[s.id] for s in schools], weeks_shown)


def trend_weeks(span: Span) -> int:
    """How many weeks the trend beside a span shows: those it spans, within TREND_WEEKS."""
    low, high = TREND_WEEKS
    return min(max(-(-span.days // 7), low), high)


def trip_alert() -> Any:
    """A trip that raised an alert: no arrival confirmed, or children boarded ≠ got off."""
    return or_(
        Trip.status == TripStatus.NO_ARRIVAL,
        and_(Trip.got_off.is_not(None), Trip.got_off != Trip.boarded),
    )


def unreported(
    session: Session,
    schools: Sequence[School],
    span: Span,
    *,
    now: datetime,
    limit: int = UNREPORTED_LIMIT,
) -> list[Unreported]:
    """Which school missed which duty on which day in the span, newest day first: the tasks
    whose window closed without a record, one line per school, duty and due time."""
    if not schools:
        return []
    by_id = {s.id: s for s in schools}
    zone = schools[0].district.zone
    start, end = span.bounds(zone)
    rows = session.execute(
        select(Task.school_id, Task.template_key, Task.due_at, func.count(), func.min(Asset.name))
        .join(Asset, Asset.id == Task.asset_id)
        .where(
            Task.school_id.in_(list(by_id)),
            Task.state == TaskState.MISSED,
            Task.due_at >= start,
            Task.due_at < min(end, now),
        )
        .group_by(Task.school_id, Task.template_key, Task.due_at)
        .order_by(Task.due_at.desc(), Task.school_id, Task.template_key)
        .limit(limit)
    )
    return [
        Unreported(by_id[school_id], due_at.astimezone(zone).date(), key, count, name)
        for school_id, key, due_at, count, name in rows
    ]


def total(figures: Sequence[SchoolFigures]) -> SchoolFigures:
    """The schools' figures added up, for the district's first line."""
    if not figures:
        raise ValueError("no schools")
    sum_ = SchoolFigures(figures[0].school)
    for f in figures:
        for name in (
            "on_time",
            "late",
            "missed",
            "overdue",
            "actions_overdue",
            "expired",
            "expiring",
            "missing",
            "trips",
            "trip_alerts",
            "records",
            "flagged",
            "drills_held",
            "drills_due",
        ):
            setattr(sum_, name, getattr(sum_, name) + getattr(f, name))
        sum_.actions.update(f.actions)
    return sum_
