"""Recurrences: due dates and windows across month ends, leap years, DST and holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from models.duties import SchoolDays
from models.recurrence import Calendar, Frequency, Rule, Window, due_dates

SHANGHAI = Calendar("Asia/Shanghai")


def local(calendar: Calendar, moment: datetime) -> str:
    return moment.astimezone(calendar.zone).strftime("%Y-%m-%d %H:%M")


def shown(calendar: Calendar, window: Window | None) -> tuple[str, str, str]:
    assert window is not None
    return (
        local(calendar, window.opens_at),
        local(calendar, window.due_at),
        local(calendar, window.closes_at),
    )


def test_the_31st_of_each_month_falls_on_its_last_day_and_on_the_29th_in_a_leap_february() -> None:
    rule = Rule(Frequency.MONTHLY, day=31)

    dates = list(zip(range(6), due_dates(rule, date(2027, 12, 1)), strict=False))

    assert [d for _, d in dates] == [
        date(2027, 12, 31),
        date(2028, 1, 31),
        date(2028, 2, 29),
        date(2028, 3, 31),
        date(2028, 4, 30),
        date(2028, 5, 31),
    ]


def test_a_yearly_29_february_falls_on_the_28th_outside_leap_years() -> None:
    rule = Rule(Frequency.YEARLY, month=2, day=29)

    assert list(zip(range(3), due_dates(rule, date(2027, 1, 1)), strict=False)) == [
        (0, date(2027, 2, 28)),
        (1, date(2028, 2, 29)),
        (2, date(2029, 2, 28)),
    ]


def test_a_monthly_window_is_the_whole_month_in_local_time() -> None:
    rule = Rule(Frequency.MONTHLY, at=time(17, 0), day=25)

    window = SHANGHAI.window_at(rule, datetime(2026, 1, 31, 15, 59, tzinfo=UTC))

    assert shown(SHANGHAI, window) == ("2026-01-01 00:00", "2026-01-25 17:00", "2026-02-01 00:00")
    # One minute later it is already February in Shanghai.
    february = SHANGHAI.window_at(rule, datetime(2026, 1, 31, 16, 0, tzinfo=UTC))
    assert shown(SHANGHAI, february)[1] == "2026-02-25 17:00"
    assert SHANGHAI.window_after(rule, window) == february


def test_quarterly_falls_in_the_chosen_month_of_each_quarter() -> None:
    rule = Rule(Frequency.QUARTERLY, at=time(17, 0), month=1, day=15)

    window = SHANGHAI.window_at(rule, datetime(2026, 5, 20, tzinfo=UTC))

    assert shown(SHANGHAI, window) == ("2026-04-01 00:00", "2026-04-15 17:00", "2026-07-01 00:00")


def test_weekdays_share_out_the_days_between_them() -> None:
    rule = Rule(Frequency.WEEKLY, at=time(17, 0), weekdays=(0, 2, 4))  # Mon, Wed, Fri

    # Tuesday 3 March 2026: the window for Wednesday opened when Monday's closed.
    window = SHANGHAI.window_at(rule, datetime(2026, 3, 3, 4, tzinfo=UTC))

    assert shown(SHANGHAI, window) == ("2026-03-03 00:00", "2026-03-04 17:00", "2026-03-05 00:00")
    monday = SHANGHAI.window_after(rule, SHANGHAI.window_at(rule, datetime(2026, 3, 6, tzinfo=UTC)))
    assert shown(SHANGHAI, monday) == ("2026-03-07 00:00", "2026-03-09 17:00", "2026-03-10 00:00")


def test_school_days_skip_weekends_holidays_and_count_make_up_days() -> None:
    days = SchoolDays(
        terms=((date(2026, 9, 1), date(2027, 1, 20)),),
        holidays=((date(2026, 10, 1), date(2026, 10, 7)),),
        workdays=((date(2026, 9, 27), date(2026, 9, 27)), (date(2026, 10, 10), date(2026, 10, 10))),
    )
    rule = Rule(Frequency.DAILY, at=time(7, 30), school_days_only=True)

    dates = [d for _, d in zip(range(6), due_dates(rule, date(2026, 9, 25), days), strict=False)]

    assert dates == [
        date(2026, 9, 25),  # Friday
        date(2026, 9, 27),  # Sunday, a make-up school day
        date(2026, 9, 28),
        date(2026, 9, 29),
        date(2026, 9, 30),
        date(2026, 10, 8),  # after the National Day holiday
    ]
    assert not days(date(2026, 8, 31))  # a Monday before term
    assert not days(date(2026, 10, 3))


def test_a_monthly_due_date_off_school_moves_to_the_nearest_school_day_of_its_month() -> None:
    days = SchoolDays(holidays=((date(2026, 10, 1), date(2026, 10, 7)),))
    rule = Rule(Frequency.MONTHLY, day=5, school_days_only=True)

    dates = [d for _, d in zip(range(3), due_dates(rule, date(2026, 10, 1), days), strict=False)]

    # 5 October is in the holiday with no school day before it that month: the 8th, after.
    # 5 December 2026 is a Saturday: the Friday before.
    assert dates == [date(2026, 10, 8), date(2026, 11, 5), date(2026, 12, 4)]


def test_a_daily_time_in_a_zone_with_daylight_saving_keeps_its_local_hour() -> None:
    new_york = Calendar("America/New_York")
    rule = Rule(Frequency.DAILY, at=time(9, 0))

    before = new_york.window_at(rule, datetime(2026, 3, 7, 18, tzinfo=UTC))
    after = new_york.window_after(rule, before)

    assert local(new_york, before.due_at) == "2026-03-07 09:00"
    assert local(new_york, after.due_at) == "2026-03-08 09:00"
    assert after.due_at - before.due_at == timedelta(hours=23)
    # The day the clocks go forward is 23 hours long; its window is too.
    assert after.closes_at - after.opens_at == timedelta(hours=23)


def test_a_time_skipped_by_the_clocks_going_forward_lands_after_the_jump() -> None:
    new_york = Calendar("America/New_York")
    rule = Rule(Frequency.DAILY, at=time(2, 30))

    window = new_york.window_at(rule, datetime(2026, 3, 8, 12, tzinfo=UTC))

    assert local(new_york, window.due_at) == "2026-03-08 03:30"


def test_shanghai_has_no_daylight_saving_so_every_day_is_24_hours() -> None:
    rule = Rule(Frequency.DAILY, at=time(9, 0))
    window = SHANGHAI.window_at(rule, datetime(2026, 3, 8, 12, tzinfo=UTC))

    assert window.closes_at - window.opens_at == timedelta(hours=24)
    assert window.due_at == datetime(2026, 3, 8, 1, 0, tzinfo=UTC)  # 09:00 that evening's day


def test_every_n_days_counts_from_the_day_it_was_last_done() -> None:
    rule = Rule(Frequency.EVERY_N_DAYS, at=time(17, 0), every_days=7)
    done = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai

    window = SHANGHAI.window_since(rule, done)

    assert shown(SHANGHAI, window) == ("2026-03-02 10:00", "2026-03-09 17:00", "2026-03-17 00:00")


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        (Rule(Frequency.WEEKLY, weekdays=()), "weekdays"),
        (Rule(Frequency.MONTHLY, day=32), "day"),
        (Rule(Frequency.YEARLY, month=13), "month"),
        (Rule(Frequency.QUARTERLY, month=4), "month"),
        (Rule(Frequency.EVERY_N_DAYS, every_days=0), "every_days"),
        (Rule(Frequency.DAILY, at=time(22, 0), opens=time(22, 0)), "opens"),
        (Rule(Frequency.MONTHLY, at=time(22, 0), opens=time(19, 0)), "opens"),
    ],
)
def test_an_impossible_rule_names_its_field(rule: Rule, field: str) -> None:
    assert list(rule.problems()) == [field]


def test_a_rule_survives_its_round_trip_through_json() -> None:
    rule = Rule(Frequency.WEEKLY, at=time(6, 45), weekdays=(1, 3), school_days_only=True)
    night = Rule(Frequency.DAILY, at=time(22, 0), opens=time(19, 0))

    assert Rule.from_json(rule.to_json()) == rule
    assert Rule.from_json(night.to_json()) == night
    assert "opens" not in rule.to_json()


def test_a_night_window_opens_after_dark_on_its_day_and_closes_at_midnight() -> None:
    night = Rule(Frequency.DAILY, at=time(22, 0), opens=time(19, 0), school_days_only=True)
    calendar = Calendar("Asia/Shanghai", lambda day: day.weekday() < 5)
    friday = datetime(2026, 3, 6, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai

    window = calendar.window_at(night, friday)

    assert shown(calendar, window) == ("2026-03-06 19:00", "2026-03-06 22:00", "2026-03-07 00:00")
    assert window is not None
    assert shown(calendar, calendar.window_after(night, window)) == (
        "2026-03-09 19:00",
        "2026-03-09 22:00",
        "2026-03-10 00:00",
    )


def test_every_n_days_counts_the_winter_interval_from_a_winter_day_and_the_summer_one_else() -> (
    None
):
    dispensers = Rule(Frequency.EVERY_N_DAYS, at=time(17, 0), every_days=30, winter_every_days=60)

    january = SHANGHAI.window_since(dispensers, datetime(2026, 1, 5, 2, 0, tzinfo=UTC))
    july = SHANGHAI.window_since(dispensers, datetime(2026, 7, 6, 2, 0, tzinfo=UTC))

    assert shown(SHANGHAI, january)[1] == "2026-03-06 17:00"  # 60 days after 5 January
    assert shown(SHANGHAI, july)[1] == "2026-08-05 17:00"  # 30 days after 6 July
    assert Rule.from_json(dispensers.to_json()) == dispensers
    assert list(Rule(Frequency.EVERY_N_DAYS, winter_every_days=400).problems()) == [
        "winter_every_days"
    ]
