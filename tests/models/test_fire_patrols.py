"""The fire patrols and checks 公安部令第61号 asks of a school: the daily patrol everywhere, the
night patrol at boarding schools only, the monthly and quarterly fire checks; both patrols in
the monthly fire record."""

from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.assets import Asset, AssetKind
from models.clock import SettableClock
from models.duties import (
    Duty,
    DutyFields,
    DutyRefused,
    Task,
    TaskState,
    add_duty,
    ensure_builtin_duties,
    set_boarding,
)
from models.food_safety import ReportKind, build_report
from models.org import School
from models.people import Person, Role
from models.photos import PhotoStore
from models.records import Channel, submit_record
from models.recurrence import Frequency, Rule
from models.sweep import sweep
from tests.factories import (
    NIGHT_PATROL,
    NIGHT_PATROL_OK,
    PATROL,
    PATROL_OK,
    cst,
    make_asset,
    make_boarding_school,
    make_district_admin,
    make_person,
    make_school,
    template_for,
)

FIRE_DUTIES = (PATROL, NIGHT_PATROL, "fire_monthly_check", "fire_quarterly_check")


class Schools:
    """A day school and a boarding school of one district, each with its logistics office;
    only the fire duties scheduled."""

    def __init__(self, session: Session, clock: SettableClock, store: PhotoStore) -> None:
        self.session, self.clock, self.store = session, clock, store
        clock.set(cst(1, 12))
        self.day_school = make_school(session, "S1", name="实验小学")
        self.boarding = make_boarding_school(
            session, "B1", name="山区寄宿制学校", district=self.day_school.district
        )
        self.admin = make_person(session, clock, self.boarding, Role.SCHOOL_ADMIN, "admin")
        self.patroller = make_person(session, clock, self.boarding, Role.INSPECTOR, "patroller")
        self.district_admin = make_district_admin(session, clock, self.day_school)
        self.offices = {
            school.code: make_asset(
                session, clock, school, AssetKind.SCHOOL_OFFICE, f"HQ-{school.code}", "后勤办公室"
            )
            for school in (self.day_school, self.boarding)
        }
        for duty in ensure_builtin_duties(session, self.day_school.district, now=clock.now()):
            duty.active = duty.template_key in FIRE_DUTIES
        session.flush()

    def sweep(self, day: int, hour: int = 0, minute: int = 5) -> None:
        self.clock.set(cst(day, hour, minute))
        sweep(self.session, now=self.clock.now())
        self.session.flush()

    def current_tasks(self, school: School, key: str) -> list[Task]:
        return list(
            self.session.scalars(
                select(Task).where(
                    Task.school_id == school.id, Task.template_key == key, Task.current
                )
            )
        )

    def file(self, person: Person, asset: Asset, key: str, answers: dict[str, str], n: int) -> None:
        submit_record(
            self.session,
            actor=person,
            asset=asset,
            template=template_for(self.session, key),
            answers=answers,
            uploads=[],
            key=f"patrol-{n}",
            channel=Channel.WEB,
            clock=self.clock,
            store=self.store,
        )


@pytest.fixture
def schools(session: Session, clock: SettableClock, store: PhotoStore) -> Schools:
    return Schools(session, clock, store)


def test_only_the_boarding_school_gets_a_night_patrol_after_dark(schools: Schools) -> None:
    schools.sweep(2)  # Monday 2 March 2026

    [day_patrol] = schools.current_tasks(schools.day_school, PATROL)
    assert schools.current_tasks(schools.day_school, NIGHT_PATROL) == []
    [boarding_patrol] = schools.current_tasks(schools.boarding, PATROL)
    [night] = schools.current_tasks(schools.boarding, NIGHT_PATROL)
    assert day_patrol.due_at == boarding_patrol.due_at == cst(2, 17)
    assert night.due_at == cst(2, 22)


def test_a_patrol_in_the_afternoon_does_not_do_the_night_patrol_one_after_dark_does(
    schools: Schools,
) -> None:
    schools.sweep(2)
    office = schools.offices["B1"]
    [night] = schools.current_tasks(schools.boarding, NIGHT_PATROL)
    assert night.opens_at == cst(2, 19)

    schools.clock.set(cst(2, 16, 30))
    schools.file(schools.patroller, office, NIGHT_PATROL, NIGHT_PATROL_OK, 1)
    schools.session.refresh(night)
    assert night.state == TaskState.OPEN

    schools.clock.set(cst(2, 21, 10))
    schools.file(schools.patroller, office, NIGHT_PATROL, NIGHT_PATROL_OK, 2)
    schools.session.refresh(night)
    assert night.state == TaskState.DONE


def test_a_school_marked_boarding_gets_its_night_patrol_from_the_next_sweep(
    schools: Schools,
) -> None:
    schools.sweep(2)
    set_boarding(
        schools.session, schools.district_admin, schools.day_school, True, now=schools.clock.now()
    )
    assert schools.current_tasks(schools.day_school, NIGHT_PATROL) == []

    schools.sweep(2, 9)

    [night] = schools.current_tasks(schools.day_school, NIGHT_PATROL)
    assert night.due_at == cst(2, 22)


def test_a_school_no_longer_boarding_stops_its_night_patrol_and_keeps_the_ones_filed(
    schools: Schools,
) -> None:
    schools.sweep(2)
    office = schools.offices["B1"]
    schools.clock.set(cst(2, 21, 10))
    schools.file(schools.patroller, office, NIGHT_PATROL, NIGHT_PATROL_OK, 1)
    schools.sweep(3)
    assert len(schools.current_tasks(schools.boarding, NIGHT_PATROL)) == 1

    set_boarding(schools.session, schools.admin, schools.boarding, False, now=schools.clock.now())
    schools.sweep(3, 9)
    schools.sweep(4)

    assert schools.current_tasks(schools.boarding, NIGHT_PATROL) == []
    done = schools.session.scalars(
        select(Task).where(Task.template_key == NIGHT_PATROL, Task.state == TaskState.DONE)
    ).all()
    assert [t.due_at for t in done] == [cst(2, 22)]


def test_only_the_schools_administrators_mark_it_boarding(
    schools: Schools, session: Session
) -> None:
    with pytest.raises(DutyRefused):
        set_boarding(session, schools.patroller, schools.boarding, False, now=schools.clock.now())
    with pytest.raises(DutyRefused):
        set_boarding(session, schools.admin, schools.day_school, True, now=schools.clock.now())
    assert schools.boarding.boarding and not schools.day_school.boarding


def test_the_fire_record_counts_the_night_patrol_with_the_days(schools: Schools) -> None:
    office = schools.offices["B1"]
    for n, day in enumerate((2, 3)):
        schools.sweep(day)
        schools.clock.set(cst(day, 16))
        schools.file(schools.patroller, office, PATROL, PATROL_OK, 10 + n)
        if day == 2:  # the night of the 3rd goes unwalked
            schools.clock.set(cst(day, 21, 15))
            schools.file(schools.patroller, office, NIGHT_PATROL, NIGHT_PATROL_OK, 20 + n)
    schools.sweep(4)

    record = build_report(
        schools.session, schools.boarding, ReportKind.FIRE, date(2026, 3, 1), now=cst(4, 0, 10)
    )

    counts = {c.title["zh_CN"]: (c.due, c.done, c.missed) for c in record.checked}
    # (due, done, missed); the 4th's patrols are still to come.
    assert counts["每日防火巡查记录"] == (3, 2, 0)
    assert counts["夜间防火巡查记录"] == (3, 1, 1)
    assert [(m.day, m.title["zh_CN"]) for m in record.missed] == [
        ("2026-03-03", "夜间防火巡查记录")
    ]


def test_the_monthly_and_the_quarterly_fire_checks_fall_due(schools: Schools) -> None:
    schools.sweep(2)

    [monthly] = schools.current_tasks(schools.boarding, "fire_monthly_check")
    [quarterly] = schools.current_tasks(schools.boarding, "fire_quarterly_check")
    assert monthly.due_at == cst(10, 17)
    assert quarterly.due_at == cst(25, 17)
    rules = {
        d.template_key: d.recurrence.frequency
        for d in schools.session.scalars(select(Duty).where(Duty.template_key.in_(FIRE_DUTIES)))
    }
    assert rules == {
        PATROL: Frequency.DAILY,
        NIGHT_PATROL: Frequency.DAILY,
        "fire_monthly_check": Frequency.MONTHLY,
        "fire_quarterly_check": Frequency.QUARTERLY,
    }


def test_the_fire_checks_are_led_by_a_named_person_and_say_the_rule_they_serve(
    session: Session,
) -> None:
    expected = {
        PATROL: ("daily", "第二十五条"),
        NIGHT_PATROL: ("daily", "寄宿制的学校应当加强夜间防火巡查"),
        "fire_monthly_check": ("monthly", "每月至少组织一次防火检查"),
        "fire_quarterly_check": ("quarterly", "至少每季度进行一次防火检查"),
        "fire_drill": ("every_6_months", "至少每半年进行一次演练"),
        "extinguisher_monthly": ("monthly", "GB 50444"),
        "extinguisher_annual_maintenance": ("yearly", "XF 95"),
    }
    for key, (frequency, words) in expected.items():
        spec = template_for(session, key).spec
        assert spec.minimum_frequency == frequency, key
        assert words in spec.basis["zh_CN"] and spec.basis["en"], key
    for key in ("fire_monthly_check", "fire_quarterly_check"):
        assert template_for(session, key).spec.item("led_by").type == "person"


def test_a_day_school_that_schedules_a_night_patrol_for_itself_gets_one(
    schools: Schools,
) -> None:
    day_admin = make_person(
        schools.session, schools.clock, schools.day_school, Role.SCHOOL_ADMIN, "dayadmin"
    )
    add_duty(
        schools.session,
        day_admin,
        template_key=NIGHT_PATROL,
        fields=DutyFields(Rule(Frequency.DAILY, time(20, 0)), 60, 24 * 60, 3 * 24 * 60),
        now=schools.clock.now(),
        school=schools.day_school,
    )

    schools.sweep(2)

    [night] = schools.current_tasks(schools.day_school, NIGHT_PATROL)
    assert night.due_at == cst(2, 20)
