"""A person item names only someone holding the roles its rule names: the 陪餐人 is a school
leader, the 留样人 canteen staff, the fire check's 消防安全管理人 one of the safety roles."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from models.assets import AssetKind
from models.clock import SettableClock
from models.messages import SubmissionInvalid
from models.people import Role
from models.photos import PhotoStore
from models.records import Channel, Upload, directory_for, submit_record
from tests.factories import cst, distinct_jpeg, make_asset, make_person, make_school, template_for


def _sample(sampler_id: int) -> dict[str, str]:
    return {
        "meal": "lunch",
        "dish": "番茄炒蛋",
        "weight": "150",
        "sampled_at": "12:00",
        "sampler": str(sampler_id),
        "fridge": "留样专柜 1 号",
        "fridge_temp": "4",
        "labelled": "yes",
    }


@pytest.mark.parametrize(
    ("key", "item", "named", "left_out"),
    [
        ("canteen_accompanied_meal", "leader", {"admin"}, {"cook", "officer", "teacher"}),
        ("canteen_food_sample_retention", "sampler", {"cook", "officer"}, {"teacher", "admin"}),
        ("canteen_tableware_disinfection", "disinfector", {"cook", "officer"}, {"teacher"}),
        ("fire_monthly_check", "led_by", {"inspector", "admin"}, {"cook", "teacher"}),
        ("fire_quarterly_check", "led_by", {"inspector", "admin"}, {"cook", "officer"}),
    ],
)
def test_a_built_in_person_item_offers_only_the_roles_its_rule_names(
    session: Session,
    clock: SettableClock,
    key: str,
    item: str,
    named: set[str],
    left_out: set[str],
) -> None:
    school = make_school(session)
    people = {
        name: make_person(session, clock, school, role, name)
        for name, role in (
            ("admin", Role.SCHOOL_ADMIN),
            ("cook", Role.CANTEEN_STAFF),
            ("officer", Role.FOOD_SAFETY_OFFICER),
            ("teacher", Role.TEACHER),
            ("inspector", Role.INSPECTOR),
        )
    }
    template = template_for(session, key)
    kind = AssetKind(template.kind)
    asset = make_asset(session, clock, school, kind, "A-01", "某处")

    directory = directory_for(session, template.spec, asset)
    offered = set(directory.people_for(template.spec.item(item)).values())

    assert {people[n].display_name for n in named} <= offered
    assert not {people[n].display_name for n in left_out} & offered


def test_a_sample_naming_a_teacher_as_sampler_is_refused_at_that_field(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    cook = make_person(session, clock, school, Role.CANTEEN_STAFF, "cook")
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    canteen = make_asset(session, clock, school, AssetKind.CANTEEN, "ST-01", "食堂")
    clock.set(cst(2, 12, 10))

    with pytest.raises(SubmissionInvalid) as refused:
        submit_record(
            session,
            actor=cook,
            asset=canteen,
            template=template_for(session, "canteen_food_sample_retention"),
            answers=_sample(teacher.id),
            uploads=[Upload("photo", distinct_jpeg("sample"))],
            key="sample-0001",
            channel=Channel.WEB,
            clock=clock,
            store=store,
        )

    assert set(refused.value.errors) == {"sampler"}
    message = refused.value.errors["sampler"]
    assert message.msgid.startswith("Only someone in one of these roles")
    assert message.params["roles"]["zh_CN"] == "食堂从业人员、食品安全员"
