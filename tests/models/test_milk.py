"""Milk subscriptions: no more subscribed than the class has, and the rate per class and school."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from models.assets import AssetKind
from models.clock import SettableClock
from models.messages import SubmissionInvalid
from models.milk import class_rate, school_rates
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
