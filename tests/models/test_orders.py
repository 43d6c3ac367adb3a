"""Uniform and exercise-book orders per school and term; a reminder when settlement is late."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.messages import SubmissionInvalid
from models.notifications import Notification
from models.orders import (
    Goods,
    add_order,
    order_suppliers,
    remind_unsettled_orders,
    school_orders,
    settle_order,
)
from models.people import Role
from models.stages import SchoolStage, school_grades, set_stage
from models.suppliers import RegisterRefused
from models.sweep import sweep
from tests.factories import make_district_admin, make_person, make_school, make_supplier

AUTUMN_UNIFORMS = {
    "goods": "uniforms",
    "year": "2026",
    "term": "autumn",
    "grades": ["g1", "g7"],
    "quantity": "412",
    "collected": "61,800.50",
    "settle_by": "2026-10-31",
}


@pytest.fixture
def school_and_admin(session: Session, clock: SettableClock):
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    return school, admin


def test_an_order_keeps_its_grades_quantity_money_and_due_date(
    session: Session, clock: SettableClock, school_and_admin
) -> None:
    school, admin = school_and_admin
    supplier = make_supplier(session, clock, school, "校服厂", categories=("uniforms",))

    order = add_order(
        session, admin, school, supplier_id=supplier.id, now=clock.now(), **AUTUMN_UNIFORMS
    )

    assert (order.grades, order.quantity, order.collected_fen) == (["g1", "g7"], 412, 6180050)
    assert order.collected == "61800.50"
    assert order.settle_by == date(2026, 10, 31) and order.settled_on is None
    assert school_orders(session, school) == [order]


def test_each_bad_field_is_named_and_only_administrators_add_orders(
    session: Session, clock: SettableClock, school_and_admin
) -> None:
    school, admin = school_and_admin
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    bad = {
        **AUTUMN_UNIFORMS,
        "grades": [],
        "quantity": "0",
        "collected": "12.345",
        "settle_by": "",
    }

    with pytest.raises(SubmissionInvalid) as refused:
        add_order(session, admin, school, now=clock.now(), **bad)
    with pytest.raises(RegisterRefused):
        add_order(session, teacher, school, now=clock.now(), **AUTUMN_UNIFORMS)

    assert set(refused.value.errors) == {"grades", "quantity", "collected", "settle_by"}
    assert school_orders(session, school) == []


def test_an_unsettled_order_past_its_date_is_announced_once_and_a_settled_one_never(
    session: Session, clock: SettableClock, school_and_admin
) -> None:
    school, admin = school_and_admin
    late = add_order(session, admin, school, now=clock.now(), **AUTUMN_UNIFORMS)
    paid = add_order(
        session,
        admin,
        school,
        now=clock.now(),
        **{**AUTUMN_UNIFORMS, "goods": "exercise_books", "grades": ["g2"]},
    )
    settle_order(session, admin, paid, "2026-10-20", today=date(2026, 10, 20))
    with pytest.raises(SubmissionInvalid):
        settle_order(session, admin, late, "2026-11-05", today=date(2026, 10, 20))

    on_the_day = datetime(2026, 10, 31, 4, tzinfo=UTC)  # 12:00 on the due date: not yet late
    assert (
        remind_unsettled_orders(session, school.district, today=date(2026, 10, 31), now=on_the_day)
        == []
    )
    sweep(session, now=datetime(2026, 11, 1, 4, tzinfo=UTC))
    sweep(session, now=datetime(2026, 11, 2, 4, tzinfo=UTC))

    texts = session.scalars(
        select(Notification.text).where(
            Notification.recipient_id == admin.id,
            Notification.dedup_key.like("supply_order:%"),
        )
    ).all()
    assert texts == ["2026 年秋季学期校服：应于 2026-10-31 前与供应商结清货款，至今未结算。"]
    assert late.overdue_on(date(2026, 11, 1)) and not paid.overdue_on(date(2026, 11, 1))


def test_a_primary_schools_order_takes_only_its_grades_and_a_supplier_approved_for_the_goods(
    session: Session, clock: SettableClock, school_and_admin
) -> None:
    school, admin = school_and_admin
    district = make_district_admin(session, clock, school)
    set_stage(session, district, school, SchoolStage.PRIMARY, now=clock.now())
    grocer = make_supplier(session, clock, school, "绿源蔬菜配送", categories=("vegetables",))
    tailor = make_supplier(session, clock, school, "校服厂", categories=("uniforms",))

    with pytest.raises(SubmissionInvalid) as refused:
        add_order(session, admin, school, supplier_id=grocer.id, now=clock.now(), **AUTUMN_UNIFORMS)
    order = add_order(
        session,
        admin,
        school,
        supplier_id=tailor.id,
        now=clock.now(),
        **{**AUTUMN_UNIFORMS, "grades": ["g1", "g6"]},
    )

    assert school_grades(school) == ("g1", "g2", "g3", "g4", "g5", "g6")
    assert set(refused.value.errors) == {"grades", "supplier"}  # 初一 is not taught here
    assert order.grades == ["g1", "g6"] and order.supplier is tailor
    assert order_suppliers(session, school) == {
        Goods.UNIFORMS: [tailor],
        Goods.EXERCISE_BOOKS: [],
    }


def test_only_the_districts_administrators_set_a_schools_stage(
    session: Session, clock: SettableClock, school_and_admin
) -> None:
    school, admin = school_and_admin
    district = make_district_admin(session, clock, school)

    with pytest.raises(RegisterRefused):
        set_stage(session, admin, school, SchoolStage.SENIOR, now=clock.now())
    with pytest.raises(SubmissionInvalid):
        set_stage(session, district, school, "university", now=clock.now())
    set_stage(session, district, school, SchoolStage.COMPLETE_SECONDARY, now=clock.now())

    assert school_grades(school) == ("g7", "g8", "g9", "g10", "g11", "g12")
    set_stage(session, district, school, "", now=clock.now())
    assert school.stage is None and "k1" in school_grades(school)
