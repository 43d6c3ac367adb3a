"""When a duty falls due: recurrence rules and the windows they cut time into.

Pure calendar arithmetic, no database. A calendar rule (daily, weekly, monthly, quarterly,
yearly) gives due dates in the district's local time; each occurrence's window runs from the
end of the previous occurrence's period to the end of its own (the day, month, quarter or
year it falls in), so windows never overlap and a record belongs to at most one of them.
"Every N days" counts from when the duty was last done instead.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from models.messages import N_

SEARCH_DAYS = 800  # how far to look for a due date before deciding the rule never falls due
# November to March: the months an "every N days" rule may use its winter interval (a district
# that cleans its water dispensers monthly in summer and every two months in winter).
WINTER_MONTHS = (11, 12, 1, 2, 3)


class Frequency(enum.StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"
    EVERY_N_DAYS = "every_n_days"


FREQUENCY_LABELS = {
    Frequency.DAILY: N_("Every day"),
    Frequency.WEEKLY: N_("On given weekdays"),
    Frequency.MONTHLY: N_("Every month"),
    Frequency.QUARTERLY: N_("Every quarter"),
    Frequency.YEARLY: N_("Every year"),
    Frequency.EVERY_N_DAYS: N_("Every N days after it was last done"),
}

IsSchoolDay = Callable[[date], bool]


@dataclass(frozen=True)
class Rule:
    """A recurrence. `day` is the day of the month (clamped to the month's last day), `month`
    the month of the year (yearly) or of the quarter (1–3); `weekdays` are 0 = Monday."""

    frequency: Frequency
    at: time = time(17, 0)
    weekdays: tuple[int, ...] = ()
    day: int = 1
    month: int = 1
    every_days: int = 7
    school_days_only: bool = False
    # Daily only: one occurrence per meal, due at each of these times (陪餐 at every meal).
    meal_times: tuple[time, ...] = ()
    # Every N days counted from a day in WINTER_MONTHS instead; 0: the same all year.
    winter_every_days: int = 0
    # Daily and weekly only: the window opens at this time on the due day, so a night patrol
    # is not done in the afternoon; None, it opens the day after the previous due day.
    opens: time | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "frequency": self.frequency.value,
            "at": self.at.strftime("%H:%M"),
            "weekdays": list(self.weekdays),
            "day": self.day,
            "month": self.month,
            "every_days": self.every_days,
            "school_days_only": self.school_days_only,
            "winter_every_days": self.winter_every_days,
        }
        if self.meal_times:
            data["meal_times"] = [t.strftime("%H:%M") for t in self.meal_times]
        if self.opens is not None:
            data["opens"] = self.opens.strftime("%H:%M")
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Rule:
        return cls(
            frequency=Frequency(data["frequency"]),
            at=time.fromisoformat(data.get("at", "17:00")),
            weekdays=tuple(data.get("weekdays", ())),
            day=int(data.get("day", 1)),
            month=int(data.get("month", 1)),
            every_days=int(data.get("every_days", 7)),
            school_days_only=bool(data.get("school_days_only", False)),
            meal_times=tuple(time.fromisoformat(t) for t in data.get("meal_times", ())),
            winter_every_days=int(data.get("winter_every_days", 0)),
            opens=time.fromisoformat(data["opens"]) if data.get("opens") else None,
        )

    def days_after(self, day: date) -> int:
        """Every N days: how many days after `day` it falls due again (winter's, in winter)."""
        if self.winter_every_days and day.month in WINTER_MONTHS:
            return self.winter_every_days
        return self.every_days

    def problems(self) -> dict[str, str]:
        """Field → what is wrong, as catalogue messages; empty when the rule is sound."""
        errors: dict[str, str] = {}
        if self.frequency == Frequency.WEEKLY and (
            not self.weekdays or any(not 0 <= d <= 6 for d in self.weekdays)
        ):
            errors["weekdays"] = N_("Choose at least one weekday.")
        if not 1 <= self.day <= 31:
            errors["day"] = N_("Choose a day from 1 to 31.")
        if self.frequency == Frequency.YEARLY and not 1 <= self.month <= 12:
            errors["month"] = N_("Choose a month from 1 to 12.")
        if self.frequency == Frequency.QUARTERLY and not 1 <= self.month <= 3:
            errors["month"] = N_("Choose the first, second or third month of the quarter.")
        if self.frequency == Frequency.EVERY_N_DAYS and not 1 <= self.every_days <= 366:
            errors["every_days"] = N_("Choose from 1 to 366 days.")
        if self.meal_times and (
            self.frequency != Frequency.DAILY
            or list(self.meal_times) != sorted(set(self.meal_times))
        ):
            errors["meal_times"] = N_("Meal times are for a daily schedule, earliest first.")
        if self.opens is not None and (
            self.frequency not in (Frequency.DAILY, Frequency.WEEKLY)
            or self.meal_times
            or self.opens >= self.at
        ):
            errors["opens"] = N_(
                "Opens before the time it is due, on a daily or weekly schedule without meals."
            )
        if self.frequency == Frequency.EVERY_N_DAYS and not 0 <= self.winter_every_days <= 366:
            errors["winter_every_days"] = N_(
                "Choose from 1 to 366 days, or 0 for the same all year."
            )
        return errors


WORKWEEK = frozenset(range(5))
# The nominal longest gap of the calendar rules, in days (a month of 31, a quarter of 92).
CALENDAR_GAPS = {Frequency.MONTHLY: 31, Frequency.QUARTERLY: 92, Frequency.YEARLY: 366}


def longest_gap(rule: Rule) -> int:
    """The most days a rule lets pass between two due dates, counting a rule that falls on
    every school day (daily, or weekly on Monday to Friday) as 1: a school is shut at weekends
    and in the holidays, and no statutory minimum asks for a record on a day it is shut."""
    if rule.frequency == Frequency.DAILY:
        return 1
    if rule.frequency == Frequency.WEEKLY:
        days = sorted(set(rule.weekdays))
        if not days:
            return 7
        if set(days) >= WORKWEEK:
            return 1
        return max((b - a) % 7 or 7 for a, b in zip(days, days[1:] + days[:1], strict=True))
    if rule.frequency == Frequency.EVERY_N_DAYS:
        return rule.every_days
    return CALENDAR_GAPS[rule.frequency]


@dataclass(frozen=True)
class Window:
    """One occurrence, in UTC: done by a record in [opens_at, closes_at), due at due_at."""

    opens_at: datetime
    due_at: datetime
    closes_at: datetime


def every_day(_: date) -> bool:
    return True


def _month_day(year: int, month: int, day: int) -> date:
    """The day of that month, or its last day when the month is shorter (31 → 30, 28 or 29)."""
    following = date(year + month // 12, month % 12 + 1, 1)
    return date(year, month, min(day, (following - timedelta(days=1)).day))


def _add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _period(rule: Rule, day: date) -> tuple[date, date]:
    """The first day of the period a date falls in, and the first day after it."""
    if rule.frequency in (Frequency.DAILY, Frequency.WEEKLY, Frequency.EVERY_N_DAYS):
        return day, day + timedelta(days=1)
    if rule.frequency == Frequency.MONTHLY:
        first = day.replace(day=1)
        return first, _add_months(first, 1)
    if rule.frequency == Frequency.QUARTERLY:
        first = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        return first, _add_months(first, 3)
    return date(day.year, 1, 1), date(day.year + 1, 1, 1)


def _due_in_period(rule: Rule, first: date, school_day: IsSchoolDay) -> date | None:
    """The due date of a month, quarter or year; on school days only, the last school day on
    or before it within the period, else the first after it (none if the period has none)."""
    if rule.frequency == Frequency.MONTHLY:
        due = _month_day(first.year, first.month, rule.day)
    elif rule.frequency == Frequency.QUARTERLY:
        month = first.month + rule.month - 1
        due = _month_day(first.year, month, rule.day)
    else:
        due = _month_day(first.year, rule.month, rule.day)
    if not rule.school_days_only:
        return due
    earlier = due
    while earlier >= first:
        if school_day(earlier):
            return earlier
        earlier -= timedelta(days=1)
    _, after = _period(rule, first)
    later = due + timedelta(days=1)
    while later < after:
        if school_day(later):
            return later
        later += timedelta(days=1)
    return None


def _falls_on(rule: Rule, day: date, school_day: IsSchoolDay) -> bool:
    """Daily and weekly rules: is this a due date?"""
    if rule.frequency == Frequency.WEEKLY and day.weekday() not in rule.weekdays:
        return False
    return not rule.school_days_only or school_day(day)


def due_dates(rule: Rule, start: date, school_day: IsSchoolDay = every_day) -> Iterator[date]:
    """Due dates on or after `start`, in order; stops when none falls within SEARCH_DAYS."""
    if rule.frequency in (Frequency.DAILY, Frequency.WEEKLY):
        day, quiet = start, 0
        while quiet < SEARCH_DAYS:
            if _falls_on(rule, day, school_day):
                quiet = 0
                yield day
            else:
                quiet += 1
            day += timedelta(days=1)
        return
    first, _ = _period(rule, start)
    quiet_from = first
    while (first - quiet_from).days < SEARCH_DAYS:
        due = _due_in_period(rule, first, school_day)
        if due is not None and due >= start:
            quiet_from = first
            yield due
        first = _period(rule, first)[1]


def _previous_due(rule: Rule, before: date, school_day: IsSchoolDay) -> date | None:
    """The last due date before `before`, looking back at most SEARCH_DAYS."""
    if rule.frequency in (Frequency.DAILY, Frequency.WEEKLY):
        day = before - timedelta(days=1)
        for _ in range(SEARCH_DAYS):
            if _falls_on(rule, day, school_day):
                return day
            day -= timedelta(days=1)
        return None
    first = _period(rule, before)[0]
    for _ in range(SEARCH_DAYS // 28):
        first = _period(rule, first - timedelta(days=1))[0]
        due = _due_in_period(rule, first, school_day)
        if due is not None and due < before:
            return due
    return None


class Calendar:
    """A district's local time and school days: turns local dates into UTC instants."""

    def __init__(self, timezone: ZoneInfo | str, school_day: IsSchoolDay = every_day) -> None:
        self.zone = timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone)
        self.school_day = school_day

    def at(self, day: date, moment: time = time(0, 0)) -> datetime:
        """A local date and time as UTC. A time a DST change skips lands as far after the jump
        (02:30 becomes 03:30); a time it repeats is its first occurrence."""
        return datetime.combine(day, moment, tzinfo=self.zone).astimezone(UTC)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def _window(self, rule: Rule, due: date) -> Window:
        first, after = _period(rule, due)
        opens_at = self.at(first)
        if rule.frequency in (Frequency.DAILY, Frequency.WEEKLY):
            if rule.opens is not None:
                opens_at = self.at(due, rule.opens)
            else:
                previous = _previous_due(rule, due, self.school_day)
                opens_at = self.at(previous + timedelta(days=1) if previous is not None else due)
        return Window(opens_at=opens_at, due_at=self.at(due, rule.at), closes_at=self.at(after))

    def _windows(self, rule: Rule, due: date) -> list[Window]:
        """The day's one window, or with meal times one per meal: the day cut halfway between
        one meal's due time and the next, so a record belongs to the meal it was nearest."""
        window = self._window(rule, due)
        if not rule.meal_times:
            return [window]
        dues = [self.at(due, moment) for moment in rule.meal_times]
        cuts = [window.opens_at]
        cuts += [a + (b - a) / 2 for a, b in pairwise(dues)]
        cuts.append(window.closes_at)
        return [Window(cuts[i], dues[i], cuts[i + 1]) for i in range(len(dues))]

    def window_at(self, rule: Rule, moment: datetime) -> Window | None:
        """The calendar occurrence whose window holds `moment`; None if it never falls due."""
        today = self.local_date(moment)
        start = _period(rule, today)[0]
        for due in due_dates(rule, start, self.school_day):
            for window in self._windows(rule, due):
                if window.closes_at > moment:
                    return window
        return None

    def window_after(self, rule: Rule, previous: Window) -> Window | None:
        """The calendar occurrence after `previous`."""
        start = self.local_date(previous.closes_at)
        if rule.meal_times:
            start = self.local_date(previous.due_at)
        for due in due_dates(rule, start, self.school_day):
            for window in self._windows(rule, due):
                if window.closes_at > previous.closes_at:
                    return window
        return None

    def window_since(self, rule: Rule, done_at: datetime) -> Window:
        """Every N days: due N days after the day it was last done (the winter N from a winter
        day), at the rule's time; missed when another N days pass."""
        done_on = self.local_date(done_at)
        due_day = done_on + timedelta(days=rule.days_after(done_on))
        due = self.at(due_day, rule.at)
        return Window(opens_at=done_at, due_at=due, closes_at=due + (due - done_at))
