"""The school score (source document §5): points per indicator from measured data only, a
grade band, a ranking of the district's schools, and the records that lost each point.

The figures are counted in SQL for many schools at once (`school_figures`); the score itself
is a pure function of the figures and a scheme (`compute_score`), so a test can do the sum by
hand. Weights and bands are a district's `ScoreScheme`, versioned: each save is a new row, and
a score names the version it used.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, ForeignKey, UniqueConstraint, and_, case, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.actions import ActionStatus, CorrectiveAction
from models.assets import Asset
from models.audit import audit, differences
from models.base import Base
from models.checklists import FormTemplate
from models.dashboard import SchoolFigures
from models.documents import certificate_shares_at, insurance_in_force
from models.drills import drill_window, drills_due, drills_held
from models.duties import Task, TaskState, done_late
from models.food_safety import signed_on_time
from models.messages import N_, DomainError, Message
from models.org import District, School
from models.people import Person, visible_school_ids
from models.periods import Period, PeriodKind
from models.plausibility import (
    DEFAULT_PHOTO_OLDER,
    DEFAULT_WITHIN,
    flagged_clause,
    flagged_records,
)
from models.records import Record
from models.trips import Trip, TripStatus

# The indicators in the order a breakdown lists them; "reports_signed" counts the canteen's
# weekly reports and monthly minutes (周排查、月调度) signed by their deadline.
INDICATORS = (
    "on_time",
    "actions_fixed",
    "certificates",
    "insurance",
    "drills",
    "trips",
    "flags",
    "reports_signed",
)
INDICATOR_NAMES = {
    "on_time": N_("Duties done on time"),
    "actions_fixed": N_("Failures fixed by their deadline"),
    "certificates": N_("Staff with valid certificates"),
    "insurance": N_("Insurance in force"),
    "drills": N_("Fire drills held"),
    "trips": N_("Bus trips without alerts"),
    "flags": N_("Records not flagged"),
    "reports_signed": N_("Statutory reports signed on time"),
}
BANDS = ("A", "B", "C")
# What every school owes whatever it records: these alone do not make a score (no data).
OWED_ANYWAY = ("insurance", "drills")
MAX_LOSSES = 50


class ScoreScheme(Base):
    """One version of a district's weights and grade bands; scores name the version used."""

    __tablename__ = "score_scheme"
    __table_args__ = (UniqueConstraint("district_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), index=True)
    version: Mapped[int]
    weights: Mapped[dict[str, Any]]
    bands: Mapped[dict[str, Any]]
    drill_every_days: Mapped[int]
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))


@dataclass(frozen=True)
class Scheme:
    """Weights, bands and the drill interval a score is computed with; version 0 is the
    configuration's defaults, before the district saved its own."""

    weights: Mapping[str, int]
    bands: Mapping[str, int]
    drill_every_days: int = 180
    version: int = 0

    @classmethod
    def of(cls, row: ScoreScheme) -> Scheme:
        return cls(
            {k: int(row.weights.get(k, 0)) for k in INDICATORS},
            {b: int(row.bands[b]) for b in BANDS},
            row.drill_every_days,
            row.version,
        )


class SchemeRefused(DomainError):
    """The weights or bands cannot make a score; `errors` says what is wrong with each field
    of the scheme's form it is about (weight_<indicator>, band_<band>, drill_every_days)."""

    def __init__(self, message: Message, errors: Mapping[str, Message] | None = None) -> None:
        super().__init__(message)
        self.errors = dict(errors or {})


# A drill at most every ten years: anything longer is a typing slip (and beyond the column).
DRILL_EVERY_DAYS_MAX = 3650


def scheme_errors(scheme: Scheme) -> dict[str, Message]:
    """What is wrong with a scheme, in the district administrator's words, by the field of the
    scheme's form it is about; empty when fine."""
    errors: dict[str, Message] = {}
    for key in INDICATORS:
        if not 0 <= scheme.weights.get(key, 0) <= 100:
            errors[f"weight_{key}"] = Message(N_("Each weight is between 0 and 100."))
    if not errors and not any(scheme.weights.get(k, 0) for k in INDICATORS):
        errors[f"weight_{INDICATORS[0]}"] = Message(N_("At least one weight must be more than 0."))
    above = 100
    for band in BANDS:
        value = scheme.bands.get(band, -1)
        if not above >= value >= 0:
            errors[f"band_{band}"] = Message(
                N_("The bands go down from A to C, between 100 and 0.")
            )
            break
        above = value
    if scheme.drill_every_days < 1:
        errors["drill_every_days"] = Message(N_("A drill is due at least every 1 day."))
    elif scheme.drill_every_days > DRILL_EVERY_DAYS_MAX:
        errors["drill_every_days"] = Message(
            N_("A drill is due at most every %(days)d days."), {"days": DRILL_EVERY_DAYS_MAX}
        )
    return errors


def current_scheme(session: Session, district_id: int, defaults: Scheme) -> Scheme:
    """The district's latest saved scheme, else the configuration's defaults (version 0)."""
    row = session.scalar(
        select(ScoreScheme)
        .where(ScoreScheme.district_id == district_id)
        .order_by(ScoreScheme.version.desc())
        .limit(1)
    )
    return Scheme.of(row) if row is not None else defaults


def scheme_version(session: Session, district_id: int, version: int) -> Scheme | None:
    """One saved version of the district's scheme, for a score computed with it."""
    row = session.scalar(
        select(ScoreScheme).where(
            ScoreScheme.district_id == district_id, ScoreScheme.version == version
        )
    )
    return Scheme.of(row) if row is not None else None


def scheme_versions(session: Session, district_id: int) -> list[ScoreScheme]:
    return list(
        session.scalars(
            select(ScoreScheme)
            .where(ScoreScheme.district_id == district_id)
            .order_by(ScoreScheme.version.desc())
        )
    )


def save_scheme(
    session: Session, actor: Person, district: District, scheme: Scheme, *, now: datetime
) -> ScoreScheme:
    """Store the scheme as the district's next version; only its district administrators may.
    Saving what the latest version already says keeps that version."""
    if not actor.is_district_admin_of(district.id):
        raise SchemeRefused(Message(N_("Only the district's administrators edit the score.")))
    errors = scheme_errors(scheme)
    if errors:
        raise SchemeRefused(next(iter(errors.values())), errors)
    latest = session.scalar(
        select(ScoreScheme)
        .where(ScoreScheme.district_id == district.id)
        .order_by(ScoreScheme.version.desc())
        .limit(1)
    )
    weights = {k: int(scheme.weights.get(k, 0)) for k in INDICATORS}
    bands = {b: int(scheme.bands[b]) for b in BANDS}
    if (
        latest is not None
        and latest.weights == weights
        and latest.bands == bands
        and latest.drill_every_days == scheme.drill_every_days
    ):
        return latest
    row = ScoreScheme(
        district_id=district.id,
        version=(latest.version + 1) if latest else 1,
        weights=weights,
        bands=bands,
        drill_every_days=scheme.drill_every_days,
        created_at=now,
        created_by_id=actor.id,
    )
    session.add(row)
    session.flush()
    before, after = _scheme_changes(latest, row)
    audit(session, actor, "score.changed", row, before, after, now=now, label=district.name)
    return row


def _scheme_changes(
    latest: ScoreScheme | None, row: ScoreScheme
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new version against the one it follows: its number, and just the weights, bands and
    drill interval that differ (all of them for the district's first version)."""

    def fields(scheme: ScoreScheme) -> dict[str, Any]:
        return {
            "version": scheme.version,
            "drill_every_days": scheme.drill_every_days,
            **{f"weight_{k}": v for k, v in scheme.weights.items()},
            **{f"band_{b}": v for b, v in scheme.bands.items()},
        }

    return differences(fields(latest), fields(row)) if latest is not None else ({}, fields(row))


# --- the period ------------------------------------------------------------------------------
# A private stand-in for models/periods.py (being written beside this): a term is a date range.


# --- the figures -----------------------------------------------------------------------------


@dataclass
class Figures:
    """What was measured at one school in a period: for each indicator, (good, of)."""

    counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    # Tasks per duty kind (template key): (done, fell due).
    duties: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Line:
    """One indicator of a score: what was measured, its weight and the points it earned. An
    indicator with nothing to measure (no bus, nothing fell due) earns and loses nothing: it is
    left out and the other weights share its points."""

    key: str
    good: int
    of: int
    weight: int
    points: float
    lost: float

    @property
    def measured(self) -> bool:
        return self.of > 0

    @property
    def name(self) -> str:
        return INDICATOR_NAMES[self.key]

    @property
    def percent(self) -> int | None:
        return round(100 * self.good / self.of) if self.of else None


@dataclass(frozen=True)
class Score:
    """A school's points out of 100 and grade; None for both when none of its weighted
    indicators had anything to measure (无数据): such a school is listed, not ranked."""

    school_id: int
    total: float | None
    band: str | None
    lines: list[Line]
    scheme_version: int

    @property
    def has_data(self) -> bool:
        return self.total is not None


def half_up(value: float, places: str) -> float:
    """Rounded as a person rounds by hand (56.25 to 56.3), not to the even digit."""
    return float(Decimal(repr(value)).quantize(Decimal(places), ROUND_HALF_UP))


def band_for(total: float, bands: Mapping[str, int]) -> str:
    """A from bands["A"] up, B from bands["B"], C from bands["C"], D below."""
    for band in BANDS:
        if total >= bands[band]:
            return band
    return "D"


def compute_score(school_id: int, figures: Figures, scheme: Scheme) -> Score:
    """The score out of 100: each measured indicator earns its weight times its share of good,
    scaled so that the measured indicators' weights together make 100. An indicator with
    nothing to measure (no bus trips at a school with no bus) is left out rather than given
    its points. There is no score when nothing weighted was measured, nor when only what every
    school owes anyway (insurance, drills) was: a school with no task due, no record, no staff,
    no failure and no trip has no data to be ranked on, rather than a 0 beside the others."""
    weighted = [k for k in INDICATORS if scheme.weights.get(k, 0) > 0]
    measured = [k for k in weighted if figures.counts.get(k, (0, 0))[1] > 0]
    own = [k for k in weighted if k not in OWED_ANYWAY]
    no_data = not measured or (own and not set(measured) - set(OWED_ANYWAY))
    measured_weight = 0 if no_data else sum(scheme.weights[k] for k in measured)
    lines = []
    for key in INDICATORS:
        weight = scheme.weights.get(key, 0)
        good, of = figures.counts.get(key, (0, 0))
        if not of or not measured_weight:
            lines.append(Line(key, good, of, weight, 0.0, 0.0))
            continue
        worth = 100 * weight / measured_weight
        points = half_up(worth * good / of, "0.01")
        lines.append(Line(key, good, of, weight, points, half_up(worth - points, "0.01")))
    if not measured_weight:
        return Score(school_id, None, None, lines, scheme.version)
    total = half_up(sum(line.points for line in lines), "0.1")
    return Score(school_id, total, band_for(total, scheme.bands), lines, scheme.version)


def school_figures(
    session: Session,
    schools: Sequence[School],
    period: Period,
    district: District,
    scheme: Scheme,
    now: datetime,
    *,
    by_duty: bool = False,
    implausible_within: timedelta = DEFAULT_WITHIN,
    photo_older: timedelta = DEFAULT_PHOTO_OLDER,
) -> dict[int, Figures]:
    """Each school's figures for the period, up to `now`: counted per indicator in one
    grouped query each, across all the schools; with `by_duty`, the tasks per duty kind too
    (one school's breakdown; the ranking needs only the totals)."""
    ids = [s.id for s in schools]
    start, end = period.bounds(district.zone)
    end = min(end, now)
    figures: dict[int, Figures] = defaultdict(Figures)
    if not ids:
        return figures

    # Done, and not late: as the dashboard counts it (a done task with no time is on time).
    on_time = case((done_late(), 0), (Task.state == TaskState.DONE, 1), else_=0)
    in_period = (
        Task.school_id.in_(ids),
        Task.due_at >= start,
        Task.due_at < end,
        Task.state.in_((TaskState.DONE, TaskState.MISSED)),
    )
    if by_duty:
        duties: dict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
        for school_id, key, good, count in session.execute(
            select(Task.school_id, Task.template_key, func.sum(on_time), func.count())
            .where(*in_period)
            .group_by(Task.school_id, Task.template_key)
        ):
            duties[school_id][key] = (int(good or 0), count)
        for school_id, kinds in duties.items():
            figures[school_id].duties = dict(sorted(kinds.items()))
            figures[school_id].counts["on_time"] = (
                sum(v[0] for v in kinds.values()),
                sum(v[1] for v in kinds.values()),
            )
    else:
        for school_id, good, count in session.execute(
            select(Task.school_id, func.sum(on_time), func.count())
            .where(*in_period)
            .group_by(Task.school_id)
        ):
            figures[school_id].counts["on_time"] = (int(good or 0), count)

    for school_id, bad, of in session.execute(
        select(Trip.school_id, func.sum(case((trip_alerted(), 1), else_=0)), func.count())
        .where(Trip.school_id.in_(ids), Trip.departed_at >= start, Trip.departed_at < end)
        .group_by(Trip.school_id)
    ):
        figures[school_id].counts["trips"] = (of - int(bad or 0), of)

    # Two counts, each from an index alone: all the records, and the few flagged.
    in_records = (
        Record.school_id.in_(ids),
        Record.submitted_at >= start,
        Record.submitted_at < end,
    )
    flagged_ids = flagged_records(
        implausible_within, *in_records, photo_older=photo_older
    ).subquery()
    flagged: dict[int, int] = dict(
        session.execute(
            select(flagged_ids.c.school_id, func.count()).group_by(flagged_ids.c.school_id)
        ).all()
    )
    for school_id, of in session.execute(
        select(Record.school_id, func.count()).where(*in_records).group_by(Record.school_id)
    ):
        figures[school_id].counts["flags"] = (of - flagged.get(school_id, 0), of)

    # Drills by the dashboard's rule (models/drills.py), at the scheme's interval.
    due = drills_due(period.start, period.end, scheme.drill_every_days)
    drill_first, _ = drill_window(period.start, period.end, scheme.drill_every_days)
    drill_start, _ = Period(PeriodKind.RANGE, drill_first, period.end).bounds(district.zone)
    held = drills_held(session, ids, drill_start, end)
    for school in schools:
        figures[school.id].counts["drills"] = (min(held.get(school.id, 0), due), due)
    _kept_figures(session, schools, period, district, scheme, now, figures)
    return figures


def _kept_figures(
    session: Session,
    schools: Sequence[School],
    period: Period,
    district: District,
    scheme: Scheme,
    now: datetime,
    figures: dict[int, Figures],
) -> None:
    """The indicators the dashboard does not count itself: failures fixed by their deadline,
    reports signed, certificates and insurance (small tables, one grouped read each)."""
    ids = [s.id for s in schools]
    start, end = period.bounds(district.zone)
    end = min(end, now)
    in_time = and_(
        CorrectiveAction.closed_at.is_not(None),
        CorrectiveAction.closed_at <= CorrectiveAction.due_at,
    )
    for school_id, good, of in session.execute(
        select(
            CorrectiveAction.school_id,
            func.sum(case((in_time, 1), else_=0)),
            func.count(),
        )
        .where(
            CorrectiveAction.school_id.in_(ids),
            CorrectiveAction.due_at >= start,
            CorrectiveAction.due_at < end,
        )
        .group_by(CorrectiveAction.school_id)
    ):
        figures[school_id].counts["actions_fixed"] = (int(good or 0), of)
    # Walked report by report, so only when the scheme weighs it (the defaults do not).
    if scheme.weights.get("reports_signed", 0):
        for school_id, signed in signed_on_time(session, schools, start, end).items():
            figures[school_id].counts["reports_signed"] = signed
    today = min(period.end, district.local(now).date())
    shares = certificate_shares_at(session, ids, today)
    insured = insurance_in_force(session, ids, today)
    for school in schools:
        counts = figures[school.id].counts
        mine = shares.get(school.id, [])
        counts["certificates"] = (sum(s.valid for s in mine), sum(s.staff for s in mine))
        counts["insurance"] = insured[school.id]


def dashboard_scores(
    session: Session,
    board: Sequence[SchoolFigures],
    period: Period,
    scheme: Scheme,
    now: datetime,
) -> dict[int, Score]:
    """Each school's score over the dashboard's own days, from the figures the dashboard has
    already counted (duties, trips, records, drills) and the few it has not: the score beside
    the completion figures costs a few small queries, not a second pass over the year."""
    if not board:
        return {}
    schools = [f.school for f in board]
    district = schools[0].district
    figures: dict[int, Figures] = defaultdict(Figures)
    for f in board:
        counts = figures[f.school.id].counts
        if f.fell_due:
            counts["on_time"] = (f.on_time, f.fell_due)
        if f.trips:
            counts["trips"] = (f.trips - f.trip_alerts, f.trips)
        if f.records:
            counts["flags"] = (f.records - f.flagged, f.records)
        counts["drills"] = (min(f.drills_held, f.drills_due), f.drills_due)
    _kept_figures(session, schools, period, district, scheme, now, figures)
    return {s.id: compute_score(s.id, figures[s.id], scheme) for s in schools}


def trip_alerted() -> ColumnElement[bool]:
    """A trip that raised an alert: no arrival confirmed, or children boarded ≠ got off."""
    return or_(
        Trip.status == TripStatus.NO_ARRIVAL,
        and_(Trip.got_off.is_not(None), Trip.got_off != Trip.boarded),
    )


# --- what a person reads ---------------------------------------------------------------------


@dataclass(frozen=True)
class Ranked:
    """A school's place: None for a school with no data, listed after the ranked ones."""

    rank: int | None
    school: School
    score: Score


def rank(scores: Sequence[tuple[School, Score]]) -> list[Ranked]:
    """Highest score first; equal scores share a rank (1, 1, 3) and are listed by code; the
    schools with no score (无数据) follow, unranked, by code."""
    scored = [(school, score, score.total) for school, score in scores if score.total is not None]
    scored.sort(key=lambda row: (-row[2], row[0].code))
    ranked: list[Ranked] = []
    for position, (school, score, total) in enumerate(scored, start=1):
        same = ranked and ranked[-1].score.total == total
        ranked.append(Ranked(ranked[-1].rank if same else position, school, score))
    unscored = sorted((pair for pair in scores if pair[1].total is None), key=lambda p: p[0].code)
    ranked.extend(Ranked(None, school, score) for school, score in unscored)
    return ranked


def district_ranking(
    session: Session,
    viewer: Person,
    district: District,
    period: Period,
    scheme: Scheme,
    now: datetime,
    *,
    implausible_within: timedelta = DEFAULT_WITHIN,
    photo_older: timedelta = DEFAULT_PHOTO_OLDER,
) -> list[Ranked]:
    """Every school of the district the viewer may see, scored and ranked."""
    schools = list(
        session.scalars(
            select(School)
            .where(School.district_id == district.id, School.id.in_(visible_school_ids(viewer)))
            .order_by(School.code)
        )
    )
    figures = school_figures(
        session,
        schools,
        period,
        district,
        scheme,
        now,
        implausible_within=implausible_within,
        photo_older=photo_older,
    )
    return rank([(s, compute_score(s.id, figures[s.id], scheme)) for s in schools])


def school_score(
    session: Session,
    school: School,
    period: Period,
    scheme: Scheme,
    now: datetime,
    *,
    implausible_within: timedelta = DEFAULT_WITHIN,
    photo_older: timedelta = DEFAULT_PHOTO_OLDER,
) -> tuple[Score, Figures]:
    figures = school_figures(
        session,
        [school],
        period,
        school.district,
        scheme,
        now,
        by_duty=True,
        implausible_within=implausible_within,
        photo_older=photo_older,
    )
    return compute_score(school.id, figures[school.id], scheme), figures[school.id]


@dataclass(frozen=True)
class Loss:
    """Something that lost points, named as a person finds it: the asset (code and name), the
    checklist and the time. `kind` says which page shows it: a record, a corrective action,
    or (a missed task, which has no record) the asset."""

    kind: str
    id: int
    at: datetime
    asset_code: str = ""
    asset_name: str = ""
    checklist: str = ""  # the template key; the page names it in the reader's language
    status: str = ""


def losses(
    session: Session,
    school: School,
    period: Period,
    now: datetime,
    *,
    implausible_within: timedelta = DEFAULT_WITHIN,
    photo_older: timedelta = DEFAULT_PHOTO_OLDER,
) -> dict[str, list[Loss]]:
    """Per indicator, the tasks, actions, trips and records that lost its points (the first
    MAX_LOSSES of each, oldest first)."""
    start, end = period.bounds(school.district.zone)
    end = min(end, now)
    found: dict[str, list[Loss]] = {}
    found["on_time"] = [
        Loss("asset", asset_id, due_at, code, name, key)
        for asset_id, due_at, key, code, name in session.execute(
            select(Task.asset_id, Task.due_at, Task.template_key, Asset.code, Asset.name)
            .join(Asset, Asset.id == Task.asset_id)
            .where(
                Task.school_id == school.id,
                Task.state == TaskState.MISSED,
                Task.due_at >= start,
                Task.due_at < end,
            )
            .order_by(Task.due_at, Asset.code)
            .limit(MAX_LOSSES)
        )
    ]
    found["actions_fixed"] = [
        Loss("action", action_id, due_at, code, name, key or "", ActionStatus(status).value)
        for action_id, due_at, status, code, name, key in session.execute(
            select(
                CorrectiveAction.id,
                CorrectiveAction.due_at,
                CorrectiveAction.status,
                Asset.code,
                Asset.name,
                FormTemplate.key,
            )
            .join(Asset, Asset.id == CorrectiveAction.asset_id)
            .outerjoin(Record, Record.id == CorrectiveAction.record_id)
            .outerjoin(FormTemplate, FormTemplate.id == Record.template_id)
            .where(
                CorrectiveAction.school_id == school.id,
                CorrectiveAction.due_at >= start,
                CorrectiveAction.due_at < end,
                or_(
                    CorrectiveAction.closed_at.is_(None),
                    CorrectiveAction.closed_at > CorrectiveAction.due_at,
                ),
            )
            .order_by(CorrectiveAction.due_at, CorrectiveAction.id)
            .limit(MAX_LOSSES)
        )
    ]
    found["trips"] = [
        Loss("record", record_id, departed_at, code, name, key)
        for record_id, departed_at, code, name, key in session.execute(
            select(
                Trip.departure_record_id, Trip.departed_at, Asset.code, Asset.name, FormTemplate.key
            )
            .join(Asset, Asset.id == Trip.bus_id)
            .join(Record, Record.id == Trip.departure_record_id)
            .join(FormTemplate, FormTemplate.id == Record.template_id)
            .where(
                Trip.school_id == school.id,
                Trip.departed_at >= start,
                Trip.departed_at < end,
                trip_alerted(),
            )
            .order_by(Trip.departed_at, Trip.id)
            .limit(MAX_LOSSES)
        )
    ]
    found["flags"] = [
        Loss("record", record_id, submitted_at, code, name, key)
        for record_id, submitted_at, code, name, key in session.execute(
            select(Record.id, Record.submitted_at, Asset.code, Asset.name, FormTemplate.key)
            .join(Asset, Asset.id == Record.asset_id)
            .join(FormTemplate, FormTemplate.id == Record.template_id)
            .where(
                Record.school_id == school.id,
                flagged_clause(implausible_within, photo_older),
                Record.submitted_at >= start,
                Record.submitted_at < end,
            )
            .order_by(Record.submitted_at, Record.id)
            .limit(MAX_LOSSES)
        )
    ]
    return found
