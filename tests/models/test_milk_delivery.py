"""Student milk: only from a producer approved for it, and each delivery checked on arrival."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from models.assets import AssetKind
from models.clock import SettableClock
from models.messages import SubmissionInvalid
from models.people import Role
from models.photos import PhotoStore
from models.records import Channel, Upload, submit_record
from tests.factories import (
    jpeg_bytes,
    make_asset,
    make_person,
    make_school,
    make_supplier,
    template_for,
)

GOOD_DELIVERY = {
    "packs": "480",
    "certificate": "yes",
    "use_by": "2026-03-20",
    "in_date": "yes",
    "damaged_packs": "0",
    "storage_ok": "pass",
}


@pytest.fixture
def milk_world(session: Session, clock: SettableClock):
    school = make_school(session)
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    office = make_asset(session, clock, school, AssetKind.SCHOOL_OFFICE, "HQ-01", "后勤办公室")
    dairy = make_supplier(session, clock, school, "光明乳业学生奶", categories=("milk",))
    grocer = make_supplier(session, clock, school, "绿源蔬菜配送", categories=("vegetables",))
    return teacher, office, dairy, grocer


def _deliver(session, clock, store, teacher, office, supplier, answers, key="milk-in-0001"):
    return submit_record(
        session,
        actor=teacher,
        asset=office,
        template=template_for(session, "milk_delivery"),
        answers={**answers, "supplier": str(supplier.id)},
        uploads=[Upload("certificate_photo", jpeg_bytes((800, 600)))],
        key=key,
        channel=Channel.WEB,
        clock=clock,
        store=store,
    ).record


def test_milk_from_a_supplier_not_approved_for_student_milk_is_refused_storing_nothing(
    session: Session, clock: SettableClock, store: PhotoStore, milk_world
) -> None:
    teacher, office, _, grocer = milk_world

    with pytest.raises(SubmissionInvalid) as refused:
        _deliver(session, clock, store, teacher, office, grocer, GOOD_DELIVERY)

    message = refused.value.errors["supplier"]
    assert message.params["supplier"] == "绿源蔬菜配送"
    assert message.params["category"] == {"zh_CN": "学生饮用奶", "en": "Student milk"}


def test_a_delivery_with_damaged_packs_and_no_certificate_fails_and_a_clean_one_passes(
    session: Session, clock: SettableClock, store: PhotoStore, milk_world
) -> None:
    teacher, office, dairy, _ = milk_world

    bad = _deliver(
        session,
        clock,
        store,
        teacher,
        office,
        dairy,
        {**GOOD_DELIVERY, "certificate": "no", "damaged_packs": "3"},
    )
    good = _deliver(
        session, clock, store, teacher, office, dairy, GOOD_DELIVERY, key="milk-in-0002"
    )

    assert bad.failed_items == ["certificate", "damaged_packs"]
    assert bad.template.spec.severity_of(bad.failed_items) == "critical"
    assert good.failed_items == [] and good.answers["supplier"]["name"] == "光明乳业学生奶"
