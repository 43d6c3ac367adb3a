"""The dashboard's figures against a small district built by hand: two schools, a few weeks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from models.actions import CorrectiveAction
from models.assets import Asset, AssetKind
from models.clock import SettableClock
from models.dashboard import (
    Span,
    dashboard_schools,
    school_dashboard,
    total,
    unreported,
)
from models.documents import missing_insurances, people_register
from models.org import School
from models.people import Person, Role
from models.photos import PhotoStore
from models.trips import Trip, TripStatus
from tests.factories import (
    make_asset,
    make_certificate,
    make_person,
    make_record_row,
    make_school,
    make_task,
)

NOW = datetime(2026, 3, 20, 2, 0, tzinfo=UTC)  # 10:00 on Friday 20 March in Shanghai


def utc(day: int, hour: int = 9, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@dataclass
class District:
    one: School
    two: School
    admin: Person
    district: Person
    staff: Person
    first: Asset
    second: Asset


@pytest.fixture
def world(session: Session, clock: SettableClock, store: PhotoStore) -> District:
    one = make_school(session, "S1", "实验小学")
    two = make_school(session, "S2", "第二小学", district=one.district)
    admin = make_person(session, clock, one, Role.SCHOOL_ADMIN, "admin")
    district = make_person(session, clock, one, Role.DISTRICT_ADMIN, "district")
    staff = make_person(session, clock, one, Role.INSPECTOR, "staff")
    first = make_asset(session, clock, one, code="MHQ-001", name="一楼灭火器")
    second = make_asset(session, clock, one, code="MHQ-002", name="二楼灭火器")
    third = make_asset(session, clock, two, code="MHQ-101", name="食堂灭火器")

    make_task(session, first, utc(10), "done", done_at=utc(10, 8))  # on time
    make_task(session, first, utc(11), "done", done_at=utc(11, 12))  # late
    make_task(session, second, utc(11), "missed")
    make_task(session, first, utc(12), "missed")
    make_task(session, second, utc(12), "missed")
    make_task(session, first, utc(1, month=1), "missed")  # long before the period
    make_task(session, first, utc(19), current=True)  # open, a day overdue
    make_task(session, third, utc(15), "done", done_at=utc(15, 7))
    make_task(session, third, utc(16), "missed")

    for severity, opened, due in (("critical", 1, 2), ("minor", 10, -3)):
        session.add(
            CorrectiveAction(
                school_id=one.id,
                asset_id=first.id,
                item_key="hose_clear",
                what={"zh_CN": "喷管堵塞", "en": "Hose blocked"},
                severity=severity,
                opened_at=NOW - timedelta(days=opened),
                due_at=NOW + timedelta(days=due),
            )
        )

    clock.set(NOW)
    make_certificate(session, clock, store, admin, one, staff, expires_on=date(2026, 3, 1))
    make_certificate(session, clock, store, admin, one, admin, expires_on=date(2026, 4, 1))
    cook = make_person(session, clock, one, Role.CANTEEN_STAFF, "cook")
    make_certificate(session, clock, store, admin, one, cook, expires_on=date(2027, 1, 31))

    bus = make_asset(session, clock, one, AssetKind.BUS, code="BUS-1", name="1号校车")
    for n, status, got_off in ((1, TripStatus.ARRIVED, 19), (2, TripStatus.NO_ARRIVAL, None)):
        departure = make_record_row(
            session, bus, staff, utc(16 + n, 0), template_key="bus_departure"
        )
        session.add(
            Trip(
                school_id=one.id,
                bus_id=bus.id,
                teacher_id=staff.id,
                status=status,
                departed_at=utc(16 + n, 0),
                boarded=19,
                departure_record_id=departure.id,
                got_off=got_off,
            )
        )
    original = make_record_row(session, first, staff, utc(10, 8))
    make_record_row(session, second, staff, utc(10, 9), same_photo_as=original)
    office = make_asset(session, clock, one, AssetKind.SCHOOL_OFFICE, code="BGS", name="后勤办")
    make_record_row(session, office, staff, utc(2, month=1), template_key="fire_drill")
    session.flush()
    return District(one, two, admin, district, staff, first, second)


def test_each_schools_duties_on_time_late_missed_and_what_is_open_now(world: District) -> None:
    session = Session.object_session(world.one)
    span = Span.last_days(date(2026, 3, 20), 30)

    one, two = school_dashboard(session, [world.one, world.two], span, now=NOW).schools

    assert (one.on_time, one.late, one.missed, one.overdue) == (1, 1, 3, 1)
    assert one.rate == 20
    assert (two.on_time, two.late, two.missed, two.overdue) == (1, 0, 1, 0)
    assert (one.open_actions, one.actions_overdue) == (2, 1)
    assert one.actions_of("critical") == 1 and one.actions_aged(0) == 1
    assert one.actions_aged(2) == 1  # opened ten days ago
    assert (one.expired, one.expiring) == (1, 1)
    assert (one.trips, one.trip_alerts) == (2, 1)
    assert (one.records, one.flagged) == (4, 1)  # the drill was in January, before the span
    assert (one.drills_held, one.drills_due) == (1, 1)  # but within the half-year
    assert (two.open_actions, two.expired, two.trips, two.drills_held) == (0, 0, 0, 0)


def test_the_unreported_list_names_the_school_the_duty_and_the_day(world: District) -> None:
    session = Session.object_session(world.one)
    span = Span.last_days(date(2026, 3, 20), 30)

    rows = unreported(session, [world.one, world.two], span, now=NOW)

    assert [(r.school.code, r.day, r.template_key, r.assets) for r in rows] == [
        ("S2", date(2026, 3, 16), "extinguisher_monthly", 1),
        ("S1", date(2026, 3, 12), "extinguisher_monthly", 2),
        ("S1", date(2026, 3, 11), "extinguisher_monthly", 1),
    ]
    assert rows[-1].asset_name == "二楼灭火器"


def test_the_weekly_trend_counts_each_week_oldest_first(world: District) -> None:
    session = Session.object_session(world.one)

    span = Span.last_days(date(2026, 3, 20), 7)  # shorter than the trend, which counts apart

    weeks = school_dashboard(session, [world.one, world.two], span, now=NOW, weeks=3).weeks

    # Weeks run Monday to Sunday: Sunday 15 March's check counts in the week of the 9th.
    assert [w.first for w in weeks] == [date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16)]
    assert [(w.on_time, w.late, w.missed) for w in weeks] == [(0, 0, 0), (2, 1, 3), (0, 0, 1)]


def test_a_school_administrator_reads_only_their_school_and_staff_none(
    world: District,
) -> None:
    session = Session.object_session(world.one)

    assert dashboard_schools(session, world.admin) == [world.one]
    assert dashboard_schools(session, world.district) == [world.one, world.two]
    assert dashboard_schools(session, world.staff) == []


def test_a_year_counts_apart_from_its_trend_and_a_week_begins_at_local_midnight(
    world: District,
) -> None:
    session = Session.object_session(world.one)
    canteen = make_asset(session, SettableClock(NOW), world.two, code="MHQ-102", name="厨房灭火器")
    week_begins = datetime(2026, 3, 15, 16, tzinfo=UTC)  # Monday 16 March, 00:00 in Shanghai
    make_task(session, canteen, week_begins, "missed")
    make_task(session, canteen, week_begins - timedelta(seconds=1), "done", done_at=NOW)
    make_task(session, canteen, NOW, "missed")  # due this very moment: not yet fallen due
    span = Span.last_days(date(2026, 3, 20), 365)

    board = school_dashboard(session, [world.one, world.two], span, now=NOW, weeks=4)

    one, two = board.schools
    # The year holds January's missed check, which the four weeks of the trend do not.
    assert (one.on_time, one.late, one.missed) == (1, 1, 4)
    assert (two.on_time, two.late, two.missed) == (1, 1, 2)
    assert [w.first for w in board.weeks] == [
        date(2026, 2, 23),
        date(2026, 3, 2),
        date(2026, 3, 9),
        date(2026, 3, 16),
    ]
    assert [(w.on_time, w.late, w.missed) for w in board.weeks] == [
        (0, 0, 0),
        (0, 0, 0),
        (2, 2, 3),
        (0, 0, 2),
    ]


def test_a_task_in_the_trends_first_week_but_before_the_period_counts_in_the_trend_only(
    world: District,
) -> None:
    session = Session.object_session(world.one)
    make_task(session, world.first, utc(16, month=2), "missed")  # Monday 16 February
    span = Span.last_days(date(2026, 3, 20), 30)  # from 19 February

    board = school_dashboard(session, [world.one, world.two], span, now=NOW)

    assert board.weeks[0].first == date(2026, 2, 16)  # weeks run Monday to Sunday
    assert (board.weeks[0].on_time, board.weeks[0].late, board.weeks[0].missed) == (0, 0, 1)
    assert board.schools[0].missed == 3  # as without it


def test_the_dashboard_counts_the_papers_missing_as_the_registers_list_them(
    world: District, clock: SettableClock
) -> None:
    session = Session.object_session(world.one)
    make_person(session, clock, world.one, Role.GUARD, "guard")  # needs a training certificate
    make_person(session, clock, world.two, Role.CANTEEN_STAFF, "cook2")  # a health certificate
    span = Span.last_days(date(2026, 3, 20), 30)

    one, two = school_dashboard(session, [world.one, world.two], span, now=NOW).schools
    registers = {
        s.id: sum(len(e.missing) for e in people_register(session, s, date(2026, 3, 20)))
        + len(missing_insurances(session, s, date(2026, 3, 20)))
        for s in (world.one, world.two)
    }

    # 实验小学: the guard's training, three school insurances and the bus's; 第二小学: the
    # cook's health certificate and its three insurances.
    assert (one.missing, two.missing) == (5, 4)
    assert (one.missing, two.missing) == (registers[world.one.id], registers[world.two.id])
    assert total([one, two]).missing == 9
