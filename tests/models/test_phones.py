"""Phone numbers: a Chinese mobile however it is typed is one number, and one person's."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from models.accounts import add_person
from models.clock import SettableClock
from models.imports import preview_import
from models.messages import SubmissionInvalid
from models.people import Role, authenticate
from models.phones import normalise_contact_phone, normalise_mobile
from models.suppliers import add_supplier
from tests.factories import PASSWORD, make_person, make_school


@pytest.mark.parametrize(
    "typed",
    [
        "13900000001",
        "139 0000 0001",
        "139-0000-0001",
        "+86 139 0000 0001",
        "+8613900000001",
        "0086 13900000001",
        "８６１３９００００００01",
        " (139) 0000-0001 ",
    ],
)
def test_a_mobile_is_its_eleven_digits_however_it_is_typed(typed: str) -> None:
    assert normalise_mobile(typed) == "13900000001"


@pytest.mark.parametrize(
    "typed", ["", "1390000000", "139000000012", "23900000001", "+1 139 0000 0001", "024-23456789"]
)
def test_what_is_not_a_chinese_mobile_is_not_taken_for_one(typed: str) -> None:
    assert normalise_mobile(typed) is None


def test_one_mobile_belongs_to_one_person_and_logs_in_with_any_spelling(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    wang = add_person(
        session,
        admin,
        school,
        username="wang",
        display_name="王师傅",
        phone="+86 139-0000-0001",
        password=PASSWORD,
        role="canteen_staff",
        now=clock.now(),
    )

    with pytest.raises(SubmissionInvalid) as taken:
        add_person(
            session,
            admin,
            school,
            username="li",
            display_name="李老师",
            phone="139 0000 0001",
            password=PASSWORD,
            role="teacher",
            now=clock.now(),
        )

    assert wang.phone == "13900000001"
    assert taken.value.errors["phone"].params == {"value": "13900000001"}
    for spelling in ("13900000001", "+8613900000001", "139 0000 0001", "+86 139-0000-0001"):
        assert authenticate(session, spelling, PASSWORD, now=clock.now()) is wang


def test_a_person_phone_must_be_a_mobile(session: Session, clock: SettableClock) -> None:
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")

    with pytest.raises(SubmissionInvalid) as refused:
        add_person(
            session,
            admin,
            school,
            username="zhao",
            display_name="赵",
            phone="024-23456789",
            password=PASSWORD,
            role="teacher",
            now=clock.now(),
        )

    assert refused.value.errors["phone"].msgid.startswith("Enter a mobile number: 11 digits")


def test_an_import_finds_the_same_mobile_in_two_spellings(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin", phone="13800000001")
    rows = [
        ["用户名", "姓名", "手机", "角色", "初始密码"],
        ["wang", "王师傅", "+86 139 0000 0001", "食堂从业人员", "initial-pass"],
        ["li", "李老师", "139-0000-0001", "教师", "initial-pass"],
        ["zhao", "赵老师", "+86 138 0000 0001", "教师", "initial-pass"],
    ]
    data = "\r\n".join(",".join(row) for row in rows).encode("utf-8-sig")

    preview = preview_import(
        session, "people", school=school, actor=admin, data=data, now=clock.now()
    )

    problems = [(p.row, p.column, p.message.msgid) for r in preview.refused for p in r.problems]
    assert (3, "手机", "%(value)s is also on row %(row)d.") in problems
    assert (4, "手机", "The phone number %(value)s is taken.") in problems


def test_suppliers_phones_are_normalised_but_may_be_shared(
    session: Session, clock: SettableClock
) -> None:
    school = make_school(session)
    district = make_person(session, clock, school, Role.DISTRICT_ADMIN, "district")

    first, second = (
        add_supplier(
            session,
            district,
            school.district_id,
            name=name,
            phone=phone,
            categories=["rice"],
            now=clock.now(),
        )
        for name, phone in (("绿源粮油", "+86 139 0000 0001"), ("绿源面粉", "139-0000-0001"))
    )

    assert first.phone == second.phone == "13900000001"
    assert normalise_contact_phone("024 2345 6789") == "02423456789"
    assert normalise_contact_phone("024-23456789") == "024-23456789"
    assert normalise_contact_phone("call me") is None
