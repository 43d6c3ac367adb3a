"""Filing records: the rule every door relies on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.assets import AssetKind
from models.clock import SettableClock
from models.messages import DomainError, SubmissionInvalid
from models.people import Role
from models.photos import Photo, PhotoStore
from models.records import (
    AlreadySent,
    Channel,
    NotAllowed,
    Record,
    Upload,
    phone_time_differs,
    submit_record,
)
from tests.factories import (
    EXTINGUISHER_OK,
    distinct_jpeg,
    jpeg_bytes,
    make_asset,
    make_person,
    make_school,
    template_for,
)


def _submit(
    session, clock, store, actor, asset, template_key, answers, uploads=(), key="key-00000001"
):
    return submit_record(
        session,
        actor=actor,
        asset=asset,
        template=template_for(session, template_key),
        answers=answers,
        uploads=list(uploads),
        key=key,
        channel=Channel.WEB,
        clock=clock,
        store=store,
    )


def _records(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Record)) or 0


def test_a_passing_extinguisher_check_is_recorded_with_its_photo(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    inspector = make_person(session, clock, school)
    asset = make_asset(session, clock, school)

    result = _submit(
        session,
        clock,
        store,
        inspector,
        asset,
        "extinguisher_monthly",
        EXTINGUISHER_OK,
        [Upload("photo", jpeg_bytes())],
    )

    record = result.record
    assert result.created
    assert record.result == "pass"
    assert record.submitted_at == clock.now()
    assert record.channel == "web"
    assert record.template.version == 1
    [attached] = record.photos
    assert attached.item_key == "photo"
    assert store.path(attached.photo.storage_key).is_file()
    assert store.path(attached.photo.thumb_key).is_file()


def test_a_failed_item_fails_the_record_and_names_the_item(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    inspector = make_person(session, clock, school)
    asset = make_asset(session, clock, school)

    answers = {**EXTINGUISHER_OK, "gauge_green": "fail"}
    record = _submit(
        session,
        clock,
        store,
        inspector,
        asset,
        "extinguisher_monthly",
        answers,
        [Upload("photo", jpeg_bytes())],
    ).record

    assert record.result == "fail"
    assert record.failed_items == ["gauge_green"]


def test_the_same_submission_sent_twice_files_one_record(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    inspector = make_person(session, clock, school)
    asset = make_asset(session, clock, school)
    uploads = [Upload("photo", jpeg_bytes())]

    first = _submit(
        session, clock, store, inspector, asset, "extinguisher_monthly", EXTINGUISHER_OK, uploads
    )
    second = _submit(
        session, clock, store, inspector, asset, "extinguisher_monthly", EXTINGUISHER_OK, uploads
    )

    assert second.created is False
    assert second.record.id == first.record.id
    assert _records(session) == 1


def test_missing_answers_and_photo_refuse_the_record_with_a_message_per_field(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    inspector = make_person(session, clock, school)
    asset = make_asset(session, clock, school)

    with pytest.raises(SubmissionInvalid) as refused:
        _submit(
            session,
            clock,
            store,
            inspector,
            asset,
            "extinguisher_monthly",
            {"gauge_green": "maybe"},
        )

    errors = refused.value.errors
    assert errors["gauge_green"].msgid == "Choose pass or fail."
    assert errors["pin_seal"].msgid == "Please answer this."
    assert errors["photo"].msgid == "Please take a photo."
    assert "note" not in errors
    assert _records(session) == 0


def test_a_file_that_is_not_an_image_stores_nothing(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    inspector = make_person(session, clock, school)
    asset = make_asset(session, clock, school)

    with pytest.raises(SubmissionInvalid) as refused:
        _submit(
            session,
            clock,
            store,
            inspector,
            asset,
            "extinguisher_monthly",
            EXTINGUISHER_OK,
            [Upload("photo", b"%PDF-1.4 not a photo")],
        )

    assert refused.value.errors["photo"].msgid == "This file is not a photo we can read."
    assert _records(session) == 0
    assert session.scalar(select(func.count()).select_from(Photo)) == 0
    assert not store.root.exists() or not any(p.is_file() for p in store.root.rglob("*"))


def test_an_overloaded_bus_is_refused(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车", seats=19)

    with pytest.raises(SubmissionInvalid) as refused:
        _submit(
            session,
            clock,
            store,
            teacher,
            bus,
            "bus_trip",
            {"teacher_on_board": "yes", "children_boarded": "20", "children_got_off": "20"},
        )

    message = refused.value.errors["children_boarded"]
    assert message.params == {"count": "20", "seats": "19"}
    assert _records(session) == 0


def test_a_full_bus_where_every_child_got_off_passes(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车", seats=19)

    record = _submit(
        session,
        clock,
        store,
        teacher,
        bus,
        "bus_trip",
        {"teacher_on_board": "yes", "children_boarded": "19", "children_got_off": "19"},
    ).record

    assert record.result == "pass"
    assert record.answers["children_boarded"] == 19


def test_a_child_count_mismatch_fails_the_trip(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车", seats=19)

    record = _submit(
        session,
        clock,
        store,
        teacher,
        bus,
        "bus_trip",
        {"teacher_on_board": "yes", "children_boarded": "18", "children_got_off": "17"},
    ).record

    assert record.result == "fail"
    assert record.failed_items == ["children_got_off"]


def test_nobody_files_for_a_school_that_is_not_theirs(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    mine = make_school(session, "S1")
    other = make_school(session, "S2", "第二中学")
    inspector = make_person(session, clock, mine)
    asset = make_asset(session, clock, other)

    with pytest.raises(NotAllowed):
        _submit(
            session,
            clock,
            store,
            inspector,
            asset,
            "extinguisher_monthly",
            EXTINGUISHER_OK,
            [Upload("photo", jpeg_bytes())],
        )
    assert _records(session) == 0


def test_a_checklist_for_another_kind_of_asset_is_refused(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    inspector = make_person(session, clock, school)
    asset = make_asset(session, clock, school)

    with pytest.raises(DomainError):
        _submit(session, clock, store, inspector, asset, "bus_trip", {})


def test_the_same_form_sent_again_with_other_answers_is_refused_not_dropped(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session)
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车", seats=19)
    departure = {"teacher_on_board": "yes", "children_boarded": "12", "children_got_off": "12"}
    _submit(session, clock, store, teacher, bus, "bus_trip", departure)

    with pytest.raises(AlreadySent):
        _submit(
            session, clock, store, teacher, bus, "bus_trip", {**departure, "children_got_off": "11"}
        )
    assert _records(session) == 1


def test_the_phone_time_is_kept_beside_the_servers_only_when_believable(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    school = make_school(session, "S1")
    inspector = make_person(session, clock, school)
    asset = make_asset(session, clock, school)
    now = clock.now()

    def filed(key: str, sent: str | None) -> Record:
        clock.advance(timedelta(hours=1))
        return submit_record(
            session,
            actor=inspector,
            asset=asset,
            template=template_for(session, "extinguisher_monthly"),
            answers=EXTINGUISHER_OK,
            uploads=[Upload("photo", distinct_jpeg(key, (200, 150)))],
            key=key,
            channel=Channel.WEB,
            clock=clock,
            store=store,
            repeat_confirmed=True,
            phone_time=sent,
        ).record

    offline = filed("phone-0001", (now - timedelta(hours=2)).isoformat())
    close = filed("phone-0002", (now + timedelta(hours=2, minutes=-2)).isoformat())
    ahead = filed("phone-0003", (now + timedelta(hours=3, minutes=2)).isoformat())
    old = filed("phone-0004", (now - timedelta(days=8)).isoformat())
    garbled = filed("phone-0005", "yesterday")
    naive = filed("phone-0006", (now + timedelta(hours=6)).replace(tzinfo=None).isoformat())

    assert offline.phone_at == now - timedelta(hours=2)
    assert phone_time_differs(offline)
    assert close.phone_at is not None and not phone_time_differs(close)
    assert [r.phone_at for r in (ahead, old, garbled, naive)] == [None] * 4
