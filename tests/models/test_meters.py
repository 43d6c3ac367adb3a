"""Meter readings that cannot run backwards, and the consumption each one shows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from models.assets import AssetKind
from models.clock import SettableClock
from models.messages import SubmissionInvalid
from models.meters import consumption_for
from models.people import Role
from models.photos import PhotoStore
from models.records import Channel, Upload, submit_record
from tests.factories import jpeg_bytes, make_asset, make_person, make_school, template_for


@pytest.fixture
def meter_world(session: Session, clock: SettableClock):
    school = make_school(session)
    reader = make_person(session, clock, school, Role.SCHOOL_ADMIN, "reader")
    meter = make_asset(
        session, clock, school, AssetKind.METER, "DB-01", "教学楼总电表", meter_type="electricity"
    )
    return reader, meter


def _read(session, clock, store, reader, meter, reading, key, **more):
    answers = {
        "reading": str(reading),
        "read_on": clock.now().date().isoformat(),
        "abnormal": "no",
        **more,
    }
    return submit_record(
        session,
        actor=reader,
        asset=meter,
        template=template_for(session, "meter_reading"),
        answers=answers,
        uploads=[Upload("meter_photo", jpeg_bytes((400, 300)))],
        key=key,
        channel=Channel.WEB,
        clock=clock,
        store=store,
    ).record


def test_a_reading_lower_than_the_last_is_refused_unless_the_meter_was_replaced(
    session: Session, clock: SettableClock, store: PhotoStore, meter_world
) -> None:
    reader, meter = meter_world
    _read(session, clock, store, reader, meter, 1100, "meter-0001")
    clock.advance(timedelta(days=30))

    with pytest.raises(SubmissionInvalid) as refused:
        _read(session, clock, store, reader, meter, 1050, "meter-0002")
    replaced = _read(
        session,
        clock,
        store,
        reader,
        meter,
        50,
        "meter-0003",
        meter_replaced="yes",
        new_meter_start="0",
    )

    error = refused.value.errors["reading"]
    assert error.msgid.startswith("Lower than the last reading")
    assert error.params == {"last": "1100", "date": "2026-03-02"}
    assert replaced.answers["meter_replaced"] == "yes"


def test_a_new_meters_start_cannot_be_above_its_reading(
    session: Session, clock: SettableClock, store: PhotoStore, meter_world
) -> None:
    reader, meter = meter_world

    with pytest.raises(SubmissionInvalid) as refused:
        _read(
            session,
            clock,
            store,
            reader,
            meter,
            50,
            "meter-0001",
            meter_replaced="yes",
            new_meter_start="60",
        )

    assert set(refused.value.errors) == {"new_meter_start"}


def test_each_reading_shows_the_consumption_of_its_period(
    session: Session, clock: SettableClock, store: PhotoStore, meter_world
) -> None:
    reader, meter = meter_world
    first = _read(session, clock, store, reader, meter, 1000, "meter-0001")
    clock.advance(timedelta(days=31))
    second = _read(session, clock, store, reader, meter, 1234.5, "meter-0002")
    clock.advance(timedelta(days=30))
    swapped = _read(
        session,
        clock,
        store,
        reader,
        meter,
        40,
        "meter-0003",
        meter_replaced="yes",
        new_meter_start="5",
    )
    clock.advance(timedelta(days=31))
    after = _read(session, clock, store, reader, meter, 140, "meter-0004")

    found = consumption_for(session, [first, second, swapped, after])

    assert first.id not in found
    assert (found[second.id].amount, found[second.id].since) == (234.5, "2026-03-02")
    assert (found[swapped.id].amount, found[swapped.id].since) == (35, None)
    assert (found[after.id].amount, found[after.id].since) == (100, "2026-05-02")
    assert found[after.id].unit == {"zh_CN": "度", "en": "kWh"}
    assert found[second.id].message().params["amount"] == "234.5"
