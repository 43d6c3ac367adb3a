"""The statutory reports a school signs, written from its records: the canteen's food-safety
reports (日管控、周排查、月调度), the monthly fire check record and the quarterly drinking-water
report.

《企业落实食品安全主体责任监督管理规定》（市场监管总局令第60号） asks for a daily check record,
a weekly investigation report and monthly scheduling minutes, with a record also on a day
when nothing was wrong; 《机关、团体、企业、事业单位消防安全管理规定》（公安部令第61号） a daily
fire patrol and a monthly fire check, recorded; the source document's point 20 drinking water
from certified suppliers, its dispensers disinfected, with a test report every quarter.
A report family names the assets and checklists its reports read and the asset that makes a
school owe them; the days, problems, figures, deadlines, signing and reminders are one code
path for every family, built from tasks, records and corrective actions and nothing else:
every line names the record behind it. A report becomes a row of its own once someone writes
in it, and is frozen (its lines kept as they were read) when it is signed.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ForeignKey, Select, String, Text, UniqueConstraint, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models import periods
from models.actions import CorrectiveAction, EventKind
from models.assets import Asset, AssetKind
from models.base import Base
from models.catalogue import LOCALES, date_range, join_list, translate
from models.checklists import FormTemplate
from models.drills import DRILL_TEMPLATE
from models.duties import Task, TaskState, template_title
from models.messages import N_, DomainError, Message
from models.notifications import Notification, Severity, district_admins, notify, school_admins
from models.org import School
from models.people import Person, Role
from models.periods import PeriodKind
from models.records import Record
from models.staff import people_at_school

RULE = N_(
    "Provisions on Enterprises' Primary Responsibility for Food Safety (SAMR Order No. 60):"
    " daily control, weekly investigation, monthly scheduling"
)
MAX_NOTES = 4000


class ReportKind(enum.StrEnum):
    WEEKLY = "weekly"  # 每周食品安全排查治理报告
    MONTHLY = "monthly"  # 每月食品安全调度会议纪要
    FIRE = "fire"  # 每月防火检查记录
    WATER = "water"  # 饮用水卫生季度报告


class Verdict(enum.StrEnum):
    """What a day's record says in one line."""

    ZERO_RISK = "zero_risk"  # every check done, nothing wrong: 未发现食品安全风险
    MISSING = "missing"  # a check not done in its window
    PROBLEMS = "problems"  # done, but something failed
    PENDING = "pending"  # a check still in its window
    NO_CHECKS = "no_checks"  # nothing due and nothing filed (no school that day)

    # A day's verdict is the family's: 零风险 is the canteen's word, the patrol's its own.


class ReportStatus(enum.StrEnum):
    IN_PROGRESS = "in_progress"  # the period is not over
    TO_SIGN = "to_sign"  # over, before the deadline
    OVERDUE = "overdue"  # over, past the deadline, unsigned
    SIGNED = "signed"
    NOT_OWED = "not_owed"  # the school had none of the family's assets in the period


DAY_TITLE = N_("Daily food-safety check record")
VERDICT_LABELS = {
    Verdict.ZERO_RISK: N_("No food-safety risk found (zero risk)"),
    Verdict.MISSING: N_("Checks missing"),
    Verdict.PROBLEMS: N_("Problems found"),
    Verdict.PENDING: N_("Checks still to do"),
    Verdict.NO_CHECKS: N_("No checks due"),
}
STATUS_LABELS = {
    ReportStatus.IN_PROGRESS: N_("Period not over"),
    ReportStatus.TO_SIGN: N_("To sign"),
    ReportStatus.OVERDUE: N_("Overdue, not signed"),
    ReportStatus.SIGNED: N_("Signed"),
    ReportStatus.NOT_OWED: N_("Not owed"),
}
CHECK_LABELS = {
    "done": N_("Done"),
    "missed": N_("Missed"),
    "pending": N_("To do"),
    "filed": N_("Filed"),
}
PROBLEM_LABELS = {
    "fixed": N_("Fixed"),
    "fixed_late": N_("Fixed late"),
    "open": N_("Still open"),
}


# --- the families ---------------------------------------------------------------------------

PATROL = "fire_patrol"
NIGHT_PATROL = "fire_night_patrol"
FIRE_CHECKS = ("fire_monthly_check", "fire_quarterly_check")
EXTINGUISHER_CHECK = "extinguisher_monthly"
DRILL = DRILL_TEMPLATE
DISINFECTION = "water_dispenser_disinfection"
WATER_TEST = "water_quarterly_report"


@dataclass(frozen=True)
class Family:
    """Reports read from the same checks: the assets and checklists they read (every checklist
    of those kinds when `checklists` is empty), and the asset that makes a school owe them."""

    key: str  # the reports' path and their notices' prefix: /reports/S1/fire-safety/...
    title: str
    rule: str
    asset_kinds: tuple[AssetKind, ...]
    checklists: tuple[str, ...]
    owed_from: AssetKind
    zero_risk: str


FOOD = Family(
    key="food-safety",
    title=N_("Food-safety reports"),
    rule=RULE,
    asset_kinds=(AssetKind.CANTEEN,),
    checklists=(),
    owed_from=AssetKind.CANTEEN,
    zero_risk=N_("No food-safety risk found (zero risk)"),
)
FIRE = Family(
    key="fire-safety",
    title=N_("Fire safety records"),
    rule=N_(
        "Provisions on Fire Safety Management of Organisations (Ministry of Public Security"
        " Order No. 61): a daily fire patrol and a monthly fire check, both recorded"
    ),
    asset_kinds=(AssetKind.SCHOOL_OFFICE, AssetKind.EXTINGUISHER),
    # A boarding school's night patrol counts with the day's, and both fire checks with them.
    checklists=(PATROL, NIGHT_PATROL, *FIRE_CHECKS, EXTINGUISHER_CHECK, DRILL),
    # The patrol is filed against the logistics office: a school owes the record once it has one.
    owed_from=AssetKind.SCHOOL_OFFICE,
    zero_risk=N_("No fire hazard found"),
)
WATER = Family(
    key="drinking-water",
    title=N_("Drinking-water reports"),
    rule=N_(
        "Point 20: drinking water only from QS-certified suppliers with a test report every"
        " quarter, and every dispenser disinfection recorded"
    ),
    asset_kinds=(AssetKind.SCHOOL_OFFICE, AssetKind.WATER_DISPENSER),
    checklists=(DISINFECTION, WATER_TEST),
    # Without a dispenser the school serves no bottled water, and owes no report on it.
    owed_from=AssetKind.WATER_DISPENSER,
    zero_risk=N_("No drinking-water problem found"),
)
FAMILIES = (FOOD, FIRE, WATER)


@dataclass(frozen=True)
class KindSpec:
    family: Family
    period: PeriodKind
    slug: str  # its path after the family's: weekly, monthly, quarterly
    title: str
    # Signed by 17:00 on this day after the period's last.
    sign_within: timedelta
    signer: str
    short: str  # its name in a table's head


KINDS = {
    ReportKind.WEEKLY: KindSpec(
        FOOD,
        PeriodKind.WEEK,
        "weekly",
        N_("Weekly food-safety investigation report"),
        timedelta(days=2),
        N_("Food-safety officer"),
        N_("Weekly report"),
    ),
    ReportKind.MONTHLY: KindSpec(
        FOOD,
        PeriodKind.MONTH,
        "monthly",
        N_("Monthly food-safety scheduling meeting minutes"),
        timedelta(days=5),
        N_("Head of school"),
        N_("Monthly minutes"),
    ),
    ReportKind.FIRE: KindSpec(
        FIRE,
        PeriodKind.MONTH,
        "monthly",
        N_("Monthly fire check record"),
        timedelta(days=5),
        N_("Head of school"),
        N_("Fire check record"),
    ),
    # Ten days: a quarter ending in September is signed after the National Day holiday.
    ReportKind.WATER: KindSpec(
        WATER,
        PeriodKind.QUARTER,
        "quarterly",
        N_("Quarterly drinking-water hygiene report"),
        timedelta(days=10),
        N_("Head of school"),
        N_("Water report"),
    ),
}
KIND_TITLES = {kind: spec.title for kind, spec in KINDS.items()}
# Reading back far enough to reach every period whose deadline is in view: a quarter and its
# ten days.
LOOKBACK = timedelta(days=110)


def kind_at(family_key: str, slug: str) -> ReportKind | None:
    """The report kind a page's path names (`fire-safety`, `monthly`), if any."""
    return next(
        (k for k, s in KINDS.items() if s.family.key == family_key and s.slug == slug), None
    )


def kinds_of(family: Family) -> list[ReportKind]:
    return [kind for kind, spec in KINDS.items() if spec.family == family]


class FoodSafetyReport(Base):
    """A statutory report of one school (a week's, a month's, a quarter's): its notes, and
    once signed, its lines."""

    __tablename__ = "food_safety_report"
    __table_args__ = (UniqueConstraint("school_id", "kind", "starts_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    # The weekly report's measures, the minutes' decisions: what the signer writes.
    notes: Mapped[str] = mapped_column(Text, default="")
    # The report as it was read when signed; None until then.
    content: Mapped[dict[str, Any] | None]
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    signed_at: Mapped[datetime | None]
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))

    signed_by: Mapped[Person | None] = relationship(foreign_keys=[signed_by_id])

    @property
    def signed(self) -> bool:
        return self.signed_at is not None


# --- the lines ------------------------------------------------------------------------------


@dataclass
class CheckLine:
    """One check of a day: scheduled (with its task) or filed without a schedule (receiving)."""

    template_key: str
    title: dict[str, str]
    state: str  # done / missed / pending / filed
    record_id: int | None = None
    by: str | None = None
    at: str | None = None  # HH:MM, the district's time
    result: str | None = None
    day: str = ""
    asset_id: int | None = None
    asset: str = ""


@dataclass
class ProblemLine:
    """A failed item of a record and what became of it by the end of the period."""

    record_id: int
    found_on: str
    what: dict[str, str]
    severity: str
    status: str  # fixed / fixed_late / open
    action_id: int | None = None
    fix_by: str | None = None
    fixed_on: str | None = None
    handling: str = ""
    asset: str = ""


@dataclass
class DayReport:
    day: str
    verdict: str
    checks: list[CheckLine] = field(default_factory=list)
    missing: list[dict[str, str]] = field(default_factory=list)
    problems: list[ProblemLine] = field(default_factory=list)


@dataclass
class CheckCount:
    template_key: str
    title: dict[str, str]
    due: int = 0
    done: int = 0
    missed: int = 0
    filed: int = 0
    failed: int = 0


@dataclass
class AssetCount:
    """One scheduled check of one asset over the period: a dispenser's disinfections."""

    asset_id: int
    asset: str
    template_key: str
    title: dict[str, str]
    due: int = 0
    done: int = 0
    missed: int = 0
    failed: int = 0
    filed: int = 0  # filed without a schedule: counted, not as a due check done


@dataclass
class WaterTestLine:
    """A water test report filed in the quarter, as its record says."""

    record_id: int
    filed_on: str
    by: str
    supplier: str
    qs_certified: str
    report_date: str
    test_result: str
    valid_until: str
    # Its validity ends before the quarter does: the quarter is not covered to its end.
    lapses_in_period: bool


@dataclass
class Figures:
    school_days: int = 0
    checks_due: int = 0
    checks_done: int = 0
    checks_missed: int = 0
    # Filed with no schedule behind them (a receiving check): in the table, not in done / due.
    checks_filed: int = 0
    zero_risk_days: int = 0
    missed_days: int = 0
    problems: int = 0
    fixed: int = 0
    fixed_late: int = 0
    still_open: int = 0


@dataclass
class WeekLine:
    starts_on: str
    ends_on: str
    status: str
    signed_by: str | None = None


@dataclass
class PeriodReport:
    """A report's draft: the weekly report, the minutes, the fire record, the water report."""

    kind: str
    school: str
    starts_on: str
    ends_on: str
    figures: Figures
    checked: list[CheckCount]
    days: list[DayReport]
    problems: list[ProblemLine]
    still_open: list[ProblemLine]
    missed_days: list[DayReport]
    weeks: list[WeekLine] = field(default_factory=list)
    # Every scheduled check not done, with its day and asset; per asset, what was due.
    missed: list[CheckLine] = field(default_factory=list)
    assets: list[AssetCount] = field(default_factory=list)
    # Records filed without a schedule (a fire drill, a receiving check).
    filed: list[CheckLine] = field(default_factory=list)
    water_tests: list[WaterTestLine] = field(default_factory=list)

    def snapshot(self) -> dict[str, Any]:
        return asdict(self)


# --- building them --------------------------------------------------------------------------


def _bounds(school: School, first: date, last: date) -> tuple[datetime, datetime]:
    return periods.Period(PeriodKind.RANGE, first, last).bounds(school.district.zone)


def _titles(session: Session, keys: set[str], district_id: int) -> dict[str, dict[str, str]]:
    return {key: template_title(session, key, district_id) for key in keys}


def _records_of(family: Family) -> Select[Record]:
    """The family's records: of its asset kinds, and of its checklists if it names them."""
    query = select(Record).where(Record.asset_kind.in_(family.asset_kinds))
    if family.checklists:
        query = query.join(FormTemplate, FormTemplate.id == Record.template_id).where(
            FormTemplate.key.in_(family.checklists)
        )
    return query


def _days(
    session: Session,
    school: School,
    family: Family,
    first: date,
    last: date,
    *,
    now: datetime,
) -> list[DayReport]:
    """Every day from `first` to `last`, built from the family's tasks, records and actions."""
    start, end = _bounds(school, first, last)
    district = school.district
    task_query = (
        select(Task)
        .join(Asset, Asset.id == Task.asset_id)
        .where(
            Task.school_id == school.id,
            Asset.kind.in_(family.asset_kinds),
            Task.due_at >= start,
            Task.due_at < end,
            # A retired asset's closed tasks were neither done nor missed: not on the report.
            Task.state != TaskState.RETIRED,
        )
        .order_by(Task.due_at, Task.id)
    )
    if family.checklists:
        task_query = task_query.where(Task.template_key.in_(family.checklists))
    tasks = list(session.scalars(task_query))
    records = list(
        session.scalars(
            _records_of(family)
            .where(
                Record.school_id == school.id,
                Record.submitted_at >= start,
                Record.submitted_at < end,
            )
            .order_by(Record.submitted_at, Record.id)
        )
    )
    by_id = {r.id: r for r in records}
    actions = _actions_of(session, [r.id for r in records if not r.passed])
    keys = {t.template_key for t in tasks} | {r.template.key for r in records}
    titles = _titles(session, keys, school.district_id)
    names: dict[int, str] = {
        asset_id: name
        for asset_id, name in session.execute(
            select(Asset.id, Asset.name).where(
                Asset.school_id == school.id, Asset.kind.in_(family.asset_kinds)
            )
        )
    }

    def local_day(moment: datetime) -> str:
        return district.local(moment).date().isoformat()

    days = {
        (first + timedelta(days=n)).isoformat(): DayReport(day="", verdict=Verdict.NO_CHECKS)
        for n in range((last - first).days + 1)
    }
    for day, report in days.items():
        report.day = day
    for task in tasks:
        day = local_day(task.due_at)
        report = days[day]
        record = by_id.get(task.record_id) if task.record_id else None
        if record is None and task.record_id is not None:
            record = session.get(Record, task.record_id)
        title = titles.get(task.template_key, {})
        if task.state == TaskState.DONE and record is not None:
            # Done is read on the day it was done (a dispenser's a day early), if in the period.
            done_on = days.get(local_day(record.submitted_at), report)
            done_on.checks.append(_line(record, title, "done", district))
            continue
        undone = CheckLine(
            task.template_key,
            title,
            "pending",
            day=day,
            asset_id=task.asset_id,
            asset=names.get(task.asset_id, ""),
        )
        if task.state == TaskState.MISSED or now >= task.closes_at:
            undone.state = "missed"
            report.missing.append(title)
        report.checks.append(undone)
    # A record that did a task is read with its task, even one due outside the period.
    scheduled = {t.record_id for t in tasks if t.record_id}
    if records:
        scheduled |= set(
            session.scalars(
                select(Task.record_id).where(Task.record_id.in_([r.id for r in records]))
            )
        )
    for record in records:
        day = local_day(record.submitted_at)
        report = days[day]
        if record.id not in scheduled:
            report.checks.append(
                _line(record, titles.get(record.template.key, {}), "filed", district)
            )
        report.problems.extend(_problems(record, actions.get(record.id, []), end, day))
    for report in days.values():
        states = {c.state for c in report.checks}
        if not report.checks and not report.problems:
            report.verdict = Verdict.NO_CHECKS
        elif "missed" in states:
            report.verdict = Verdict.MISSING
        elif report.problems:
            report.verdict = Verdict.PROBLEMS
        elif "pending" in states:
            report.verdict = Verdict.PENDING
        else:
            report.verdict = Verdict.ZERO_RISK
    return list(days.values())


def _line(record: Record, title: dict[str, str], state: str, district: Any) -> CheckLine:
    return CheckLine(
        template_key=record.template.key,
        title=title or dict(record.template.spec.title),
        state=state,
        record_id=record.id,
        by=record.submitted_by.display_name,
        at=district.local(record.submitted_at).strftime("%H:%M"),
        result=record.result,
        day=district.local(record.submitted_at).date().isoformat(),
        asset_id=record.asset_id,
        asset=record.asset.name,
    )


def _actions_of(session: Session, record_ids: list[int]) -> dict[int, list[CorrectiveAction]]:
    found: dict[int, list[CorrectiveAction]] = {}
    if not record_ids:
        return found
    for action in session.scalars(
        select(CorrectiveAction)
        .where(CorrectiveAction.record_id.in_(record_ids))
        .order_by(CorrectiveAction.id)
    ):
        found.setdefault(action.record_id or 0, []).append(action)
    return found


def _problems(
    record: Record, actions: list[CorrectiveAction], end: datetime, day: str
) -> list[ProblemLine]:
    """The record's failed items, each with its action as it stood at `end`."""
    spec = record.template.spec
    lines = []
    for key in record.failed_items:
        item = spec.item(key)
        action = next((a for a in actions if a.item_key == key), None)
        if action is None:
            lines.append(
                ProblemLine(
                    record.id,
                    day,
                    item.fail_texts(),
                    item.severity,
                    "open",
                    asset=record.asset.name,
                )
            )
            continue
        lines.append(_problem_of(action, record.id, day, end))
    return lines


def _problem_of(action: CorrectiveAction, record_id: int, day: str, end: datetime) -> ProblemLine:
    district = action.asset.school.district
    fixed = action.closed_at is not None and action.closed_at < end
    closing = next(
        (e for e in reversed(action.events) if e.kind == EventKind.CLOSED and e.at < end), None
    )
    status = "open"
    if fixed and action.closed_at is not None:
        status = "fixed_late" if action.closed_at > action.due_at else "fixed"
    return ProblemLine(
        record_id=record_id,
        found_on=day,
        what=action.what,
        severity=action.severity,
        status=status,
        action_id=action.id,
        fix_by=district.local(action.due_at).strftime("%Y-%m-%d %H:%M"),
        fixed_on=(
            district.local(action.closed_at).strftime("%Y-%m-%d %H:%M")
            if fixed and action.closed_at is not None
            else None
        ),
        handling=(closing.note or "") if closing is not None else "",
        asset=action.asset.name,
    )


def daily_report(session: Session, school: School, day: date, *, now: datetime) -> DayReport:
    """The day's 每日食品安全检查记录: its checks, who did them, its problems and their handling."""
    return _days(session, school, FOOD, day, day, now=now)[0]


def _still_open(
    session: Session,
    school: School,
    family: Family,
    first: date,
    last: date,
    found: list[ProblemLine],
) -> list[ProblemLine]:
    """Every problem of the family not fixed by the period's end: found in it, or carried in."""
    start, end = _bounds(school, first, last)
    lines = [p for p in found if p.status == "open"]
    query = (
        select(CorrectiveAction)
        .join(Asset, Asset.id == CorrectiveAction.asset_id)
        .where(
            CorrectiveAction.school_id == school.id,
            Asset.kind.in_(family.asset_kinds),
            CorrectiveAction.opened_at < start,
        )
        .order_by(CorrectiveAction.opened_at)
    )
    if family.checklists:
        query = query.where(
            CorrectiveAction.record_id.in_(
                _records_of(family)
                .where(Record.school_id == school.id)
                .with_only_columns(Record.id)
            )
        )
    carried = session.scalars(query)
    district = school.district
    for action in carried:
        if action.record_id is None or (action.closed_at is not None and action.closed_at < end):
            continue
        if action.closed_at is None and not action.is_open:
            continue
        line = _problem_of(
            action, action.record_id, district.local(action.opened_at).date().isoformat(), end
        )
        lines.insert(0, line)
    return lines


def _period(
    session: Session, school: School, kind: ReportKind, first: date, last: date, now: datetime
) -> PeriodReport:
    family = KINDS[kind].family
    days = _days(session, school, family, first, last, now=now)
    figures = Figures()
    counts: dict[str, CheckCount] = {}
    per_asset: dict[tuple[int, str], AssetCount] = {}
    missed: list[CheckLine] = []
    filed: list[CheckLine] = []
    problems: list[ProblemLine] = []
    today = school.district.local(now).date()
    for day in days:
        if day.verdict == Verdict.NO_CHECKS:
            continue
        # A day still to come is not yet a day of checks, whatever is due on it.
        figures.school_days += date.fromisoformat(day.day) <= today
        figures.zero_risk_days += day.verdict == Verdict.ZERO_RISK
        figures.missed_days += day.verdict == Verdict.MISSING
        for check in day.checks:
            count = counts.setdefault(
                check.template_key, CheckCount(check.template_key, check.title)
            )
            if check.state != "filed":
                count.due += 1
                figures.checks_due += 1
            # Each column of the table adds up to its figure: done to done, filed to filed.
            if check.state == "done":
                count.done += 1
                figures.checks_done += 1
            elif check.state == "filed":
                count.filed += 1
                figures.checks_filed += 1
            if check.state in ("done", "filed"):
                count.failed += check.result == "fail"
            elif check.state == "missed":
                count.missed += 1
                figures.checks_missed += 1
                missed.append(check)
            if check.state == "filed":
                filed.append(check)
            if check.asset_id is not None:
                mine = per_asset.setdefault(
                    (check.asset_id, check.template_key),
                    AssetCount(check.asset_id, check.asset, check.template_key, check.title),
                )
                mine.due += check.state != "filed"
                mine.done += check.state == "done"
                mine.filed += check.state == "filed"
                mine.missed += check.state == "missed"
                mine.failed += check.state in ("done", "filed") and check.result == "fail"
        problems.extend(day.problems)
    figures.problems = len(problems)
    figures.fixed = sum(p.status == "fixed" for p in problems)
    figures.fixed_late = sum(p.status == "fixed_late" for p in problems)
    still_open = _still_open(session, school, family, first, last, problems)
    figures.still_open = len(still_open)
    return PeriodReport(
        kind=kind,
        school=school.name,
        starts_on=first.isoformat(),
        ends_on=last.isoformat(),
        figures=figures,
        checked=list(counts.values()),
        days=[d for d in days if d.verdict != Verdict.NO_CHECKS],
        problems=problems,
        still_open=still_open,
        missed_days=[d for d in days if d.verdict == Verdict.MISSING],
        missed=missed,
        assets=sorted(per_asset.values(), key=lambda a: (a.template_key, a.asset, a.asset_id)),
        filed=filed,
        water_tests=_water_tests(session, school, first, last) if family == WATER else [],
    )


def _water_tests(session: Session, school: School, first: date, last: date) -> list[WaterTestLine]:
    """The quarter's water test reports, each as its record reads (none: the quarter has none)."""
    start, end = _bounds(school, first, last)
    records = session.scalars(
        _records_of(WATER)
        .where(
            Record.school_id == school.id,
            FormTemplate.key == WATER_TEST,
            Record.submitted_at >= start,
            Record.submitted_at < end,
        )
        .order_by(Record.submitted_at, Record.id)
    )
    district = school.district
    lines = []
    for record in records:
        answers = record.answers
        valid_until = str(answers.get("valid_until") or "")
        lines.append(
            WaterTestLine(
                record_id=record.id,
                filed_on=district.local(record.submitted_at).date().isoformat(),
                by=record.submitted_by.display_name,
                supplier=str(answers.get("supplier") or ""),
                qs_certified=str(answers.get("qs_certified") or ""),
                report_date=str(answers.get("report_date") or ""),
                test_result=str(answers.get("test_result") or ""),
                valid_until=valid_until,
                lapses_in_period=bool(valid_until) and valid_until < last.isoformat(),
            )
        )
    return lines


def mondays_in(month: date) -> list[date]:
    """The weeks of a month: every week with a day in it, so a week that spans two months is
    listed under both (it is still one report, named by its Monday)."""
    span = periods.period_of(PeriodKind.MONTH, month)
    first, last = span.start, span.end
    monday = first - timedelta(days=first.weekday())
    return [monday + timedelta(days=7 * n) for n in range((last - monday).days // 7 + 1)]


def weeks_of_month(session: Session, school: School, month: date) -> list[date]:
    """The Mondays of the month's weeks this school owes a report for: none that ended before
    its first canteen (as the reminder asks nothing of them)."""
    opened = first_assets(session, [school.id]).get((school.id, FOOD.owed_from))
    mondays = mondays_in(month)
    if opened is None:
        return mondays
    return [m for m in mondays if owed(school, ReportKind.WEEKLY, m, opened)]


def period_of(kind: ReportKind, day: date) -> tuple[date, date]:
    """The week (Monday to Sunday), month or quarter a report covers, as every ledger counts
    them."""
    span = periods.period_of(KINDS[kind].period, day)
    return span.start, span.end


def build_report(
    session: Session, school: School, kind: ReportKind, starts_on: date, *, now: datetime
) -> PeriodReport:
    """A report's draft (the week's, the month's minutes or fire record, the quarter's water
    report), as the records say now."""
    first, last = period_of(kind, starts_on)
    report = _period(session, school, kind, first, last, now)
    if kind == ReportKind.MONTHLY:
        for monday in weeks_of_month(session, school, first):
            row = report_row(session, school, ReportKind.WEEKLY, monday)
            report.weeks.append(
                WeekLine(
                    starts_on=monday.isoformat(),
                    ends_on=(monday + timedelta(days=6)).isoformat(),
                    status=report_status(school, ReportKind.WEEKLY, monday, row, now=now),
                    signed_by=row.signed_by.display_name if row and row.signed_by else None,
                )
            )
    return report


# --- deadlines, editing and signing ---------------------------------------------------------

# Signed by 17:00 on the second day after the week, the fifth after the month, the tenth after
# the quarter.
SIGN_WITHIN = {kind: spec.sign_within for kind, spec in KINDS.items()}
SIGN_BY = time(17, 0)


def deadline(school: School, kind: ReportKind, starts_on: date) -> datetime:
    last = period_of(kind, starts_on)[1]
    return datetime.combine(last + SIGN_WITHIN[kind], SIGN_BY, tzinfo=school.district.zone)


def report_status(
    school: School,
    kind: ReportKind,
    starts_on: date,
    row: FoodSafetyReport | None,
    *,
    now: datetime,
) -> ReportStatus:
    if row is not None and row.signed:
        return ReportStatus.SIGNED
    _, end = _bounds(school, *period_of(kind, starts_on))
    if now < end:
        return ReportStatus.IN_PROGRESS
    late = now >= deadline(school, kind, starts_on)
    return ReportStatus.OVERDUE if late else ReportStatus.TO_SIGN


def report_row(
    session: Session, school: School, kind: ReportKind, starts_on: date
) -> FoodSafetyReport | None:
    return session.scalar(
        select(FoodSafetyReport).where(
            FoodSafetyReport.school_id == school.id,
            FoodSafetyReport.kind == kind,
            FoodSafetyReport.starts_on == period_of(kind, starts_on)[0],
        )
    )


class ReportRefused(DomainError):
    pass


def signers(session: Session, school: School, kind: ReportKind) -> list[Person]:
    """Who writes and signs the report at this school: the weekly report its food-safety
    officers (its administrators while it has none), the monthly minutes its head (the school
    administrators). A district administrator reads, but does not sign for a school."""
    if kind == ReportKind.WEEKLY:
        officers = people_at_school(session, school, (Role.FOOD_SAFETY_OFFICER,))
        if officers:
            return officers
    return people_at_school(session, school, (Role.SCHOOL_ADMIN,))


def can_sign(session: Session, person: Person, school: School, kind: ReportKind) -> bool:
    return any(p.id == person.id for p in signers(session, school, kind))


def period_begun(school: School, kind: ReportKind, starts_on: date, *, now: datetime) -> bool:
    """Whether the report's week or month has started: nothing is written ahead of it."""
    return now >= _bounds(school, *period_of(kind, starts_on))[0]


WHO_SIGNS = {
    ReportKind.WEEKLY: N_(
        "The weekly report is written and signed by the school's food-safety officer: %(people)s."
    ),
    ReportKind.MONTHLY: N_(
        "The monthly minutes are written and signed by the school's head: %(people)s."
    ),
    ReportKind.FIRE: N_(
        "The monthly fire check record is written and signed by the school's head: %(people)s."
    ),
    ReportKind.WATER: N_(
        "The quarterly drinking-water report is written and signed by the school's head:"
        " %(people)s."
    ),
}
WHO_SIGNS_NO_OFFICER = N_(
    "The weekly report is written and signed by the school's food-safety officer; while the"
    " school has none, by its administrator: %(people)s."
)
NOBODY_SIGNS = N_("nobody yet (ask the school office for that role)")


def who_signs(session: Session, school: School, kind: ReportKind) -> Message:
    """The refusal that names who may sign instead."""
    people = signers(session, school, kind)
    names = {
        locale: join_list((p.display_name for p in people), locale)
        or translate(locale, NOBODY_SIGNS)
        for locale in LOCALES
    }
    message = WHO_SIGNS[kind]
    if kind == ReportKind.WEEKLY and not people_at_school(
        session, school, (Role.FOOD_SAFETY_OFFICER,)
    ):
        message = WHO_SIGNS_NO_OFFICER
    return Message(message, {"people": names})


def _writable(
    session: Session,
    actor: Person,
    school: School,
    kind: ReportKind,
    starts_on: date,
    notes: str,
    now: datetime,
) -> FoodSafetyReport:
    if not can_sign(session, actor, school, kind):
        raise ReportRefused(who_signs(session, school, kind))
    if not period_begun(school, kind, starts_on, now=now):
        raise ReportRefused(Message(N_("This period has not begun yet; write in it once it has.")))
    if len(notes) > MAX_NOTES:
        raise ReportRefused(
            Message(N_("Keep it under %(count)d characters."), {"count": MAX_NOTES})
        )
    first, last = period_of(kind, starts_on)
    row = report_row(session, school, kind, first)
    if row is not None and row.signed:
        raise ReportRefused(Message(N_("This report is signed and can no longer change.")))
    if row is None:
        row = FoodSafetyReport(
            school_id=school.id, kind=kind, starts_on=first, ends_on=last, updated_at=now
        )
        session.add(row)
    row.notes = notes.strip()
    row.updated_at = now
    row.updated_by_id = actor.id
    return row


def save_notes(
    session: Session,
    actor: Person,
    school: School,
    kind: ReportKind,
    starts_on: date,
    notes: str,
    *,
    now: datetime,
) -> FoodSafetyReport:
    """Keep the signer's measures or decisions on a report not yet signed."""
    row = _writable(session, actor, school, kind, starts_on, notes, now)
    session.flush()
    return row


def sign_report(
    session: Session,
    actor: Person,
    school: School,
    kind: ReportKind,
    starts_on: date,
    notes: str,
    *,
    now: datetime,
) -> FoodSafetyReport:
    """Sign a report once its period is over: its lines are kept as read now, for good."""
    first, last = period_of(kind, starts_on)
    if now < _bounds(school, first, last)[1]:
        raise ReportRefused(Message(N_("This period is not over yet; sign it when it is.")))
    row = _writable(session, actor, school, kind, starts_on, notes, now)
    row.content = build_report(session, school, kind, first, now=now).snapshot()
    row.signed_at = now
    row.signed_by_id = actor.id
    session.flush()
    return row


@dataclass
class Listed:
    kind: str
    starts_on: date
    ends_on: date
    status: str
    row: FoodSafetyReport | None
    path: str = ""


def periods_of_month(month: date, *, once: bool = False) -> list[tuple[ReportKind, date]]:
    """The reports a month holds: its minutes, its weeks' reports (every week with a day in it),
    its fire record and its quarter's water report. With `once`, as a district's table counts
    them, each report sits in one month only: a week in its Monday's, the water report in its
    quarter's last."""
    first = period_of(ReportKind.MONTHLY, month)[0]
    held = [(ReportKind.MONTHLY, first)]
    held += [
        (ReportKind.WEEKLY, monday)
        for monday in mondays_in(first)
        if not once or monday.month == first.month
    ]
    held.append((ReportKind.FIRE, first))
    quarter = period_of(ReportKind.WATER, first)
    if not once or quarter[1].month == first.month:
        held.append((ReportKind.WATER, quarter[0]))
    return held


def reports_of_month(
    session: Session, school: School, month: date, *, now: datetime
) -> list[Listed]:
    """The month's minutes, its weeks' reports, its fire record and its quarter's water report,
    each with its status: not owed when the school had none of the family's assets by then. A
    week that ended before the school's first canteen is left out (the month's minutes are
    owed, that week never was)."""
    opened = first_assets(session, [school.id])
    listed = []
    for kind, starts_on in periods_of_month(month):
        row = report_row(session, school, kind, starts_on)
        first, last = period_of(kind, starts_on)
        since = opened.get((school.id, KINDS[kind].family.owed_from))
        status = report_status(school, kind, first, row, now=now)
        if status != ReportStatus.SIGNED and (
            since is None or not owed(school, kind, first, since)
        ):
            if kind == ReportKind.WEEKLY and since is not None:
                continue
            status = ReportStatus.NOT_OWED
        listed.append(Listed(kind, first, last, status, row, report_path(school, kind, first)))
    return listed


# --- reminders ------------------------------------------------------------------------------

TO_SIGN = N_("%(school)s: the %(report)s for %(period)s is ready to sign by %(due)s.")
NOT_SIGNED = N_("%(school)s: the %(report)s for %(period)s is overdue and not signed.")


def report_path(school: School, kind: ReportKind, starts_on: date) -> str:
    spec = KINDS[kind]
    return f"/reports/{school.code}/{spec.family.key}/{spec.slug}/{starts_on.isoformat()}"


def first_assets(session: Session, school_ids: Sequence[int]) -> dict[tuple[int, str], datetime]:
    """Each school's first asset of each kind that makes it owe reports (its first canteen,
    logistics office, dispenser): a family's reports start then, none is asked of before."""
    if not school_ids:
        return {}
    rows = session.execute(
        select(Asset.school_id, Asset.kind, func.min(Asset.created_at))
        .where(
            Asset.school_id.in_(school_ids),
            Asset.kind.in_({family.owed_from for family in FAMILIES}),
        )
        .group_by(Asset.school_id, Asset.kind)
    )
    return {(school_id, kind): first for school_id, kind, first in rows}


def owed(school: School, kind: ReportKind, starts_on: date, first_asset: datetime) -> bool:
    """Whether the school owes this report: its period ends on or after the family's first
    asset there."""
    return period_of(kind, starts_on)[1] >= school.district.local(first_asset).date()


def signed_on_time(
    session: Session, schools: Sequence[School], start: datetime, end: datetime
) -> dict[int, tuple[int, int]]:
    """Per school owing any report (with a canteen, logistics office or dispenser): of the
    reports it owes whose signing deadline fell in [start, end), how many were signed by it
    — (on time, due)."""
    ids = [school.id for school in schools]
    if not ids:
        return {}
    opened = first_assets(session, ids)
    first = (start - LOOKBACK).date()
    signed = {
        (row.school_id, row.kind, row.starts_on): row.signed_at
        for row in session.scalars(
            select(FoodSafetyReport).where(
                FoodSafetyReport.school_id.in_(ids),
                FoodSafetyReport.starts_on >= first,
                FoodSafetyReport.signed_at.is_not(None),
            )
        )
    }
    counts: dict[int, tuple[int, int]] = {}
    for school in schools:
        owing = {
            kind: opened[(school.id, spec.family.owed_from)]
            for kind, spec in KINDS.items()
            if (school.id, spec.family.owed_from) in opened
        }
        if not owing:
            continue
        good = due = 0
        for kind, since in owing.items():
            starts_on = period_of(kind, school.district.local(start - LOOKBACK).date())[0]
            while True:
                by = deadline(school, kind, starts_on)
                if by >= end:
                    break
                last = period_of(kind, starts_on)[1]
                if by >= start and owed(school, kind, starts_on, since):
                    due += 1
                    at = signed.get((school.id, kind, starts_on))
                    good += at is not None and at <= by
                starts_on = last + timedelta(days=1)
        counts[school.id] = (good, due)
    return counts


def remind_unsigned(session: Session, *, now: datetime) -> list[Notification]:
    """For each report's period last over (week, month, quarter) at every school that owes it:
    whoever signs it (the food-safety officer the week, the head the others) hears it is ready
    to sign, and once past its deadline unsigned, they and the district hear it is overdue. Each
    notice once (its dedup key); a school that signed hears nothing."""
    queued: list[Notification] = []
    owing = (
        select(Asset.school_id)
        .where(Asset.kind.in_({family.owed_from for family in FAMILIES}))
        .distinct()
    )
    schools = list(session.scalars(select(School).where(School.id.in_(owing)).order_by(School.id)))
    opened = first_assets(session, [school.id for school in schools])
    # Read once, not per school: the reports signed and the notices queued lately.
    since = (now - LOOKBACK).date()
    signed = {
        (row.school_id, row.kind, row.starts_on)
        for row in session.scalars(
            select(FoodSafetyReport).where(
                FoodSafetyReport.starts_on >= since, FoodSafetyReport.signed_at.is_not(None)
            )
        )
    }
    sent = set(
        session.scalars(
            select(Notification.dedup_key).where(
                or_(*(Notification.dedup_key.like(f"{f.key}:%") for f in FAMILIES)),
                Notification.created_at >= now - LOOKBACK,
            )
        )
    )
    for school in schools:
        today = school.district.local(now).date()
        for kind, spec in KINDS.items():
            first = opened.get((school.id, spec.family.owed_from))
            starts_on = period_of(kind, period_of(kind, today)[0] - timedelta(days=1))[0]
            if first is None or not owed(school, kind, starts_on, first):
                continue
            if (school.id, kind, starts_on) in signed:
                continue
            status = report_status(school, kind, starts_on, None, now=now)
            key = f"{spec.family.key}:{school.id}:{kind}:{starts_on.isoformat()}"
            key += ":sign" if status == ReportStatus.TO_SIGN else ":overdue"
            if status not in (ReportStatus.TO_SIGN, ReportStatus.OVERDUE) or key in sent:
                continue
            last = period_of(kind, starts_on)[1]
            params: dict[str, Any] = {
                "school": school.name,
                "report": {"msgid": KIND_TITLES[kind]},
                "period": {locale: date_range(starts_on, last, locale) for locale in LOCALES},
                "due": deadline(school, kind, starts_on).isoformat(),
            }
            # Whoever signs it: the officer the week, the head the month (the district's
            # administrators for a school with nobody to sign).
            sign = signers(session, school, kind) or school_admins(
                session, school.id, school.district_id
            )
            if status == ReportStatus.TO_SIGN:
                message, severity, people = TO_SIGN, Severity.INFO, sign
            else:
                people = sign + [
                    p
                    for p in district_admins(session, school.district_id)
                    if p.id not in {a.id for a in sign}
                ]
                message, severity = NOT_SIGNED, Severity.MAJOR
            queued += notify(
                session,
                people,
                message=message,
                params=params,
                severity=severity,
                dedup_key=key,
                now=now,
                link=report_path(school, kind, starts_on),
            )
    return queued
