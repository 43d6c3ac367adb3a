"""The school score: hand-computed sums, bands, ranking with ties, versioned schemes, and
figures counted from the rows a school really has."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.actions import CorrectiveAction
from models.assets import AssetKind
from models.clock import SettableClock
from models.duties import Duty, Task, TaskState
from models.org import School
from models.people import Role
from models.periods import Period, PeriodKind
from models.score import (
    Figures,
    Scheme,
    SchemeRefused,
    compute_score,
    current_scheme,
    district_ranking,
    rank,
    save_scheme,
    scheme_version,
    school_score,
)
from tests.factories import make_asset, make_district_admin, make_person, make_school

WEIGHTS = {
    "on_time": 30,
    "actions_fixed": 15,
    "certificates": 15,
    "insurance": 10,
    "drills": 10,
    "trips": 10,
    "flags": 10,
    "reports_signed": 0,
}
BANDS = {"A": 90, "B": 75, "C": 60}
DEFAULTS = Scheme(WEIGHTS, BANDS, 180)
MARCH = Period(PeriodKind.MONTH, date(2026, 3, 1), date(2026, 3, 31))


def test_a_small_school_scores_what_the_hand_sum_says() -> None:
    figures = Figures(
        counts={
            "on_time": (18, 20),
            "actions_fixed": (1, 2),
            "certificates": (3, 4),
            "insurance": (4, 4),
            "drills": (0, 1),
            "trips": (0, 0),  # no bus: nothing to measure, left out
            "flags": (9, 10),
        }
    )
    score = compute_score(1, figures, DEFAULTS)

    # Trips are left out, so the measured weights (30+15+15+10+10+10 = 90) share the 100:
    # on time 100×30/90 × 18/20 = 30; fixed 16.67 × 1/2 = 8.33; certificates 16.67 × 3/4 =
    # 12.5; insurance 11.11; drills 0; flags 11.11 × 9/10 = 10 → 71.94, shown as 71.9: band C
    assert score.total == 71.9
    assert score.band == "C"
    lost = {line.key: line.lost for line in score.lines}
    assert lost == {
        "on_time": 3.33,
        "actions_fixed": 8.34,
        "certificates": 4.17,
        "insurance": 0,
        "drills": 11.11,
        "trips": 0,
        "flags": 1.11,
        "reports_signed": 0,
    }
    trips = next(line for line in score.lines if line.key == "trips")
    assert (trips.measured, trips.points) == (False, 0)


def test_a_school_with_nothing_to_measure_has_no_score_and_comes_after_the_ranked() -> None:
    scheme = Scheme({"on_time": 50, "trips": 50}, BANDS)
    busy, idle = School(id=1, code="B", name="B"), School(id=2, code="A", name="A")
    # Nothing fell due at the idle school and it has no bus: no measured indicator at all.
    busy_score = compute_score(1, Figures(counts={"on_time": (1, 4), "trips": (0, 0)}), scheme)
    idle_score = compute_score(2, Figures(counts={"on_time": (0, 0), "trips": (0, 0)}), scheme)

    # The busy school's on-time share alone makes its score: 100 × 1/4 = 25, band D
    assert (busy_score.total, busy_score.band) == (25.0, "D")
    assert (idle_score.total, idle_score.band, idle_score.has_data) == (None, None, False)
    ranked = [(r.rank, r.school.code) for r in rank([(idle, idle_score), (busy, busy_score)])]
    assert ranked == [(1, "B"), (None, "A")]


def test_what_every_school_owes_anyway_does_not_alone_make_a_score() -> None:
    # Nothing fell due, no record, no staff, no trip: only the insurance and the drill that
    # every school owes are measured (and missing). That is no data, not a 0 to rank.
    nothing = Figures(counts={"insurance": (0, 4), "drills": (0, 1)})
    only_insurance = Scheme({"insurance": 100}, BANDS)

    assert compute_score(1, nothing, DEFAULTS).total is None
    # A scheme that weighs only the insurance scores on it: 2 of 4 policies is 50.
    half = Figures(counts={"insurance": (2, 4)})
    assert compute_score(1, half, only_insurance).total == 50.0


def test_weights_that_do_not_add_up_to_100_are_scaled_to_100() -> None:
    scheme = Scheme({"on_time": 1, "flags": 3}, BANDS)
    figures = Figures(counts={"on_time": (1, 2), "flags": (1, 1)})

    # on_time is worth 100 × 1/4 = 25 and earns half: 12.5; flags 75 of 75: 87.5 in all
    assert compute_score(1, figures, scheme).total == 87.5


@pytest.mark.parametrize(
    ("good", "band"), [(100, "A"), (90, "A"), (89, "B"), (75, "B"), (60, "C"), (59, "D")]
)
def test_the_band_follows_the_thresholds(good: int, band: str) -> None:
    scheme = Scheme({"on_time": 100}, BANDS)
    assert compute_score(1, Figures(counts={"on_time": (good, 100)}), scheme).band == band


def test_the_ranking_puts_the_best_first_and_equal_scores_share_a_rank() -> None:
    scheme = Scheme({"on_time": 100}, BANDS)
    schools = [School(id=i, code=code, name=code) for i, code in enumerate("DCBA", start=1)]
    scores = [
        (school, compute_score(school.id, Figures(counts={"on_time": (good, 10)}), scheme))
        for school, good in zip(schools, (7, 9, 9, 10), strict=True)
    ]

    ranked = [(r.rank, r.school.code, r.score.total) for r in rank(scores)]

    assert ranked == [(1, "A", 100.0), (2, "B", 90.0), (2, "C", 90.0), (4, "D", 70.0)]


def test_editing_the_weights_makes_a_new_version_and_the_old_one_stays(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    district_admin = make_district_admin(session, clock, school)
    assert current_scheme(session, school.district_id, DEFAULTS).version == 0

    first = save_scheme(session, district_admin, school.district, DEFAULTS, now=clock.now())
    same = save_scheme(session, district_admin, school.district, DEFAULTS, now=clock.now())
    heavier = Scheme({**WEIGHTS, "drills": 40}, BANDS)
    second = save_scheme(session, district_admin, school.district, heavier, now=clock.now())

    assert (first.version, same.version, second.version) == (1, 1, 2)
    assert current_scheme(session, school.district_id, DEFAULTS).weights["drills"] == 40
    old = scheme_version(session, school.district_id, 1)
    assert old is not None and old.weights["drills"] == 10


def test_only_district_administrators_edit_the_scheme(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    school_admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")

    with pytest.raises(SchemeRefused):
        save_scheme(session, school_admin, school.district, DEFAULTS, now=clock.now())
    with pytest.raises(SchemeRefused):
        bad_bands = Scheme(WEIGHTS, {"A": 50, "B": 75, "C": 60})
        save_scheme(
            session,
            make_district_admin(session, clock, school),
            school.district,
            bad_bands,
            now=clock.now(),
        )


def _tasks(session: Session, clock: SettableClock, school: School, done: int, missed: int) -> None:
    asset = make_asset(session, clock, school, AssetKind.EXTINGUISHER, f"MHQ-{school.code}")
    duty = Duty(
        district_id=school.district_id,
        asset_kind=AssetKind.EXTINGUISHER,
        template_key="extinguisher_monthly",
        rule={},
        created_at=clock.now(),
    )
    session.add(duty)
    session.flush()
    for n in range(done + missed):
        due = datetime(2026, 3, 2 + n, 10, tzinfo=UTC)
        session.add(
            Task(
                duty_id=duty.id,
                asset_id=asset.id,
                school_id=school.id,
                template_key=duty.template_key,
                opens_at=due - timedelta(hours=2),
                due_at=due,
                closes_at=due,
                state=TaskState.DONE if n < done else TaskState.MISSED,
                done_at=due - timedelta(hours=1) if n < done else None,
                current=False,
            )
        )
    session.flush()


def test_figures_count_the_schools_tasks_and_actions_and_the_ranking_shows_only_visible_ones(
    session: Session, clock: SettableClock
) -> None:
    first = make_school(session, "S1", "实验小学")
    second = make_school(session, "S2", "第二小学", district=first.district)
    _tasks(session, clock, first, done=3, missed=1)
    _tasks(session, clock, second, done=4, missed=0)
    late = CorrectiveAction(
        school_id=first.id,
        asset_id=session.scalars(select(Task.asset_id).where(Task.school_id == first.id)).first(),
        item_key="gauge",
        what={"zh_CN": "压力不足"},
        severity="major",
        opened_at=datetime(2026, 3, 3, tzinfo=UTC),
        due_at=datetime(2026, 3, 5, tzinfo=UTC),
        closed_at=datetime(2026, 3, 6, tzinfo=UTC),
        status="closed",
    )
    session.add(late)
    session.flush()
    now = datetime(2026, 4, 2, tzinfo=UTC)
    scheme = Scheme({"on_time": 30, "actions_fixed": 10}, BANDS)

    score, figures = school_score(session, first, MARCH, scheme, now)

    # on time 3 of 4: 75 × 3/4 = 56.25; the only action fixed a day late: 0 of 25 → 56.3
    assert figures.counts["on_time"] == (3, 4)
    assert figures.counts["actions_fixed"] == (0, 1)
    assert figures.duties == {"extinguisher_monthly": (3, 4)}
    assert score.total == 56.3
    district = make_district_admin(session, clock, first)
    ranked = district_ranking(session, district, first.district, MARCH, scheme, now)
    assert [(r.rank, r.school.code) for r in ranked] == [(1, "S2"), (2, "S1")]
    school_admin = make_person(session, clock, second, Role.SCHOOL_ADMIN, "admin2")
    mine = district_ranking(session, school_admin, first.district, MARCH, scheme, now)
    assert [r.school.code for r in mine] == ["S2"]


def test_a_task_done_after_its_due_time_counts_as_late_not_on_time(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session, "S1", "实验小学")
    _tasks(session, clock, school, done=2, missed=0)
    first = session.scalars(select(Task).where(Task.school_id == school.id)).first()
    assert first is not None
    first.done_at = first.due_at + timedelta(minutes=5)
    session.flush()
    scheme = Scheme({"on_time": 100}, BANDS)

    _, figures = school_score(session, school, MARCH, scheme, datetime(2026, 4, 2, tzinfo=UTC))

    assert figures.counts["on_time"] == (1, 2)


def test_the_dashboards_score_is_the_breakdowns_score_over_the_same_days(
    session: Session, clock: SettableClock
) -> None:
    from models.dashboard import Span, school_dashboard
    from models.score import dashboard_scores
    from models.trips import Trip, TripStatus
    from tests.factories import make_record_row, make_task

    school = make_school(session, "S1", "实验小学")
    staff = make_person(session, clock, school, Role.INSPECTOR, "staff")
    extinguisher = make_asset(session, clock, school, AssetKind.EXTINGUISHER, "MHQ-001")
    at = [datetime(2026, 3, day, 9, tzinfo=UTC) for day in range(2, 8)]
    make_task(session, extinguisher, at[0], "done", done_at=at[0])
    make_task(session, extinguisher, at[1], "done", done_at=at[1] + timedelta(hours=1))  # late
    make_task(session, extinguisher, at[2], "missed")
    original = make_record_row(session, extinguisher, staff, at[0])
    make_record_row(session, extinguisher, staff, at[1], same_photo_as=original)
    bus = make_asset(session, clock, school, AssetKind.BUS, "BUS-1")
    departure = make_record_row(session, bus, staff, at[3], template_key="bus_departure")
    session.add(
        Trip(
            school_id=school.id,
            bus_id=bus.id,
            teacher_id=staff.id,
            status=TripStatus.NO_ARRIVAL,
            departed_at=at[3],
            boarded=19,
            departure_record_id=departure.id,
        )
    )
    session.add(
        CorrectiveAction(
            school_id=school.id,
            asset_id=extinguisher.id,
            item_key="gauge",
            what={"zh_CN": "压力不足"},
            severity="major",
            opened_at=at[0],
            due_at=at[4],
            closed_at=at[5],
            status="closed",
        )
    )
    session.flush()
    now = datetime(2026, 3, 20, 2, tzinfo=UTC)
    span = Span(date(2026, 3, 1), date(2026, 3, 20))
    board = school_dashboard(session, [school], span, now=now).schools

    shown = dashboard_scores(
        session, board, Period(PeriodKind.RANGE, span.first, span.last), DEFAULTS, now
    )
    score, _ = school_score(
        session, school, Period(PeriodKind.RANGE, span.first, span.last), DEFAULTS, now
    )

    assert shown[school.id] == score
    # 1 of 3 on time, no action fixed in time, no staff needing certificates, no insurance (the
    # school's and the bus's), no drill, the one trip alerted, 2 of 3 records unflagged.
    assert {line.key: (line.good, line.of) for line in score.lines if line.measured} == {
        "on_time": (1, 3),
        "actions_fixed": (0, 1),
        "insurance": (0, score.lines[3].of),
        "drills": (0, 1),
        "trips": (0, 1),
        "flags": (2, 3),
    }
