"""A schedule below its checklist's statutory minimum is saved only when confirmed, remembers
who confirmed it, and is listed for the dashboard."""

from __future__ import annotations

from dataclasses import replace
from datetime import time

import pytest
from sqlalchemy.orm import Session

from models.checklists import save_template_version
from models.clock import SettableClock
from models.duties import (
    BelowMinimum,
    DutyFields,
    add_duty,
    below_minimum,
    schedules_below_minimum,
    update_duty,
)
from models.org import School
from models.people import Person, Role
from models.recurrence import Frequency, Rule, longest_gap
from tests.factories import make_asset, make_person, make_school, template_for

BASIS = {"zh_CN": "《消防器材规定》第五条", "en": "Fire equipment rule, art. 5"}
WEEKLY_FRIDAY = Rule(Frequency.WEEKLY, time(17, 0), weekdays=(4,))
QUARTERLY = Rule(Frequency.QUARTERLY, time(17, 0))
MONTHLY = Rule(Frequency.MONTHLY, time(17, 0), day=25)


def _fields(rule: Rule) -> DutyFields:
    return DutyFields(
        rule=rule, remind_before=60, escalate_school_after=24 * 60, escalate_district_after=72 * 60
    )


@pytest.fixture
def school(session: Session, clock: SettableClock) -> School:
    """A school whose extinguisher check names a rule that asks for it at least monthly."""
    spec = template_for(session, "extinguisher_monthly").spec
    save_template_version(
        session, replace(spec, basis=BASIS, minimum_frequency="monthly"), now=clock.now()
    )
    school = make_school(session)
    make_asset(session, clock, school)
    return school


@pytest.fixture
def admin(session: Session, clock: SettableClock, school: School) -> Person:
    return make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")


@pytest.mark.parametrize(
    ("rule", "days"),
    [
        (Rule(Frequency.DAILY, school_days_only=True), 1),
        (Rule(Frequency.WEEKLY, weekdays=(0, 1, 2, 3, 4)), 1),
        (Rule(Frequency.WEEKLY, weekdays=(0, 3)), 4),
        (WEEKLY_FRIDAY, 7),
        (Rule(Frequency.EVERY_N_DAYS, every_days=10), 10),
        (MONTHLY, 31),
        (QUARTERLY, 92),
        (Rule(Frequency.YEARLY), 366),
    ],
)
def test_a_recurrence_is_measured_by_the_longest_gap_it_leaves(rule: Rule, days: int) -> None:
    assert longest_gap(rule) == days


def test_every_meal_needs_every_school_day_and_six_monthly_allows_no_yearly_schedule(
    session: Session,
) -> None:
    spec = template_for(session, "extinguisher_monthly").spec
    per_meal = replace(spec, minimum_frequency="every_meal")
    assert not below_minimum(Rule(Frequency.DAILY, school_days_only=True), per_meal)
    assert below_minimum(Rule(Frequency.WEEKLY, weekdays=(0, 2, 4)), per_meal)
    half_year = replace(spec, minimum_frequency="every_6_months")
    assert not below_minimum(QUARTERLY, half_year)
    assert below_minimum(Rule(Frequency.YEARLY), half_year)
    assert not below_minimum(Rule(Frequency.YEARLY), replace(spec, minimum_frequency=None))


def test_a_quarterly_schedule_for_a_monthly_check_is_refused_naming_the_rule_and_minimum(
    session: Session, clock: SettableClock, school: School, admin: Person
) -> None:
    with pytest.raises(BelowMinimum) as refused:
        add_duty(
            session,
            admin,
            template_key="extinguisher_monthly",
            fields=_fields(QUARTERLY),
            school=school,
            now=clock.now(),
        )

    params = refused.value.message.params
    assert params["basis"] == BASIS
    assert params["minimum"] == {"zh_CN": "每月", "en": "every month"}
    assert schedules_below_minimum(session, admin) == []


def test_a_confirmed_schedule_below_the_minimum_remembers_who_and_when_and_is_listed(
    session: Session, clock: SettableClock, school: School, admin: Person
) -> None:
    duty = add_duty(
        session,
        admin,
        template_key="extinguisher_monthly",
        fields=_fields(QUARTERLY),
        school=school,
        now=clock.now(),
        confirm_below_minimum=True,
    )
    session.flush()

    assert (duty.below_minimum_confirmed_by, duty.below_minimum_confirmed_at) == (
        admin,
        clock.now(),
    )
    assert schedules_below_minimum(session, admin) == [duty]
    assert schedules_below_minimum(session, admin, school=school) == [duty]
    other = make_school(session, code="S2")
    outsider = make_person(session, clock, other, Role.SCHOOL_ADMIN, "outsider")
    assert schedules_below_minimum(session, outsider) == []


def test_bringing_the_schedule_back_to_the_minimum_takes_it_off_the_list(
    session: Session, clock: SettableClock, school: School, admin: Person
) -> None:
    duty = add_duty(
        session,
        admin,
        template_key="extinguisher_monthly",
        fields=_fields(QUARTERLY),
        school=school,
        now=clock.now(),
        confirm_below_minimum=True,
    )

    update_duty(session, admin, duty, _fields(MONTHLY), now=clock.now())
    session.flush()

    assert duty.below_minimum_confirmed_at is None
    assert schedules_below_minimum(session, admin) == []
    with pytest.raises(BelowMinimum):
        update_duty(session, admin, duty, _fields(QUARTERLY), now=clock.now())
