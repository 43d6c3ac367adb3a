"""Accompanied meals (陪餐): a school leader at every meal on school days, each meal its own
task, a missed meal a missed task; a parent's accompanied meal is its own short record."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.actions import CorrectiveAction
from models.assets import Asset, AssetKind
from models.clock import SettableClock
from models.duties import MEAL_TIMES, Duty, Task, ensure_builtin_duties, set_boarding
from models.messages import SubmissionInvalid
from models.org import School
from models.people import Person, Role
from models.photos import PhotoStore
from models.records import Channel, Record, submit_record
from models.recurrence import Calendar, Frequency, Rule
from models.sweep import sweep
from tests.factories import cst, make_asset, make_boarding_school, make_person, template_for

MEAL = "canteen_accompanied_meal"
PARENT = "canteen_parent_meal"
SHANGHAI = Calendar("Asia/Shanghai")
PER_MEAL = Rule(Frequency.DAILY, time(12, 30), school_days_only=True, meal_times=MEAL_TIMES)


def test_a_day_has_one_window_per_meal_cut_halfway_between_meals() -> None:
    breakfast = SHANGHAI.window_at(PER_MEAL, cst(2, 7, 0))
    assert breakfast is not None
    lunch = SHANGHAI.window_after(PER_MEAL, breakfast)
    assert lunch is not None
    dinner = SHANGHAI.window_after(PER_MEAL, lunch)
    assert dinner is not None
    tomorrow = SHANGHAI.window_after(PER_MEAL, dinner)
    assert tomorrow is not None

    assert (breakfast.due_at, breakfast.closes_at) == (cst(2, 8, 0), cst(2, 10, 15))
    assert (lunch.opens_at, lunch.due_at, lunch.closes_at) == (
        cst(2, 10, 15),
        cst(2, 12, 30),
        cst(2, 15, 30),
    )
    assert (dinner.due_at, dinner.closes_at) == (cst(2, 18, 30), cst(3, 0, 0))
    assert (tomorrow.opens_at, tomorrow.due_at) == (cst(3, 0, 0), cst(3, 8, 0))
    assert SHANGHAI.window_at(PER_MEAL, cst(2, 13, 0)) == lunch


def test_meal_times_are_kept_with_the_rule_and_must_be_in_order() -> None:
    assert Rule.from_json(PER_MEAL.to_json()) == PER_MEAL
    assert "meal_times" not in Rule(Frequency.DAILY).to_json()
    backwards = Rule(Frequency.DAILY, meal_times=(time(18, 0), time(12, 0)))
    assert set(backwards.problems()) == {"meal_times"}


def _meal(leader: Person, meal: str, **changes: str) -> dict[str, str]:
    return {
        "meal": meal,
        "leader": str(leader.id),
        "dishes": "米饭、红烧鸡块、炒青菜",
        "appearance": "good",
        "taste": "good",
        "portion": "fair",
        "problems_found": "no",
        **changes,
    }


@pytest.fixture
def canteen(
    session: Session, clock: SettableClock, canteen_school: tuple[School, Person, Person]
) -> Asset:
    school, admin, _ = canteen_school
    return make_asset(session, clock, school, AssetKind.CANTEEN, "ST-01", "食堂", responsible=admin)


@pytest.fixture
def three_meals(session: Session, canteen: Asset) -> None:
    """A school serving breakfast, lunch and dinner (a boarding school) sets all three meals;
    the built-in schedule asks for lunch."""
    district = canteen.school.district
    [duty] = [
        d
        for d in ensure_builtin_duties(session, district, now=cst(1, 6, 0))
        if d.template_key == MEAL
    ]
    duty.rule = PER_MEAL.to_json()
    session.flush()


def _file(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    actor: Person,
    canteen: Asset,
    key: str,
    answers: dict[str, str],
    at: datetime,
) -> Record:
    clock.set(at)
    return submit_record(
        session,
        actor=actor,
        asset=canteen,
        template=template_for(session, key),
        answers=answers,
        uploads=[],
        key=f"meal-{at.isoformat()}",
        channel=Channel.WEB,
        clock=clock,
        store=store,
    ).record


def _meal_tasks(session: Session, canteen: Asset) -> list[tuple[datetime, str]]:
    tasks = session.scalars(
        select(Task)
        .where(Task.asset_id == canteen.id, Task.template_key == MEAL)
        .order_by(Task.due_at)
    )
    return [(t.due_at.astimezone(UTC), t.state) for t in tasks]


def test_every_meal_of_a_school_day_is_a_task_and_a_meal_nobody_ate_with_is_missed(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    canteen_school: tuple[School, Person, Person],
    canteen: Asset,
    three_meals: None,
) -> None:
    _, admin, _ = canteen_school
    sweep(session, now=cst(2, 6, 0))  # Monday morning
    sweep(session, now=cst(2, 10, 30))
    _file(session, clock, store, admin, canteen, MEAL, _meal(admin, "lunch"), cst(2, 12, 40))
    for hour in (16, 23):
        sweep(session, now=cst(2, hour, 30))
    sweep(session, now=cst(3, 1, 0))

    assert _meal_tasks(session, canteen)[:4] == [
        (cst(2, 8, 0), "missed"),
        (cst(2, 12, 30), "done"),
        (cst(2, 18, 30), "missed"),
        (cst(3, 8, 0), "open"),
    ]


def test_no_accompanied_meal_is_due_at_the_weekend(
    session: Session, canteen: Asset, clock: SettableClock, three_meals: None
) -> None:
    sweep(session, now=cst(6, 20, 0))  # Friday evening
    sweep(session, now=cst(7, 12, 0))  # Saturday noon

    assert [due for due, _ in _meal_tasks(session, canteen)] == [cst(6, 18, 30), cst(9, 8, 0)]


def test_a_poor_meal_fails_with_the_problem_and_how_it_was_handled(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    canteen_school: tuple[School, Person, Person],
    canteen: Asset,
) -> None:
    _, admin, _ = canteen_school
    answers = _meal(
        admin,
        "dinner",
        taste="poor",
        problems_found="yes",
        problems="青菜偏咸",
        handling="已告知厨师长，明日减盐",
    )

    record = _file(session, clock, store, admin, canteen, MEAL, answers, cst(2, 18, 20))

    assert record.failed_items == ["taste"]
    assert record.answers["leader"] == {"id": admin.id, "name": admin.display_name}
    assert record.answers["handling"] == "已告知厨师长，明日减盐"


def test_a_parents_accompanied_meal_keeps_their_feedback_and_no_task_waits_for_it(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    canteen_school: tuple[School, Person, Person],
    canteen: Asset,
) -> None:
    _, admin, _ = canteen_school
    sweep(session, now=cst(2, 6, 0))
    answers = {
        "meal": "lunch",
        "parent": "王芳（三年级二班王小明家长）",
        "satisfaction": "fair",
        "feedback": "米饭有点硬",
        "reply": "已调整蒸饭时间",
    }

    record = _file(session, clock, store, admin, canteen, PARENT, answers, cst(2, 12, 40))

    assert record.passed
    assert record.answers["feedback"] == "米饭有点硬"
    assert not session.scalars(select(Task).where(Task.template_key == PARENT)).all()


def test_the_built_in_schedule_asks_for_lunch_only_so_a_day_school_misses_no_other_meal(
    session: Session, canteen: Asset
) -> None:
    sweep(session, now=cst(2, 6, 0))
    for hour in (10, 16, 23):
        sweep(session, now=cst(2, hour, 30))
    sweep(session, now=cst(3, 13, 0))

    assert [due for due, _ in _meal_tasks(session, canteen)][:2] == [cst(2, 12, 30), cst(3, 12, 30)]


def test_a_dissatisfied_parent_fails_the_record_so_the_school_must_answer_them(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    canteen_school: tuple[School, Person, Person],
    canteen: Asset,
) -> None:
    _, admin, _ = canteen_school
    answers = {
        "meal": "lunch",
        "parent": "王芳",
        "satisfaction": "dissatisfied",
        "feedback": "菜太咸",
        "reply": "已告知厨师长减盐，次日回访家长",
    }

    record = _file(session, clock, store, admin, canteen, PARENT, answers, cst(2, 12, 40))

    assert not record.passed
    assert record.failed_items == ["satisfaction"]
    [action] = session.scalars(
        select(CorrectiveAction).where(CorrectiveAction.record_id == record.id)
    ).all()
    assert action.what["zh_CN"] == "陪餐家长不满意，须研究整改并反馈"


def test_a_dissatisfied_parent_without_a_comment_or_the_schools_answer_is_refused_at_each(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    canteen_school: tuple[School, Person, Person],
    canteen: Asset,
) -> None:
    _, admin, _ = canteen_school
    answers = {"meal": "lunch", "parent": "王芳", "satisfaction": "dissatisfied"}

    with pytest.raises(SubmissionInvalid) as refused:
        _file(session, clock, store, admin, canteen, PARENT, answers, cst(2, 12, 40))

    assert set(refused.value.errors) == {"feedback", "reply"}
    message = refused.value.errors["reply"]
    assert message.params == {
        "item": {"zh_CN": "家长评价", "en": "The parent's rating"},
        "answer": {"zh_CN": "不满意", "en": "Dissatisfied"},
    }
    assert not session.scalars(select(Record)).all()


SAMPLE = "canteen_food_sample_retention"


def _tasks(session: Session, asset: Asset, key: str) -> list[tuple[datetime, str]]:
    tasks = session.scalars(
        select(Task)
        .where(Task.asset_id == asset.id, Task.template_key == key)
        .order_by(Task.due_at, Task.id)
    )
    return [(t.due_at.astimezone(UTC), t.state) for t in tasks]


def test_a_boarding_school_owes_the_accompanied_meal_and_the_samples_at_all_three_meals(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    canteen_school: tuple[School, Person, Person],
    canteen: Asset,
) -> None:
    school, _, _ = canteen_school
    boarding = make_boarding_school(session, "B1", district=school.district)
    head = make_person(session, clock, boarding, Role.SCHOOL_ADMIN, "head")
    hall = make_asset(session, clock, boarding, AssetKind.CANTEEN, "ST-B1", "寄宿生食堂")
    for hour in (6, 10):
        sweep(session, now=cst(2, hour, 30))
    _file(session, clock, store, head, hall, MEAL, _meal(head, "lunch"), cst(2, 12, 40))
    for hour in (16, 23):
        sweep(session, now=cst(2, hour, 30))
    sweep(session, now=cst(3, 1, 0))

    assert _tasks(session, hall, MEAL)[:4] == [
        (cst(2, 8, 0), "missed"),
        (cst(2, 12, 30), "done"),
        (cst(2, 18, 30), "missed"),
        (cst(3, 8, 0), "open"),
    ]
    assert [due for due, _ in _tasks(session, hall, SAMPLE)][:3] == [
        cst(2, 8, 30),
        cst(2, 13, 0),
        cst(2, 19, 0),
    ]
    # The day school of the same district keeps lunch only.
    assert [due for due, _ in _tasks(session, canteen, MEAL)][:2] == [
        cst(2, 12, 30),
        cst(3, 12, 30),
    ]
    assert [due for due, _ in _tasks(session, canteen, SAMPLE)][:2] == [
        cst(2, 13, 0),
        cst(3, 13, 0),
    ]


def test_marking_a_school_boarding_adds_breakfast_and_dinner_and_unmarking_takes_them_away(
    session: Session,
    clock: SettableClock,
    canteen_school: tuple[School, Person, Person],
    canteen: Asset,
) -> None:
    school, admin, _ = canteen_school
    sweep(session, now=cst(2, 6, 0))
    assert _tasks(session, canteen, MEAL) == [(cst(2, 12, 30), "open")]

    set_boarding(session, admin, school, True, now=cst(2, 6, 5))
    sweep(session, now=cst(2, 6, 10))
    open_now = [(due, state) for due, state in _tasks(session, canteen, MEAL) if state == "open"]
    assert open_now == [(cst(2, 8, 0), "open")]
    assert [due for due, s in _tasks(session, canteen, SAMPLE) if s == "open"] == [cst(2, 8, 30)]

    set_boarding(session, admin, school, False, now=cst(2, 6, 15))
    sweep(session, now=cst(2, 6, 20))
    assert [due for due, s in _tasks(session, canteen, MEAL) if s == "open"] == [cst(2, 12, 30)]
    assert [due for due, s in _tasks(session, canteen, SAMPLE) if s == "open"] == [cst(2, 13, 0)]

    # Boarding again: its own meal schedules come back, not a second one of each.
    set_boarding(session, admin, school, True, now=cst(2, 6, 25))
    sweep(session, now=cst(2, 6, 30))
    assert [due for due, s in _tasks(session, canteen, MEAL) if s == "open"] == [cst(2, 8, 0)]
    school_duties = session.scalars(
        select(Duty.template_key).where(Duty.school_id == school.id).order_by(Duty.template_key)
    ).all()
    assert school_duties == [MEAL, SAMPLE]


def test_a_boarding_school_that_switches_its_three_meal_samples_off_is_not_given_them_again(
    session: Session,
    canteen_school: tuple[School, Person, Person],
    canteen: Asset,
) -> None:
    school, admin, _ = canteen_school
    set_boarding(session, admin, school, True, now=cst(1, 6, 0))
    [samples] = session.scalars(
        select(Duty).where(Duty.school_id == school.id, Duty.template_key == SAMPLE)
    ).all()
    samples.active = False
    session.flush()

    sweep(session, now=cst(2, 6, 0))

    assert session.scalars(
        select(Duty.id).where(Duty.school_id == school.id, Duty.template_key == SAMPLE)
    ).all() == [samples.id]
    # The district's lunch-only schedule covers the canteen again.
    assert [due for due, s in _tasks(session, canteen, SAMPLE) if s == "open"] == [cst(2, 13, 0)]
    assert [due for due, s in _tasks(session, canteen, MEAL) if s == "open"] == [cst(2, 8, 0)]
