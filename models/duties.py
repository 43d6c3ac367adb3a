"""Duties and their tasks: a checklist applied to assets on a schedule, one task per occurrence.

A duty applies a template to assets: every asset of a kind in the district (the built-in
schedules), in one school, or one asset. The narrowest duty for a template wins: an asset's
own duty over its school's, a school's over the district's. Each (duty, asset) pair has one
current task, the occurrence whose window is open; the sweep (models/sweep.py) rolls it on.
A record filed for that asset and template inside the window marks the task done.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    and_,
    bindparam,
    delete,
    exists,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column, relationship, selectinload

from models.assets import Asset
from models.audit import audit, differences, fields_of
from models.base import Base
from models.catalogue import LOCALES, translate
from models.checklists import (
    MINIMUM_FREQUENCIES,
    MINIMUM_FREQUENCY_LABELS,
    TemplateSpec,
    latest_template,
)
from models.db import read_rows
from models.messages import N_, DomainError, Message, SubmissionInvalid
from models.org import District, School
from models.people import Person, can_see_school, visible_school_ids
from models.recurrence import Calendar, Frequency, Rule, Window, longest_gap


class CalendarKind(enum.StrEnum):
    TERM = "term"
    HOLIDAY = "holiday"
    WORKDAY = "workday"


CALENDAR_KIND_LABELS = {
    CalendarKind.TERM: N_("Term"),
    CalendarKind.HOLIDAY: N_("Holiday"),
    CalendarKind.WORKDAY: N_("Make-up school day"),
}


class CalendarEntry(Base):
    """A district's term, holiday or make-up school day (调休), from one date to another."""

    __tablename__ = "calendar_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    name: Mapped[str] = mapped_column(String(100), default="")


@dataclass(frozen=True)
class SchoolDays:
    """Monday to Friday inside a term (any weekday when no term is set), not on a holiday;
    a make-up day is a school day whatever its weekday."""

    terms: tuple[tuple[date, date], ...] = ()
    holidays: tuple[tuple[date, date], ...] = ()
    workdays: tuple[tuple[date, date], ...] = ()

    def __call__(self, day: date) -> bool:
        def within(spans: tuple[tuple[date, date], ...]) -> bool:
            return any(start <= day <= end for start, end in spans)

        if within(self.workdays):
            return True
        if day.weekday() >= 5 or within(self.holidays):
            return False
        return not self.terms or within(self.terms)


def school_days(session: Session, district_id: int) -> SchoolDays:
    entries = session.scalars(
        select(CalendarEntry).where(CalendarEntry.district_id == district_id)
    ).all()

    def spans(kind: CalendarKind) -> tuple[tuple[date, date], ...]:
        return tuple((e.starts_on, e.ends_on) for e in entries if e.kind == kind)

    return SchoolDays(
        terms=spans(CalendarKind.TERM),
        holidays=spans(CalendarKind.HOLIDAY),
        workdays=spans(CalendarKind.WORKDAY),
    )


def district_calendar(session: Session, district: District) -> Calendar:
    return Calendar(district.zone, school_days(session, district.id))


class Duty(Base):
    __tablename__ = "duty"
    __table_args__ = (
        # A district gets each built-in schedule once, even from two sweeps at the same moment.
        Index(
            "ix_duty_builtin",
            "district_id",
            "template_key",
            unique=True,
            sqlite_where=text("builtin = 1 AND school_id IS NULL"),
            postgresql_where=text("builtin AND school_id IS NULL"),
        ),
        # And a boarding school its own built-in meal schedules (BOARDING_MEALS) once.
        Index(
            "ix_duty_builtin_school",
            "school_id",
            "template_key",
            unique=True,
            sqlite_where=text("builtin = 1 AND school_id IS NOT NULL"),
            postgresql_where=text("builtin AND school_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), index=True)
    # Both empty: every school of the district. A school, or one asset of it.
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"), index=True)
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("asset.id"))
    asset_kind: Mapped[str] = mapped_column(String(32))
    template_key: Mapped[str] = mapped_column(String(64))
    rule: Mapped[dict[str, Any]]
    # Minutes: remind the responsible person this long before due; alert the school's
    # administrators, then the district's, when it is this long overdue.
    remind_before: Mapped[int] = mapped_column(default=60)
    escalate_school_after: Mapped[int] = mapped_column(default=24 * 60)
    escalate_district_after: Mapped[int] = mapped_column(default=3 * 24 * 60)
    active: Mapped[bool] = mapped_column(default=True)
    builtin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    # Set when the schedule has the checklist done less often than its rule's minimum and an
    # administrator saved it knowingly: who, and when. Both None for a schedule that keeps it.
    below_minimum_confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    below_minimum_confirmed_at: Mapped[datetime | None]

    district: Mapped[District] = relationship()
    school: Mapped[School | None] = relationship()
    asset: Mapped[Asset | None] = relationship()
    below_minimum_confirmed_by: Mapped[Person | None] = relationship()

    @property
    def recurrence(self) -> Rule:
        return Rule.from_json(self.rule)

    @property
    def scope(self) -> str:
        return "asset" if self.asset_id else "school" if self.school_id else "district"


class TaskState(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    MISSED = "missed"
    # Closed because its asset was retired (models/retirement.py): neither done nor missed.
    RETIRED = "retired"


class TaskStatus(enum.StrEnum):
    """What a person sees: the state, and for an open task where `now` is in its window."""

    UPCOMING = "upcoming"
    DUE = "due"
    OVERDUE = "overdue"
    DONE = "done"
    MISSED = "missed"
    RETIRED = "retired"


STATUS_LABELS = {
    TaskStatus.UPCOMING: N_("Upcoming"),
    TaskStatus.DUE: N_("Due now"),
    TaskStatus.OVERDUE: N_("Overdue"),
    TaskStatus.DONE: N_("Done"),
    TaskStatus.MISSED: N_("Missed"),
    TaskStatus.RETIRED: N_("Asset retired"),
}


class Task(Base):
    __tablename__ = "task"
    __table_args__ = (
        # Due time first: a roll's new tasks share their due time, so they land side by side in
        # this index instead of one in every (duty, asset) run of the whole history.
        UniqueConstraint("due_at", "duty_id", "asset_id"),
        # One current task per pair, whoever creates it: two sweeps cannot both roll it on.
        # Partial indexes over the current tasks only, so nothing a sweep reads grows with the
        # years of history. SQLite matches a predicate only as the query spells it: current = 1.
        Index(
            "ix_task_current_pair",
            "duty_id",
            "asset_id",
            unique=True,
            sqlite_where=text("current = 1"),
            postgresql_where=text("current"),
        ),
        Index(
            "ix_task_current_school_due",
            "school_id",
            "due_at",
            sqlite_where=text("current = 1"),
            postgresql_where=text("current"),
        ),
        # Past tasks have no next action: only the ones the sweep will look at again are in it.
        Index(
            "ix_task_next_action_at",
            "next_action_at",
            sqlite_where=text("next_action_at IS NOT NULL"),
            postgresql_where=text("next_action_at IS NOT NULL"),
        ),
        # With the state and done time, a school's tasks over a period are counted from the
        # index alone (the score and the dashboard), not read row by row from the table.
        Index("ix_task_school_due_state", "school_id", "due_at", "state", "done_at"),
        # The dashboard's counts of done and missed tasks: a range of this index per school and
        # state, read in its order, so a year of a district reads no task's row and sorts nothing.
        Index("ix_task_school_id_state_due_at", "school_id", "state", "due_at"),
        # And of those done late (done_late): only they are in it, so they cost what they number.
        Index(
            "ix_task_late_school_id_state_due_at",
            "school_id",
            "state",
            "due_at",
            "done_at",
            sqlite_where=text("done_at > due_at"),
            postgresql_where=text("done_at > due_at"),
        ),
        # The task a record did (a report reads its records' tasks): done ones only, newest
        # record last, so it grows at its end.
        Index(
            "ix_task_record_id",
            "record_id",
            sqlite_where=text("record_id IS NOT NULL"),
            postgresql_where=text("record_id IS NOT NULL"),
        ),
        # An asset's tasks are looked up among the current ones only (its page, a record filed).
        Index(
            "ix_task_current_asset_id_template_key",
            "asset_id",
            "template_key",
            sqlite_where=text("current = 1"),
            postgresql_where=text("current"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    duty_id: Mapped[int] = mapped_column(ForeignKey("duty.id"))
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    template_key: Mapped[str] = mapped_column(String(64))
    opens_at: Mapped[datetime]
    due_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(8), default=TaskState.OPEN)
    current: Mapped[bool] = mapped_column(default=True)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("record.id"))
    done_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    due_notice_at: Mapped[datetime | None]
    escalated_school_at: Mapped[datetime | None]
    escalated_district_at: Mapped[datetime | None]
    # When the sweep first saw it, if it was already past the district's escalation then: the
    # district hears of it once that long after, in one summary, not never.
    seen_overdue_at: Mapped[datetime | None]
    # When the sweep must next look at it; None once it is no longer current.
    next_action_at: Mapped[datetime | None]

    duty: Mapped[Duty] = relationship()
    asset: Mapped[Asset] = relationship()
    school: Mapped[School] = relationship()

    def status(self, now: datetime) -> TaskStatus:
        return task_status(self.state, self.opens_at, self.due_at, self.closes_at, now=now)


def task_status(
    state: str, opens_at: datetime, due_at: datetime, closes_at: datetime, *, now: datetime
) -> TaskStatus:
    """A task's status from its state and window (`Task.status`, for a task read as columns)."""
    if state == TaskState.DONE:
        return TaskStatus.DONE
    if state == TaskState.RETIRED:
        return TaskStatus.RETIRED
    if state == TaskState.MISSED or now >= closes_at:
        return TaskStatus.MISSED
    if now < opens_at:
        return TaskStatus.UPCOMING
    return TaskStatus.DUE if now < due_at else TaskStatus.OVERDUE


# --- built-in schedules ---------------------------------------------------------------------


@dataclass(frozen=True)
class BuiltinDuty:
    template_key: str
    rule: Rule


def done_late() -> ColumnElement[bool]:
    """A done task whose record came after its due time: late, not on time (the dashboard's
    and the score's one test)."""
    return Task.done_at > Task.due_at


# When breakfast, lunch and dinner are over: an accompanied meal is due then (陪餐 at every
# meal). A school that serves lunch only keeps 12:30 in its own schedule.
MEAL_TIMES = (time(8, 0), time(12, 30), time(18, 30))


# 留样 is kept as each meal is served: due half an hour after the meal (lunch's at 13:00).
SAMPLE_TIMES = (time(8, 30), time(13, 0), time(19, 0))
# A boarding school's students eat breakfast, lunch and dinner there, and 陪餐 and 留样 are
# owed at every meal (学校食品安全与营养健康管理规定: 每餐): the school gets its own built-in
# schedule for each, at three meals, over the district's lunch-only one (a school's schedule
# wins over the district's). A missed meal is a missed task like any other.
BOARDING_MEALS = {
    "canteen_accompanied_meal": Rule(
        Frequency.DAILY, time(12, 30), meal_times=MEAL_TIMES, school_days_only=True
    ),
    "canteen_food_sample_retention": Rule(
        Frequency.DAILY, time(13, 0), meal_times=SAMPLE_TIMES, school_days_only=True
    ),
}


def builtin_duties(dispenser_every_days: int = 7) -> list[BuiltinDuty]:
    """What the source document asks to be done regularly, as every district starts with it."""
    school_day: dict[str, Any] = {"school_days_only": True}
    return [
        BuiltinDuty("extinguisher_monthly", Rule(Frequency.MONTHLY, time(17, 0), day=25)),
        BuiltinDuty(
            "extinguisher_annual_maintenance",
            Rule(Frequency.YEARLY, time(17, 0), month=11, day=9),
        ),
        BuiltinDuty(
            "water_dispenser_disinfection",
            Rule(Frequency.EVERY_N_DAYS, time(17, 0), every_days=dispenser_every_days),
        ),
        BuiltinDuty(
            "water_quarterly_report", Rule(Frequency.QUARTERLY, time(17, 0), month=1, day=15)
        ),
        BuiltinDuty("dorm_room_disinfection", Rule(Frequency.WEEKLY, time(17, 0), weekdays=(4,))),
        BuiltinDuty(
            "canteen_morning_health_check", Rule(Frequency.DAILY, time(7, 30), **school_day)
        ),
        BuiltinDuty(
            "canteen_food_sample_retention", Rule(Frequency.DAILY, time(13, 0), **school_day)
        ),
        BuiltinDuty(
            "canteen_accompanied_meal",
            # Lunch, which every school with a canteen serves; a school that also serves
            # breakfast and dinner (a boarding school) sets MEAL_TIMES on its schedule page.
            Rule(Frequency.DAILY, time(12, 30), meal_times=(time(12, 30),), **school_day),
        ),
        BuiltinDuty(
            "canteen_tableware_disinfection", Rule(Frequency.DAILY, time(14, 0), **school_day)
        ),
        BuiltinDuty("canteen_pest_control", Rule(Frequency.MONTHLY, time(17, 0), day=28)),
        BuiltinDuty("bus_pre_trip_check", Rule(Frequency.DAILY, time(7, 0), **school_day)),
        BuiltinDuty("fire_patrol", Rule(Frequency.DAILY, time(17, 0), **school_day)),
        # After dark, at boarding schools only (BOARDING_ONLY): it opens at 19:00, so a
        # patrol in the afternoon is the day's, not the night's.
        BuiltinDuty(
            "fire_night_patrol",
            Rule(Frequency.DAILY, time(22, 0), opens=time(19, 0), **school_day),
        ),
        BuiltinDuty("fire_monthly_check", Rule(Frequency.MONTHLY, time(17, 0), day=10)),
        # By the 25th of the quarter's last month.
        BuiltinDuty(
            "fire_quarterly_check", Rule(Frequency.QUARTERLY, time(17, 0), month=3, day=25)
        ),
        BuiltinDuty("meter_reading", Rule(Frequency.MONTHLY, time(17, 0), day=1)),
        BuiltinDuty("broadcast_equipment_check", Rule(Frequency.MONTHLY, time(17, 0), day=5)),
        BuiltinDuty("canteen_model_review", Rule(Frequency.YEARLY, time(17, 0), month=12, day=20)),
        BuiltinDuty("emergency_plan", Rule(Frequency.YEARLY, time(17, 0), month=9, day=30)),
        BuiltinDuty("surroundings_patrol", Rule(Frequency.WEEKLY, time(17, 0), weekdays=(4,))),
        # The 护学岗 at the gate: at arrival and at dismissal, every school day.
        BuiltinDuty("traffic_post_arrival", Rule(Frequency.DAILY, time(8, 30), **school_day)),
        BuiltinDuty("traffic_post_dismissal", Rule(Frequency.DAILY, time(17, 30), **school_day)),
        # Graduation photos by the district's timetable: 10 June unless the district moves it.
        BuiltinDuty("student_photo", Rule(Frequency.YEARLY, time(17, 0), month=6, day=10)),
    ]


def ensure_builtin_duties(
    session: Session,
    district: District,
    *,
    now: datetime,
    policy: DutyDefaults | None = None,
) -> list[Duty]:
    """Give a district the built-in schedules it has never had; one it switched off stays off."""
    policy = policy or DutyDefaults()
    have = set(
        session.scalars(
            select(Duty.template_key).where(
                Duty.district_id == district.id, Duty.builtin, Duty.school_id.is_(None)
            )
        )
    )
    added = []
    for builtin in builtin_duties(policy.dispenser_every_days):
        if builtin.template_key in have:
            continue
        template = latest_template(session, builtin.template_key, district_id=district.id)
        if template is None:
            continue
        duty = Duty(
            district_id=district.id,
            asset_kind=template.kind,
            template_key=builtin.template_key,
            rule=builtin.rule.to_json(),
            remind_before=policy.remind_before,
            escalate_school_after=policy.escalate_school_after,
            escalate_district_after=policy.escalate_district_after,
            builtin=True,
            created_at=now,
        )
        try:
            with session.begin_nested():
                session.add(duty)
        except IntegrityError:
            continue  # another sweep added it a moment ago
        added.append(duty)
    boarding = session.scalars(
        select(School).where(School.district_id == district.id, School.boarding)
    ).all()
    for school in boarding:
        added += ensure_boarding_meals(session, school, now=now, policy=policy)
    return added


def ensure_boarding_meals(
    session: Session, school: School, *, now: datetime, policy: DutyDefaults | None = None
) -> list[Duty]:
    """Give a boarding school its built-in meal schedules (BOARDING_MEALS) it has never had; one
    it switched off stays off, and a schedule of its own for the checklist is kept instead."""
    policy = policy or DutyDefaults()
    have = set(
        session.scalars(
            select(Duty.template_key).where(
                Duty.school_id == school.id,
                Duty.asset_id.is_(None),
                Duty.template_key.in_(BOARDING_MEALS),
            )
        )
    )
    added = []
    for key, rule in BOARDING_MEALS.items():
        template = latest_template(session, key, district_id=school.district_id)
        if key in have or template is None:
            continue
        duty = Duty(
            district_id=school.district_id,
            school_id=school.id,
            asset_kind=template.kind,
            template_key=key,
            rule=rule.to_json(),
            remind_before=policy.remind_before,
            escalate_school_after=policy.escalate_school_after,
            escalate_district_after=policy.escalate_district_after,
            builtin=True,
            created_at=now,
        )
        try:
            with session.begin_nested():
                session.add(duty)
        except IntegrityError:
            continue  # another sweep added it a moment ago
        _hand_over(session, duty)
        added.append(duty)
    return added


@dataclass(frozen=True)
class DutyDefaults:
    """Minutes, from the configuration: what a new duty starts with."""

    remind_before: int = 60
    escalate_school_after: int = 24 * 60
    escalate_district_after: int = 3 * 24 * 60
    dispenser_every_days: int = 7


# --- which assets a duty covers -------------------------------------------------------------

# Checklists only a boarding school owes (公安部令第61号 §25: 寄宿制的学校应当加强夜间防火巡查):
# the district's schedule for them covers its boarding schools; a schedule a school sets for
# itself covers that school, boarding or not.
BOARDING_ONLY = frozenset({"fire_night_patrol"})


@cache
def _other_duty() -> Any:
    """One alias for every query, made once the mappers are configured: a fresh aliased()
    per call had the sweep rebuild its column adaptations for each duty, most of its time."""
    return aliased(Duty, name="other_duty")


@dataclass(frozen=True)
class DutyScope:
    """What of a duty decides the assets it covers: the key its statements are kept under."""

    id: int
    district_id: int
    template_key: str
    asset_kind: str
    school_id: int | None
    asset_id: int | None

    @classmethod
    def of(cls, duty: Duty) -> DutyScope:
        return cls(
            duty.id,
            duty.district_id,
            duty.template_key,
            duty.asset_kind,
            duty.school_id,
            duty.asset_id,
        )


def covered_assets(duty: Duty | DutyScope) -> Any:
    """The assets in use (id, school id) this duty covers, as a query: its kind in its scope,
    less those a narrower active duty for the same checklist covers."""
    query = select(Asset.id, Asset.school_id).where(Asset.retired_at.is_(None))
    if duty.template_key in BOARDING_ONLY and duty.school_id is None and duty.asset_id is None:
        query = query.where(Asset.school_id.in_(select(School.id).where(School.boarding)))
    if duty.asset_id is not None:
        return query.where(Asset.id == duty.asset_id)
    other = _other_duty()
    narrower = and_(
        other.active,
        other.id != duty.id,
        other.district_id == duty.district_id,
        other.template_key == duty.template_key,
    )
    own_asset_duty = exists().where(narrower, other.asset_id == Asset.id)
    query = query.where(Asset.kind == duty.asset_kind, ~own_asset_duty)
    if duty.school_id is not None:
        return query.where(Asset.school_id == duty.school_id)
    school_duty = exists().where(
        narrower, other.asset_id.is_(None), other.school_id == Asset.school_id
    )
    schools = select(School.id).where(School.district_id == duty.district_id)
    return query.where(Asset.school_id.in_(schools), ~school_duty)


# --- tasks ------------------------------------------------------------------------------------


def first_window(
    calendar: Calendar, rule: Rule, now: datetime, last_done: datetime | None
) -> Window | None:
    """The window a new (duty, asset) pair starts with."""
    if rule.frequency == Frequency.EVERY_N_DAYS:
        if last_done is not None:
            window = calendar.window_since(rule, last_done)
            if window.closes_at > now:
                return window
        return calendar.window_since(rule, now)
    return calendar.window_at(rule, now)


def complete_tasks(
    session: Session,
    *,
    asset_id: int,
    template_key: str,
    record_id: int,
    submitted_at: datetime,
) -> list[Task]:
    """A record filed for an asset marks done the open task its time falls in, if any."""
    tasks = session.scalars(
        select(Task)
        .where(
            Task.asset_id == asset_id,
            Task.template_key == template_key,
            Task.current,
            Task.state == TaskState.OPEN,
            Task.opens_at <= submitted_at,
            Task.closes_at > submitted_at,
        )
        .with_for_update()
    ).all()
    for task in tasks:
        mark_done(task, record_id, submitted_at)
    return list(tasks)


def mark_done(task: Task, record_id: int, at: datetime) -> None:
    task.state = TaskState.DONE
    task.record_id = record_id
    task.done_at = at
    if task.duty.recurrence.frequency == Frequency.EVERY_N_DAYS:
        # Every N days counts again from now: its window ends here and the next one starts.
        task.closes_at = at
    task.next_action_at = task.closes_at


# --- editing duties ---------------------------------------------------------------------------


class DutyRefused(DomainError):
    pass


def can_edit_duty(person: Person, duty: Duty) -> bool:
    if duty.school_id is None:
        return person.is_district_admin_of(duty.district_id)
    return person.can_manage_school(duty.school) if duty.school is not None else False


@dataclass(frozen=True)
class DutyFields:
    rule: Rule
    remind_before: int
    escalate_school_after: int
    escalate_district_after: int
    active: bool = True


def _check_fields(fields: DutyFields) -> None:
    errors = duty_field_problems(fields)
    if errors:
        raise SubmissionInvalid(errors)


def duty_field_problems(fields: DutyFields) -> dict[str, Message]:
    """Each field of a schedule that cannot work, with why."""
    errors = {name: Message(msgid) for name, msgid in fields.rule.problems().items()}
    if not 0 <= fields.remind_before <= 30 * 24 * 60:
        errors["remind_before"] = Message(N_("From 0 to 30 days, please."))
    if not 0 <= fields.escalate_school_after <= 60 * 24 * 60:
        errors["escalate_school_after"] = Message(N_("From 0 to 60 days, please."))
    if not fields.escalate_school_after <= fields.escalate_district_after <= 90 * 24 * 60:
        errors["escalate_district_after"] = Message(
            N_("No sooner than the school's administrators, and at most 90 days.")
        )
    return errors


class BelowMinimum(DomainError):
    """The schedule has the checklist done less often than its rule asks; saved only when the
    person confirms they know (`confirm_below_minimum`)."""


def below_minimum(rule: Rule, spec: TemplateSpec) -> bool:
    """Does this recurrence leave a longer gap than the checklist's statutory minimum allows?
    Every meal and each event count as at least every school day."""
    if spec.minimum_frequency is None:
        return False
    allowed = MINIMUM_FREQUENCIES[spec.minimum_frequency] or 1
    return longest_gap(rule) > allowed


def minimum_text(spec: TemplateSpec) -> dict[str, str]:
    """The checklist's statutory minimum in words, in each language ({} when it has none)."""
    if spec.minimum_frequency is None:
        return {}
    label = MINIMUM_FREQUENCY_LABELS[spec.minimum_frequency]
    return {locale: translate(locale, label) for locale in LOCALES}


def _check_minimum(
    session: Session,
    actor: Person,
    template_key: str,
    fields: DutyFields,
    *,
    district_id: int,
    confirmed: bool,
    now: datetime,
) -> tuple[int | None, datetime | None]:
    """Refuse a schedule below the statutory minimum unless confirmed, before anything
    changes; the (who, when) the schedule then keeps, (None, None) when it meets the rule."""
    template = latest_template(session, template_key, district_id=district_id)
    if template is None or not fields.active or not below_minimum(fields.rule, template.spec):
        return None, None
    if not confirmed:
        basis = dict(template.spec.basis) or dict(template.spec.title)
        raise BelowMinimum(
            Message(
                N_(
                    "%(basis)s asks for this at least %(minimum)s; this schedule has it done "
                    "less often. Tick the box to save it anyway."
                ),
                {"basis": basis, "minimum": minimum_text(template.spec)},
            )
        )
    return actor.id, now


def schedules_below_minimum(
    session: Session, viewer: Person, *, school: School | None = None
) -> list[Duty]:
    """The active schedules saved below their checklist's minimum that apply at the viewer's
    schools (or at one school): the district's and the schools' own."""
    ids = visible_school_ids(viewer)
    district_ids = select(School.district_id).where(School.id.in_(ids))
    query = select(Duty).where(Duty.active, Duty.below_minimum_confirmed_at.is_not(None))
    if school is not None:
        if not can_see_school(session, viewer, school.id):
            return []
        query = query.where(
            Duty.district_id == school.district_id,
            or_(Duty.school_id.is_(None), Duty.school_id == school.id),
        )
    else:
        query = query.where(
            Duty.district_id.in_(district_ids),
            or_(Duty.school_id.is_(None), Duty.school_id.in_(ids)),
        )
    query = query.options(
        selectinload(Duty.school), selectinload(Duty.asset), selectinload(Duty.district)
    )
    return list(session.scalars(query.order_by(Duty.template_key, Duty.id)))


def _retire_tasks(session: Session, duty_ids: list[int], asset_ids: Any = None) -> None:
    """Open current tasks of these duties are forgotten, done ones stop being current, so the
    next sweep starts afresh under the changed schedules; past tasks stay as history."""
    if not duty_ids:
        return
    session.flush()
    scope = [Task.duty_id.in_(duty_ids), Task.current]
    if asset_ids is not None:
        scope.append(Task.asset_id.in_(asset_ids))
    session.execute(delete(Task).where(*scope, Task.state == TaskState.OPEN))
    session.execute(update(Task).where(*scope).values(current=False, next_action_at=None))
    session.expire_all()


def set_boarding(
    session: Session, actor: Person, school: School, boarding: bool, *, now: datetime
) -> None:
    """Mark a school as boarding or not: the next sweep starts the district's night patrol
    there, and 陪餐 and 留样 at breakfast, lunch and dinner (BOARDING_MEALS); or their open
    tasks are forgotten now and the district's lunch-only ones take over again (the records
    filed stay, and so does a night patrol or meal schedule the school set for itself)."""
    if not actor.can_manage_school(school):
        raise DutyRefused(Message(N_("Only the school's administrators may change this.")))
    if school.boarding == boarding:
        return
    school.boarding = boarding
    audit(
        session,
        actor,
        "schedule.changed",
        school,
        {"boarding": not boarding},
        {"boarding": boarding},
        now=now,
    )
    meals = session.scalars(
        select(Duty).where(
            Duty.school_id == school.id,
            Duty.builtin,
            Duty.template_key.in_(BOARDING_MEALS),
        )
    ).all()
    if boarding:
        # Its three meals start again with the next sweep (or start, the first time).
        for duty in meals:
            duty.active = True
            _hand_over(session, duty)
        ensure_boarding_meals(session, school, now=now)
        return
    for duty in meals:
        duty.active = False
    duties = list(
        session.scalars(
            select(Duty.id).where(
                Duty.district_id == school.district_id,
                Duty.template_key.in_(BOARDING_ONLY),
                Duty.school_id.is_(None),
                Duty.asset_id.is_(None),
            )
        )
    )
    duties += [duty.id for duty in meals]
    _retire_tasks(session, duties, select(Asset.id).where(Asset.school_id == school.id))


def _hand_over(session: Session, duty: Duty) -> None:
    """A narrower duty takes its assets from the wider duties for the same checklist."""
    session.flush()
    wider = list(
        session.scalars(
            select(Duty.id).where(
                Duty.district_id == duty.district_id,
                Duty.template_key == duty.template_key,
                Duty.id != duty.id,
            )
        )
    )
    assets = select(covered_assets(duty).subquery().c.id)
    _retire_tasks(session, wider, assets)


def _replan(session: Session, duties: list[Duty], *, now: datetime) -> None:
    """Open tasks whose window the changed schedule or calendar moves start again at the next
    sweep; those whose window stays keep what was already sent, and are looked at again."""
    calendars: dict[int, Calendar] = {}
    for duty in duties:
        if duty.district_id not in calendars:
            calendars[duty.district_id] = district_calendar(session, duty.district)
        calendar, rule = calendars[duty.district_id], duty.recurrence
        tasks = session.scalars(
            select(Task).where(Task.duty_id == duty.id, Task.current, Task.state == TaskState.OPEN)
        ).all()
        for task in tasks:
            every_n = rule.frequency == Frequency.EVERY_N_DAYS
            window = first_window(calendar, rule, now, task.opens_at if every_n else None)
            same = window is not None and (window.opens_at, window.due_at, window.closes_at) == (
                task.opens_at,
                task.due_at,
                task.closes_at,
            )
            if same and duty.active:
                task.next_action_at = now
            else:
                session.delete(task)
    session.flush()


# What a schedule's entry in the audit log compares.
DUTY_FIELDS = (
    "rule",
    "remind_before",
    "escalate_school_after",
    "escalate_district_after",
    "active",
)


def update_duty(
    session: Session,
    actor: Person,
    duty: Duty,
    fields: DutyFields,
    *,
    now: datetime,
    confirm_below_minimum: bool = False,
) -> Duty:
    """Change a duty's schedule; its open task starts again under the new one. Below the
    checklist's statutory minimum it is refused (BelowMinimum) unless confirmed."""
    if not can_edit_duty(actor, duty):
        raise DutyRefused(Message(N_("You cannot change this schedule.")))
    _check_fields(fields)
    confirmation = _check_minimum(
        session,
        actor,
        duty.template_key,
        fields,
        district_id=duty.district_id,
        confirmed=confirm_below_minimum,
        now=now,
    )
    was = fields_of(duty, DUTY_FIELDS)
    duty.rule = fields.rule.to_json()
    duty.remind_before = fields.remind_before
    duty.escalate_school_after = fields.escalate_school_after
    duty.escalate_district_after = fields.escalate_district_after
    duty.active = fields.active
    duty.below_minimum_confirmed_by_id, duty.below_minimum_confirmed_at = confirmation
    session.flush()
    before, after = differences(was, fields_of(duty, DUTY_FIELDS))
    audit(session, actor, "schedule.changed", duty, before, after, now=now, label=duty.template_key)
    _replan(session, [duty], now=now)
    if not duty.active:
        _retire_tasks(session, [duty.id])
    elif duty.school_id is not None or duty.asset_id is not None:
        _hand_over(session, duty)
    return duty


def add_duty(
    session: Session,
    actor: Person,
    *,
    template_key: str,
    fields: DutyFields,
    now: datetime,
    school: School | None = None,
    asset: Asset | None = None,
    district: District | None = None,
    confirm_below_minimum: bool = False,
) -> Duty:
    """A schedule for the district, a school or one asset; a narrower one replaces the wider
    for its assets. Below the checklist's statutory minimum only when confirmed."""
    if asset is not None:
        school = asset.school
    district_id = school.district_id if school is not None else district.id if district else None
    if district_id is None:
        raise DutyRefused(Message(N_("Choose a school.")))
    template = latest_template(session, template_key, district_id=district_id)
    if template is None:
        raise SubmissionInvalid({"template_key": Message(N_("Choose a checklist."))})
    if asset is not None and asset.kind != template.kind:
        raise SubmissionInvalid(
            {"template_key": Message(N_("This checklist does not apply to this asset."))}
        )
    allowed = (
        actor.can_manage_school(school)
        if school is not None
        else actor.is_district_admin_of(district_id)
    )
    if not allowed:
        raise DutyRefused(Message(N_("You cannot change this schedule.")))
    _check_fields(fields)
    same_scope = select(Duty.id).where(
        Duty.district_id == district_id,
        Duty.template_key == template_key,
        Duty.active,
        Duty.school_id == school.id if school is not None else Duty.school_id.is_(None),
        Duty.asset_id == asset.id if asset is not None else Duty.asset_id.is_(None),
    )
    if session.scalar(same_scope) is not None:
        raise DutyRefused(
            Message(N_("There is already a schedule for this checklist here: change that one."))
        )
    confirmed_by, confirmed_at = _check_minimum(
        session,
        actor,
        template_key,
        fields,
        district_id=district_id,
        confirmed=confirm_below_minimum,
        now=now,
    )
    duty = Duty(
        district_id=district_id,
        school_id=school.id if school is not None else None,
        asset_id=asset.id if asset is not None else None,
        asset_kind=template.kind,
        template_key=template_key,
        rule=fields.rule.to_json(),
        remind_before=fields.remind_before,
        escalate_school_after=fields.escalate_school_after,
        escalate_district_after=fields.escalate_district_after,
        active=fields.active,
        created_at=now,
        below_minimum_confirmed_by_id=confirmed_by,
        below_minimum_confirmed_at=confirmed_at,
    )
    session.add(duty)
    _hand_over(session, duty)
    audit(
        session,
        actor,
        "schedule.changed",
        duty,
        {},
        fields_of(duty, DUTY_FIELDS),
        now=now,
        label=duty.template_key,
    )
    return duty


def visible_duties(session: Session, viewer: Person, school: School) -> list[Duty]:
    """The schedules that apply at a school: the district's and the school's own."""
    if not can_see_school(session, viewer, school.id):
        return []
    return list(
        session.scalars(
            select(Duty)
            .where(
                Duty.district_id == school.district_id,
                or_(Duty.school_id.is_(None), Duty.school_id == school.id),
            )
            .order_by(Duty.asset_kind, Duty.template_key, Duty.school_id.nulls_first(), Duty.id)
        )
    )


def visible_duty(session: Session, viewer: Person, duty_id: int) -> Duty | None:
    duty = session.get(Duty, duty_id)
    if duty is None:
        return None
    if duty.school_id is not None:
        return duty if can_see_school(session, viewer, duty.school_id) else None
    in_district = session.scalar(
        visible_school_ids(viewer).where(School.district_id == duty.district_id).limit(1)
    )
    return duty if in_district is not None else None


# --- reading tasks ---------------------------------------------------------------------------


# Open tasks in the order a person should do them: overdue, then due, then upcoming.
URGENCY = (TaskStatus.OVERDUE, TaskStatus.DUE, TaskStatus.UPCOMING)


def open_task_keys(session: Session, asset_id: int, *, now: datetime) -> list[str]:
    """The checklists of the asset's current open tasks, most urgent first (overdue, then due,
    then upcoming; the sooner due first), read as plain columns: every scan of a label asks."""
    rows = read_rows(session, _open_task_columns(), {"asset_id": asset_id, "now": now})
    ranked = sorted(
        (URGENCY.index(task_status(state, opens, due, closes, now=now)), due, task_id, key)
        for task_id, key, state, opens, due, closes in rows
    )
    return [key for *_, key in ranked]


@cache
def _open_task_columns() -> Any:
    """Built once: every scan of a label asks which of the asset's tasks are open."""
    return select(
        Task.id, Task.template_key, Task.state, Task.opens_at, Task.due_at, Task.closes_at
    ).where(
        Task.asset_id == bindparam("asset_id", type_=Integer),
        Task.current == true(),
        Task.state == TaskState.OPEN,
        Task.closes_at > bindparam("now", type_=Task.__table__.c.closes_at.type),
    )


def template_title(session: Session, key: str, district_id: int) -> dict[str, str]:
    template = latest_template(session, key, district_id=district_id)
    return dict(template.spec.title) if template is not None else dict.fromkeys(LOCALES, key)


# --- the school calendar ----------------------------------------------------------------------


def calendar_entries(session: Session, district_id: int) -> list[CalendarEntry]:
    return list(
        session.scalars(
            select(CalendarEntry)
            .where(CalendarEntry.district_id == district_id)
            .order_by(CalendarEntry.starts_on, CalendarEntry.id)
        )
    )


def _replan_school_day_tasks(session: Session, district_id: int, now: datetime) -> None:
    """Open tasks of school-day schedules follow the changed calendar."""
    session.flush()
    duties = [
        duty
        for duty in session.scalars(select(Duty).where(Duty.district_id == district_id))
        if duty.recurrence.school_days_only
    ]
    _replan(session, duties, now=now)


CALENDAR_FIELDS = ("kind", "starts_on", "ends_on", "name")


def add_calendar_entry(
    session: Session,
    actor: Person,
    district_id: int,
    *,
    kind: str,
    starts_on: date | None,
    ends_on: date | None,
    name: str,
    now: datetime,
) -> CalendarEntry:
    """A term, holiday or make-up school day for the whole district."""
    if not actor.is_district_admin_of(district_id):
        raise DutyRefused(Message(N_("Only a district administrator can change the calendar.")))
    errors: dict[str, Message] = {}
    if kind not in set(CalendarKind):
        errors["kind"] = Message(N_("Choose term, holiday or make-up school day."))
    if starts_on is None:
        errors["starts_on"] = Message(N_("Enter a date like 2026-03-02."))
    if ends_on is None:
        errors["ends_on"] = Message(N_("Enter a date like 2026-03-02."))
    elif starts_on is not None and ends_on < starts_on:
        errors["ends_on"] = Message(N_("The last day cannot be before the first."))
    elif starts_on is not None and (ends_on - starts_on).days > 366:
        errors["ends_on"] = Message(N_("At most a year at a time."))
    if len(name.strip()) > 100:
        errors["name"] = Message(N_("At most %(count)d characters."), {"count": 100})
    if errors:
        raise SubmissionInvalid(errors)
    assert starts_on is not None and ends_on is not None
    entry = CalendarEntry(
        district_id=district_id, kind=kind, starts_on=starts_on, ends_on=ends_on, name=name.strip()
    )
    session.add(entry)
    session.flush()
    audit(session, actor, "calendar.changed", entry, {}, fields_of(entry, CALENDAR_FIELDS), now=now)
    _replan_school_day_tasks(session, district_id, now)
    return entry


def remove_calendar_entry(
    session: Session, actor: Person, entry: CalendarEntry, *, now: datetime
) -> None:
    if not actor.is_district_admin_of(entry.district_id):
        raise DutyRefused(Message(N_("Only a district administrator can change the calendar.")))
    audit(session, actor, "calendar.changed", entry, fields_of(entry, CALENDAR_FIELDS), {}, now=now)
    session.delete(entry)
    _replan_school_day_tasks(session, entry.district_id, now)
