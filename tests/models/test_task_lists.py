"""A person's task list and reminders follow who files each checklist: canteen staff are not
shown the head's 陪餐, the food-safety officer is; a boarding school's dorm manager is shown the
dorm tasks its head keeps; and the sweep reminds exactly the people whose list shows a task."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.assets import Asset, AssetKind
from models.checklist_roles import set_filing_roles
from models.clock import SettableClock
from models.duties import Task, ensure_builtin_duties
from models.notifications import Notification
from models.org import School
from models.people import Person, Role
from models.sweep import REMIND, sweep
from models.task_lists import due_now, task_page, tasks_for
from tests.factories import cst, make_asset, make_person, make_school, template_for

MEAL = "canteen_accompanied_meal"
SAMPLE = "canteen_food_sample_retention"
DORM = "dorm_room_disinfection"


@pytest.fixture
def school(session: Session, clock: SettableClock) -> School:
    school = make_school(session)
    ensure_builtin_duties(session, school.district, now=clock.now())
    return school


def _keys(tasks: list[Task], asset: Asset) -> set[str]:
    return {t.template_key for t in tasks if t.asset_id == asset.id}


def _shown(session: Session, person: Person, asset: Asset) -> set[str]:
    return _keys(tasks_for(session, person, now=cst(2, 10, 0), mine=True), asset)


def test_canteen_staff_are_not_shown_the_meal_the_head_eats_and_the_food_safety_officer_is(
    session: Session, clock: SettableClock, school: School
) -> None:
    cook = make_person(session, clock, school, Role.CANTEEN_STAFF, "cook")
    officer = make_person(session, clock, school, Role.FOOD_SAFETY_OFFICER, "officer")
    canteen = make_asset(session, clock, school, AssetKind.CANTEEN, "ST-01", "食堂", cook)
    sweep(session, now=cst(2, 6, 0))

    cooks = _shown(session, cook, canteen)
    assert SAMPLE in cooks and MEAL not in cooks
    # The cook keeps the samples, so they are the cook's; the meal nobody there files is the
    # officer's, and so is the yearly model-canteen review.
    assert _shown(session, officer, canteen) == {MEAL, "canteen_model_review"}


def test_dorm_rooms_the_head_keeps_are_shown_to_the_dorm_manager_and_still_to_the_head(
    session: Session, clock: SettableClock, school: School
) -> None:
    head = make_person(session, clock, school, Role.SCHOOL_ADMIN, "head")
    manager = make_person(session, clock, school, Role.DORM_STAFF, "manager")
    cook = make_person(session, clock, school, Role.CANTEEN_STAFF, "cook")
    room = make_asset(session, clock, school, AssetKind.DORM_ROOM, "SS-101", "101室", head)
    sweep(session, now=cst(2, 6, 0))

    dorm_checks = {
        t.template_key for t in session.scalars(select(Task).where(Task.asset_id == room.id))
    }
    assert DORM in dorm_checks
    assert _shown(session, manager, room) == dorm_checks
    assert _shown(session, head, room) == dorm_checks
    assert _shown(session, cook, room) == set()
    # The bot's /due and the web's paged list read the same rule.
    at = cst(2, 10, 0)
    assert _keys(task_page(session, manager, now=at, mine=True).items, room) == dorm_checks
    assert DORM in {
        t.template_key for t in due_now(session, manager, now=at + timedelta(hours=9)).items
    }


def test_a_district_choosing_who_files_a_checklist_moves_it_to_their_lists(
    session: Session, clock: SettableClock, school: School
) -> None:
    cook = make_person(session, clock, school, Role.CANTEEN_STAFF, "cook")
    officer = make_person(session, clock, school, Role.FOOD_SAFETY_OFFICER, "officer")
    district_admin = make_person(session, clock, school, Role.DISTRICT_ADMIN, "district")
    canteen = make_asset(session, clock, school, AssetKind.CANTEEN, "ST-01", "食堂", cook)
    sweep(session, now=cst(2, 6, 0))
    assert SAMPLE not in _shown(session, officer, canteen)

    set_filing_roles(
        session,
        district_admin,
        district_id=school.district_id,
        template=template_for(session, SAMPLE),
        roles=["food_safety_officer"],
        now=clock.now(),
    )

    assert SAMPLE not in _shown(session, cook, canteen)
    assert SAMPLE in _shown(session, officer, canteen)


def test_the_sweep_reminds_the_people_whose_list_shows_the_task_and_nobody_else(
    session: Session, clock: SettableClock, school: School
) -> None:
    cook = make_person(session, clock, school, Role.CANTEEN_STAFF, "cook")
    officer = make_person(session, clock, school, Role.FOOD_SAFETY_OFFICER, "officer")
    gone = make_person(session, clock, school, Role.FOOD_SAFETY_OFFICER, "gone")
    gone.active = False
    canteen = make_asset(session, clock, school, AssetKind.CANTEEN, "ST-01", "食堂", cook)
    sweep(session, now=cst(2, 6, 0))
    sweep(session, now=cst(2, 11, 45))  # an hour before lunch is due: the meal's reminder

    reminded = {
        n.recipient_id
        for n in session.scalars(select(Notification).where(Notification.message == REMIND))
        if "陪餐" in n.text
    }
    assert reminded == {officer.id}
    assert MEAL in _shown(session, officer, canteen)
    assert MEAL not in _shown(session, cook, canteen)
