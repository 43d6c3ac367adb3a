"""Milk subscriptions: no more subscribed than the class has, and the rate per class and school."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from models.assets import AssetKind
from models.clock import SettableClock
from models.messages import SubmissionInvalid
from models.milk import class_rate, last_months, rate_history, school_rates
from models.people import Role
from models.photos import PhotoStore
from models.records import Channel, submit_record
from tests.factories import make_asset, make_person, make_school, template_for


def _count(session, clock, store, person, office, class_name, students, subscribed, key):
    return submit_record(
        session,
        actor=person,
        asset=office,
        template=template_for(session, "milk_subscription"),
        answers={
            "class_name": class_name,
            "students": str(students),
            "subscribed": str(subscribed),
            "counted_on": clock.now().date().isoformat(),
        },
        uploads=[],
        key=key,
        channel=Channel.WEB,
        clock=clock,
        store=store,
    ).record


@pytest.fixture
def office_world(session: Session, clock: SettableClock):
    school = make_school(session)
    person = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    office = make_asset(session, clock, school, AssetKind.SCHOOL_OFFICE, "HQ-01", "后勤办公室")
    return school, person, office


def test_more_subscribed_than_the_class_has_is_refused_beside_the_field(
    session: Session, clock: SettableClock, store: PhotoStore, office_world
) -> None:
    _, person, office = office_world

    with pytest.raises(SubmissionInvalid) as refused:
        _count(session, clock, store, person, office, "三年级二班", 40, 41, "milk-0001")

    assert set(refused.value.errors) == {"subscribed"}
    assert refused.value.errors["subscribed"].params["max"] == "40"
    assert refused.value.errors["subscribed"].params["item"]["zh_CN"] == "班级人数"


def test_the_rate_per_class_and_per_school_counts_each_class_by_its_latest_count(
    session: Session, clock: SettableClock, store: PhotoStore, office_world
) -> None:
    school, person, office = office_world
    first = _count(session, clock, store, person, office, "三年级二班", 40, 30, "milk-0001")
    _count(session, clock, store, person, office, "三年级一班", 38, 19, "milk-0002")
    clock.advance(timedelta(days=7))
    _count(session, clock, store, person, office, "三年级 二班", 40, 34, "milk-0003")

    rate = class_rate(first)
    [(school_id, total)] = school_rates(session, [school.id], now=clock.now()).items()

    assert (rate.subscribed, rate.students, rate.percent) == (30, 40, 75)
    assert school_id == school.id
    assert (total.subscribed, total.students, total.classes, total.percent) == (53, 78, 2, 68)
    assert school_rates(session, [school.id], now=clock.now() + timedelta(days=400)) == {}


def test_a_limit_from_an_item_must_name_an_earlier_number() -> None:
    from models.checklists import TemplateError, spec_from_json

    data = {
        "key": "x",
        "kind": "school_office",
        "title": {"zh_CN": "统计", "en": "Count"},
        "items": [
            {
                "key": "subscribed",
                "type": "number",
                "max_from_item": "students",
                "label": {"zh_CN": "订奶人数", "en": "Subscribed"},
            },
        ],
    }

    with pytest.raises(TemplateError, match="max_from_item"):
        spec_from_json(data)


def test_the_rate_by_month_per_class_school_and_district_counts_each_class_as_it_stood(
    session: Session, clock: SettableClock, store: PhotoStore, office_world
) -> None:
    school, person, office = office_world
    other = make_school(session, "S2", "第二小学", district=school.district)
    teacher = make_person(session, clock, other, Role.SCHOOL_ADMIN, "admin2")
    other_office = make_asset(session, clock, other, AssetKind.SCHOOL_OFFICE, "HQ-02", "办公室")
    counts = [
        (date(2025, 1, 20), person, office, "四年级一班", 30, 30),  # over a year old by 2026
        (date(2026, 1, 5), teacher, other_office, "一年级一班", 50, 45),
        (date(2026, 1, 10), person, office, "三年级一班", 40, 20),
        (date(2026, 2, 15), person, office, "三年级一班", 40, 30),
        (date(2026, 2, 20), person, office, "三年级二班", 38, 19),
    ]
    for n, (day, who, where, name, students, subscribed) in enumerate(counts):
        clock.set(datetime(day.year, day.month, day.day, 2, tzinfo=UTC))
        _count(session, clock, store, who, where, name, students, subscribed, f"milk-{n:04d}")
    months = last_months(date(2026, 3, 14), 3)

    history = rate_history(session, [school.id, other.id], months)

    assert months == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]

    def percents(by_month):
        return [by_month[m].percent if m in by_month else None for m in months]

    assert percents(history.classes[(school.id, "三年级一班")]) == [50, 75, 75]
    assert percents(history.classes[(school.id, "三年级二班")]) == [None, 50, 50]
    assert (school.id, "四年级一班") not in history.classes
    # 20 of 40 in January; (30 + 19) of (40 + 38) = 49 of 78 from February: 62.8 %.
    assert percents(history.schools[school.id]) == [50, 63, 63]
    assert percents(history.schools[other.id]) == [90, 90, 90]
    # The district: (20 + 45) of 90 = 72.2 % in January, (49 + 45) of 128 = 73.4 % after.
    assert percents(history.district) == [72, 73, 73]
    assert (history.district[months[1]].subscribed, history.district[months[1]].students) == (
        94,
        128,
    )
