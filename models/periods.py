"""A period a ledger (or a report, a score) covers: a day, week, month, term, year or range of
the district's own dates, read from a page's query arguments."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.catalogue import date_range, in_brackets, translate
from models.duties import CalendarEntry, CalendarKind
from models.messages import N_, DomainError, Message
from models.org import District

# The longest range a person may ask for: a ledger of more is a slow page, not a document.
MAX_RANGE_DAYS = 3 * 366


class PeriodKind(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    TERM = "term"
    YEAR = "year"
    RANGE = "range"


PERIOD_KIND_LABELS = {
    PeriodKind.DAY: N_("Day"),
    PeriodKind.WEEK: N_("Week"),
    PeriodKind.MONTH: N_("Month"),
    PeriodKind.QUARTER: N_("Quarter"),
    PeriodKind.TERM: N_("Term"),
    PeriodKind.YEAR: N_("Year"),
    PeriodKind.RANGE: N_("Date range"),
}


class PeriodInvalid(DomainError):
    pass


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both days included, in the district's calendar."""

    kind: PeriodKind
    start: date
    end: date
    # A term's own name ("2025—2026学年第二学期"), as the district wrote it.
    name: str = ""

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def label(self, locale: str) -> str:
        """The period as a reader names it: 2026年3月, 2026-03-02 至 2026-03-08."""
        if self.kind == PeriodKind.DAY:
            return self.start.isoformat()
        if self.kind == PeriodKind.MONTH:
            return translate(
                locale, N_("%(year)d-%(month)02d"), year=self.start.year, month=self.start.month
            )
        if self.kind == PeriodKind.QUARTER:
            return translate(
                locale,
                N_("%(year)d Q%(quarter)d"),
                year=self.start.year,
                quarter=(self.start.month - 1) // 3 + 1,
            )
        if self.kind == PeriodKind.YEAR:
            return translate(locale, N_("Year %(year)d"), year=self.start.year)
        span = date_range(self.start.isoformat(), self.end.isoformat(), locale)
        return f"{self.name}{in_brackets(span, locale)}" if self.name else span

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The period's first moment and the moment after its last, in UTC."""
        first = datetime.combine(self.start, time(), zone).astimezone(UTC)
        after = datetime.combine(self.end + timedelta(days=1), time(), zone).astimezone(UTC)
        return first, after

    def query_args(self) -> dict[str, str]:
        """The query arguments that name this period again (for links and exports)."""
        if self.kind == PeriodKind.RANGE:
            return {"period": "range", "from": self.start.isoformat(), "to": self.end.isoformat()}
        return {"period": self.kind.value, "on": self.start.isoformat()}


# The query's date fields as the period form labels them, for the message under a bad one.
DATE_FIELDS = {
    "on": {"zh_CN": "期间内任一日期", "en": "Any day in the period"},
    "from": {"zh_CN": "开始日期", "en": "From"},
    "to": {"zh_CN": "结束日期", "en": "To"},
}


def _date(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise PeriodInvalid(
            Message(N_("%(field)s is not a date (YYYY-MM-DD)."), {"field": DATE_FIELDS[field]})
        ) from None


def period_of(kind: PeriodKind, on: date, terms: Sequence[tuple[date, date, str]] = ()) -> Period:
    """The day, week (Monday to Sunday), month, quarter (from January, April, July, October),
    term or year holding `on`."""
    if kind == PeriodKind.DAY:
        return Period(kind, on, on)
    if kind == PeriodKind.WEEK:
        monday = on - timedelta(days=on.weekday())
        return Period(kind, monday, monday + timedelta(days=6))
    if kind == PeriodKind.MONTH:
        first = on.replace(day=1)
        after = (first + timedelta(days=32)).replace(day=1)
        return Period(kind, first, after - timedelta(days=1))
    if kind == PeriodKind.QUARTER:
        first = date(on.year, (on.month - 1) // 3 * 3 + 1, 1)
        last_month = period_of(PeriodKind.MONTH, first.replace(month=first.month + 2))
        return Period(kind, first, last_month.end)
    if kind == PeriodKind.YEAR:
        return Period(kind, date(on.year, 1, 1), date(on.year, 12, 31))
    if kind == PeriodKind.TERM:
        holding = [t for t in terms if t[0] <= on <= t[1]]
        # Between terms (a holiday), the term that ended last.
        before = sorted((t for t in terms if t[1] < on), key=lambda t: t[1])
        chosen = holding[0] if holding else (before[-1] if before else None)
        if chosen is None:
            raise PeriodInvalid(Message(N_("The district calendar has no term yet.")))
        return Period(kind, chosen[0], chosen[1], chosen[2])
    raise PeriodInvalid(Message(N_("Choose a day, week, month, term, year or date range.")))


def district_terms(session: Session, district_id: int) -> list[tuple[date, date, str]]:
    """The district's terms (start, end, name) from its calendar."""
    entries = session.scalars(
        select(CalendarEntry)
        .where(CalendarEntry.district_id == district_id, CalendarEntry.kind == CalendarKind.TERM)
        .order_by(CalendarEntry.starts_on)
    )
    return [(e.starts_on, e.ends_on, e.name) for e in entries]


def parse_period(
    session: Session,
    args: Mapping[str, str],
    *,
    district: District,
    now: datetime,
    default: PeriodKind = PeriodKind.MONTH,
) -> Period:
    """The period the query arguments name (`period`, `on`, or `from` and `to` for a range),
    in the district's time zone; without any, the `default` kind holding today."""
    today = district.local(now).date()
    raw_kind = (args.get("period") or default.value).strip()
    try:
        kind = PeriodKind(raw_kind)
    except ValueError:
        raise PeriodInvalid(
            Message(N_("Choose a day, week, month, term, year or date range."))
        ) from None
    if kind == PeriodKind.RANGE:
        start = _date(args.get("from"), "from") or today
        end = _date(args.get("to"), "to") or today
        if end < start:
            raise PeriodInvalid(Message(N_("The range ends before it starts.")))
        if (end - start).days > MAX_RANGE_DAYS:
            raise PeriodInvalid(Message(N_("Choose a range of at most three years.")))
        return Period(kind, start, end)
    on = _date(args.get("on"), "on") or today
    terms = district_terms(session, district.id) if kind == PeriodKind.TERM else []
    return period_of(kind, on, terms)
