"""A ledger's period, read from a page's query in the district's own calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from models.catalogue import pick_text, translate
from models.duties import CalendarEntry, CalendarKind
from models.periods import Period, PeriodInvalid, PeriodKind, parse_period
from tests.factories import make_school

# 23:30 UTC on Sunday 1 March is 07:30 on Monday 2 March in Shanghai.
LATE_SUNDAY_UTC = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)


def test_today_is_the_districts_date_not_utcs(session: Session) -> None:
    district = make_school(session).district

    day = parse_period(session, {"period": "day"}, district=district, now=LATE_SUNDAY_UTC)
    week = parse_period(session, {"period": "week"}, district=district, now=LATE_SUNDAY_UTC)

    assert day.start == day.end == date(2026, 3, 2)
    assert (week.start, week.end) == (date(2026, 3, 2), date(2026, 3, 8))
    first, after = day.bounds(district.zone)
    assert first == datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
    assert after == datetime(2026, 3, 2, 16, 0, tzinfo=UTC)


def test_month_year_and_range_cover_their_days(session: Session) -> None:
    district = make_school(session).district
    now = LATE_SUNDAY_UTC

    month = parse_period(
        session, {"period": "month", "on": "2024-02-10"}, district=district, now=now
    )
    year = parse_period(session, {"period": "year"}, district=district, now=now)
    span = parse_period(
        session,
        {"period": "range", "from": "2026-01-05", "to": "2026-01-09"},
        district=district,
        now=now,
    )

    assert (month.start, month.end) == (date(2024, 2, 1), date(2024, 2, 29))
    assert month.label("zh_CN") == "2024年02月"
    assert (year.start, year.end) == (date(2026, 1, 1), date(2026, 12, 31))
    assert year.label("zh_CN") == "2026年"
    assert span.kind == PeriodKind.RANGE
    assert span.label("zh_CN") == "2026-01-05 至 2026-01-09"
    assert parse_period(session, {}, district=district, now=now).kind == PeriodKind.MONTH


def test_a_quarter_is_three_calendar_months_and_reads_as_its_number(session: Session) -> None:
    district = make_school(session).district

    first = parse_period(
        session, {"period": "quarter", "on": "2026-02-14"}, district=district, now=LATE_SUNDAY_UTC
    )
    last = parse_period(
        session, {"period": "quarter", "on": "2026-12-31"}, district=district, now=LATE_SUNDAY_UTC
    )

    assert (first.start, first.end, first.days) == (date(2026, 1, 1), date(2026, 3, 31), 90)
    assert (last.start, last.end) == (date(2026, 10, 1), date(2026, 12, 31))
    assert first.label("zh_CN") == "2026年第1季度"
    assert last.label("en") == "2026 Q4"


def test_a_term_comes_from_the_district_calendar(session: Session) -> None:
    district = make_school(session).district
    session.add_all(
        [
            CalendarEntry(
                district_id=district.id,
                kind=CalendarKind.TERM,
                starts_on=date(2025, 9, 1),
                ends_on=date(2026, 1, 16),
                name="第一学期",
            ),
            CalendarEntry(
                district_id=district.id,
                kind=CalendarKind.TERM,
                starts_on=date(2026, 3, 2),
                ends_on=date(2026, 7, 10),
                name="第二学期",
            ),
        ]
    )
    session.flush()

    now = parse_period(session, {"period": "term"}, district=district, now=LATE_SUNDAY_UTC)
    holiday = parse_period(
        session, {"period": "term", "on": "2026-02-10"}, district=district, now=LATE_SUNDAY_UTC
    )

    assert (now.start, now.end, now.name) == (date(2026, 3, 2), date(2026, 7, 10), "第二学期")
    assert holiday.name == "第一学期"  # between terms: the one that ended last
    assert "第二学期" in now.label("zh_CN")


@pytest.mark.parametrize(
    "args",
    [
        {"period": "fortnight"},
        {"period": "day", "on": "2026-13-01"},
        {"period": "range", "from": "2026-03-05", "to": "2026-03-01"},
        {"period": "range", "from": "2020-01-01", "to": "2026-01-01"},
        {"period": "term"},
    ],
)
def test_a_period_that_cannot_be_is_refused(session: Session, args: dict[str, str]) -> None:
    district = make_school(session).district

    with pytest.raises(PeriodInvalid):
        parse_period(session, args, district=district, now=LATE_SUNDAY_UTC)


def test_a_terms_dates_sit_in_the_readers_own_brackets() -> None:
    term = Period(PeriodKind.TERM, date(2026, 9, 1), date(2027, 1, 22), "2026 秋季学期")

    assert term.label("zh_CN") == "2026 秋季学期（2026-09-01 至 2027-01-22）"
    assert term.label("en") == "2026 秋季学期 (2026-09-01 – 2027-01-22)"


def test_a_bad_date_is_refused_naming_its_field_as_the_form_labels_it(session: Session) -> None:
    district = make_school(session).district
    cases = [
        ({"period": "month", "on": "2026-13-01"}, "期间内任一日期 不是日期"),
        ({"period": "range", "from": "2026-11-xx", "to": "2026-11-30"}, "开始日期 不是日期"),
        ({"period": "range", "from": "2026-11-01", "to": "abc"}, "结束日期 不是日期"),
    ]
    for args, words in cases:
        with pytest.raises(PeriodInvalid) as refused:
            parse_period(session, args, district=district, now=LATE_SUNDAY_UTC)
        message = refused.value.message
        params = {k: pick_text(v, "zh_CN") for k, v in message.params.items()}
        assert translate("zh_CN", message.msgid, **params).startswith(words)
