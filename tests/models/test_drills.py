"""Fire drills by the one rule: how many are due over a stretch of days, and the dashboard
and the score agreeing on a school's drills held and due."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from models.assets import AssetKind
from models.clock import SettableClock
from models.dashboard import Span, school_dashboard
from models.drills import drill_window, drills_due
from models.people import Role
from models.periods import Period, PeriodKind
from models.score import Scheme, school_score
from tests.factories import make_asset, make_person, make_record_row, make_school

NOW = datetime(2026, 9, 30, 4, 0, tzinfo=UTC)  # noon on 30 September in Shanghai


def test_a_month_looks_back_half_a_year_and_a_year_owes_three_drills_at_180_days() -> None:
    # A month is shorter than the interval: its window is the 180 days up to its last day.
    assert drill_window(date(2026, 9, 1), date(2026, 9, 30)) == (
        date(2026, 4, 4),
        date(2026, 9, 30),
    )
    assert drills_due(date(2026, 9, 1), date(2026, 9, 30)) == 1
    # 365 days: two whole intervals and a third begun.
    assert drills_due(date(2026, 1, 1), date(2026, 12, 31)) == 3
    assert drills_due(date(2026, 1, 1), date(2026, 12, 31), every_days=182) == 3
    assert drills_due(date(2026, 1, 1), date(2026, 6, 29)) == 1  # 180 days exactly


def test_the_dashboard_and_the_score_count_the_same_drills(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session, "S1", "实验小学")
    staff = make_person(session, clock, school, Role.INSPECTOR, "staff")
    office = make_asset(session, clock, school, AssetKind.SCHOOL_OFFICE, code="BGS", name="后勤办")
    # One drill in May (inside the half-year before the month), one in August, one long ago.
    for at in (datetime(2026, 5, 6, 2, tzinfo=UTC), datetime(2026, 8, 20, 2, tzinfo=UTC)):
        make_record_row(session, office, staff, at, template_key="fire_drill")
    make_record_row(
        session, office, staff, datetime(2025, 9, 1, 2, tzinfo=UTC), template_key="fire_drill"
    )
    scheme = Scheme({"drills": 100}, {"A": 90, "B": 75, "C": 60}, drill_every_days=120)

    counted = []
    for first in (date(2026, 9, 1), date(2026, 1, 1)):
        span = Span(first, date(2026, 9, 30))
        board = school_dashboard(
            session, [school], span, now=NOW, drill_every_days=scheme.drill_every_days
        ).schools[0]
        period = Period(PeriodKind.RANGE, span.first, span.last)
        score, figures = school_score(session, school, period, scheme, NOW)

        assert figures.counts["drills"] == (board.drills_held, board.drills_due)
        counted.append((figures.counts["drills"], score.total))
    # September: the 120 days back to 3 June hold the August drill, of 1 due (100 points);
    # since January: 273 days owe 3 drills and hold 2, May and August (66.7 points).
    assert counted == [((1, 1), 100.0), ((2, 3), 66.7)]
