"""One photo proves one check, and one check is filed once in its window unless meant."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.assets import AssetKind
from models.clock import SettableClock
from models.notifications import Notification
from models.people import Role
from models.photos import PhotoStore
from models.records import AlreadyFiled, Channel, Upload, submit_record
from models.sweep import sweep
from models.trips import check_rear
from tests.factories import (
    EXTINGUISHER_OK,
    distinct_jpeg,
    file_pre_trip_check,
    jpeg_bytes,
    make_asset,
    make_person,
    make_school,
    template_for,
)

MONTHLY = "extinguisher_monthly"
DEPARTURE = {"teacher_on_board": "yes", "children_boarded": "12", "seatbelts_on": "yes"}
ARRIVAL = {"children_got_off": "12", "bus_checked_empty": "yes"}


def _file(
    session,
    clock,
    store,
    actor,
    asset,
    template_key,
    answers,
    photo=None,
    key="key-0001",
    confirmed=False,
):
    return submit_record(
        session,
        actor=actor,
        asset=asset,
        template=template_for(session, template_key),
        answers=answers,
        uploads=[Upload("photo", photo)] if photo else [],
        key=key,
        channel=Channel.WEB,
        clock=clock,
        store=store,
        repeat_confirmed=confirmed,
    )


def test_a_photo_that_already_proves_another_record_is_flagged_and_told_not_refused(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    inspector = make_person(session, clock, school)
    head = make_person(session, clock, school, Role.SCHOOL_ADMIN, "head")
    first_asset = make_asset(session, clock, school, code="MHQ-001")
    second_asset = make_asset(session, clock, school, code="MHQ-002", name="二楼灭火器")
    photo = jpeg_bytes()

    first = _file(session, clock, store, inspector, first_asset, MONTHLY, EXTINGUISHER_OK, photo)
    clock.advance(timedelta(minutes=3))
    second = _file(
        session, clock, store, inspector, second_asset, MONTHLY, EXTINGUISHER_OK, photo, "key-0002"
    )
    third = _file(
        session,
        clock,
        store,
        inspector,
        first_asset,
        MONTHLY,
        EXTINGUISHER_OK,
        distinct_jpeg("another"),
        "key-0003",
        confirmed=True,
    )

    assert first.record.same_photo_as is None
    assert second.created and second.record.same_photo_as == first.record
    assert third.record.same_photo_as is None
    notice = session.scalars(select(Notification).where(Notification.recipient_id == head.id)).one()
    assert notice.text == (
        f"二楼灭火器：记录 {second.record.id}（灭火器月度检查）的照片与 03-02 08:30 的记录 "
        f"{first.record.id} 是同一张。"
    )
    assert notice.link == f"/records/{second.record.id}"


def test_a_photo_seen_at_another_school_is_not_named_to_this_ones_administrators(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session, "S1")
    other = make_school(session, "S2", district=school.district)
    inspector = make_person(session, clock, school)
    elsewhere = make_person(session, clock, other, username="inspector2")
    photo = jpeg_bytes()
    _file(
        session,
        clock,
        store,
        elsewhere,
        make_asset(session, clock, other),
        MONTHLY,
        EXTINGUISHER_OK,
        photo,
    )

    here = _file(
        session,
        clock,
        store,
        inspector,
        make_asset(session, clock, school, code="A-2"),
        MONTHLY,
        EXTINGUISHER_OK,
        photo,
        "key-0002",
    )

    assert here.created and here.record.same_photo_as is None


def test_the_same_check_the_same_day_asks_first_and_is_filed_when_confirmed(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    inspector = make_person(session, clock, school)
    asset = make_asset(session, clock, school)
    first = _file(session, clock, store, inspector, asset, MONTHLY, EXTINGUISHER_OK, jpeg_bytes())
    clock.advance(timedelta(minutes=6))

    with pytest.raises(AlreadyFiled) as asked:
        _file(
            session,
            clock,
            store,
            inspector,
            asset,
            MONTHLY,
            EXTINGUISHER_OK,
            jpeg_bytes(),
            "key-0002",
        )
    second = _file(
        session,
        clock,
        store,
        inspector,
        asset,
        MONTHLY,
        EXTINGUISHER_OK,
        distinct_jpeg("second"),
        "key-0002",
        confirmed=True,
    )

    assert asked.value.message.params == {"time": "08:30"}
    assert asked.value.earlier == first.record
    assert second.created and second.record != first.record


def test_the_window_is_the_open_tasks_when_there_is_one_and_else_the_day(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    inspector = make_person(session, clock, school)
    scheduled = make_asset(session, clock, school, code="MHQ-001")
    sweep(session, now=clock.now())  # the monthly inspection's task, due on the 25th
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车")
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    _file(session, clock, store, inspector, scheduled, MONTHLY, EXTINGUISHER_OK, jpeg_bytes())
    clock.advance(timedelta(days=3))

    with pytest.raises(AlreadyFiled) as asked:
        _file(
            session,
            clock,
            store,
            inspector,
            scheduled,
            MONTHLY,
            EXTINGUISHER_OK,
            jpeg_bytes(),
            "k-000002",
        )
    # A bus runs several trips a day: departures (and arrivals) never ask.
    file_pre_trip_check(session, clock, store, bus, teacher)
    for n in range(2):
        _file(session, clock, store, teacher, bus, "bus_departure", DEPARTURE, key=f"dep-{n:04}")
        _file(session, clock, store, teacher, bus, "bus_arrival", ARRIVAL, key=f"arr-{n:04}")
        check_rear(session, teacher, bus, now=clock.now())

    assert asked.value.message.params == {"time": "03-02 08:30"}


def test_an_unscheduled_check_asks_only_the_same_day(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    inspector = make_person(session, clock, school)
    asset = make_asset(session, clock, school)
    _file(session, clock, store, inspector, asset, MONTHLY, EXTINGUISHER_OK, jpeg_bytes())
    clock.advance(timedelta(days=1))

    again = _file(
        session,
        clock,
        store,
        inspector,
        asset,
        MONTHLY,
        EXTINGUISHER_OK,
        distinct_jpeg("2"),
        "k-000002",
    )

    assert again.created


def test_a_sample_for_another_meal_is_another_check_the_same_meal_asks(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    cook = make_person(session, clock, school, Role.CANTEEN_STAFF, "cook")
    canteen = make_asset(session, clock, school, AssetKind.CANTEEN, "ST-01", "食堂")
    spec = template_for(session, "canteen_food_sample_retention").spec
    answers = {}
    for item in spec.items:
        if item.type == "yes_no":
            answers[item.key] = item.expect or "yes"
        elif item.type == "single_choice":
            answers[item.key] = item.options[0].value
        elif item.type == "text" and item.required:
            answers[item.key] = "米饭、青菜"
        elif item.type == "time":
            answers[item.key] = "07:30"
        elif item.type == "number":
            low = item.min if item.min is not None else 0
            high = item.fail_above if item.fail_above is not None else item.max
            answers[item.key] = str(int(low if high is None else (low + high) // 2))
        elif item.type == "person":
            answers[item.key] = str(cook.id)
    photos = [i for i in spec.items if i.type == "photo" and i.required]

    def file(meal: str, n: int):
        return submit_record(
            session,
            actor=cook,
            asset=canteen,
            template=template_for(session, "canteen_food_sample_retention"),
            answers={**answers, "meal": meal},
            uploads=[Upload(i.key, distinct_jpeg(f"{meal}{n}")) for i in photos],
            key=f"sample-{n:04}",
            channel=Channel.WEB,
            clock=clock,
            store=store,
        )

    meals = [o.value for o in spec.item("meal").options]
    file(meals[0], 1)
    clock.advance(timedelta(hours=4))
    assert file(meals[1], 2).created
    with pytest.raises(AlreadyFiled):
        file(meals[1], 3)
