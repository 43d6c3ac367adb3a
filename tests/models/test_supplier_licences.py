"""A supplier whose business licence in the register has expired is refused where it is
chosen: at a receiving check, and as the tableware disinfection service."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.assets import Asset, AssetKind
from models.clock import SettableClock
from models.documents import Document, DocumentKind, add_document
from models.messages import SubmissionInvalid
from models.org import School
from models.people import Person
from models.photos import PhotoStore
from models.records import Channel, Record, Submission, Upload, submit_record
from models.suppliers import Supplier
from tests.factories import (
    distinct_jpeg,
    make_asset,
    make_district_admin,
    make_supplier,
    template_for,
)

RECEIVING = "canteen_receiving_check"
TABLEWARE = "canteen_tableware_disinfection"


def _licence(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    school: School,
    supplier: Supplier,
    expires_on: date,
) -> Document:
    admin = make_district_admin(session, clock, school, f"district{expires_on.isoformat()}")
    return add_document(
        session,
        admin,
        school=school,
        holder=supplier,
        kind=DocumentKind.BUSINESS_LICENCE,
        title="食品经营许可证",
        number="JY12101020000123",
        expires_on=expires_on,
        store=store,
        now=clock.now(),
    )


def _receive(supplier: Supplier) -> dict[str, str]:
    return {
        "category": "rice",
        "supplier": str(supplier.id),
        "product": "东北大米",
        "specification": "25 千克/袋",
        "quantity": "4 袋",
        "batch": "20260215",
        "shelf_life": "12 个月",
        "delivered_on": "2026-03-02",
        "certificate_seen": "yes",
        "quality_ok": "pass",
        "decision": "accepted",
    }


def _file(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    cook: Person,
    canteen: Asset,
    key: str,
    answers: dict[str, str],
    photo: str,
) -> Submission:
    return submit_record(
        session,
        actor=cook,
        asset=canteen,
        template=template_for(session, key),
        answers=answers,
        uploads=[Upload(photo, distinct_jpeg(key))],
        key=f"{key}-0001",
        channel=Channel.WEB,
        clock=clock,
        store=store,
    )


@pytest.fixture
def canteen(
    session: Session, clock: SettableClock, canteen_school: tuple[School, Person, Person]
) -> Asset:
    return make_asset(session, clock, canteen_school[0], AssetKind.CANTEEN, "ST-01", "食堂")


def test_goods_from_a_supplier_whose_licence_expired_are_refused_naming_the_licence(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    canteen_school: tuple[School, Person, Person],
    canteen: Asset,
) -> None:
    school, _, cook = canteen_school
    mill = make_supplier(session, clock, school, name="金穗粮油", categories=("rice",))
    _licence(session, clock, store, school, mill, date(2026, 2, 28))

    with pytest.raises(SubmissionInvalid) as refused:
        _file(session, clock, store, cook, canteen, RECEIVING, _receive(mill), "delivery_note")

    message = refused.value.errors["supplier"]
    assert set(refused.value.errors) == {"supplier"}
    assert message.params == {
        "supplier": "金穗粮油",
        "document": "食品经营许可证 JY12101020000123",
        "date": "2026-02-28",
    }
    assert session.scalar(select(func.count()).select_from(Record)) == 0


def test_a_licence_valid_through_today_or_renewed_lets_the_goods_in(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    canteen_school: tuple[School, Person, Person],
    canteen: Asset,
) -> None:
    school, _, cook = canteen_school
    mill = make_supplier(session, clock, school, name="金穗粮油", categories=("rice",))
    _licence(session, clock, store, school, mill, date(2026, 2, 28))
    _licence(session, clock, store, school, mill, date(2026, 3, 2))  # the new one, to today

    record = _file(
        session, clock, store, cook, canteen, RECEIVING, _receive(mill), "delivery_note"
    ).record

    assert record.passed
    assert record.answers["batch"] == "20260215"
    assert record.answers["delivered_on"] == "2026-03-02"


def test_an_outsourced_disinfection_names_its_service_and_an_expired_licence_is_refused(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    canteen_school: tuple[School, Person, Person],
    canteen: Asset,
) -> None:
    school, _, cook = canteen_school
    lapsed = make_supplier(session, clock, school, name="洁康餐具消毒", categories=("other",))
    _licence(session, clock, store, school, lapsed, date(2026, 1, 31))
    licensed = make_supplier(session, clock, school, name="清源消毒中心", categories=("other",))
    _licence(session, clock, store, school, licensed, date(2027, 1, 31))
    answers = {
        "done_by": "outsourced",
        "vendor": str(lapsed.id),
        "method": "高温蒸汽",
        "items": "餐盘 300 个、碗 300 个",
        "disinfected_at": "06:30",
        "minutes": "30",
        "stored_clean": "yes",
    }

    with pytest.raises(SubmissionInvalid) as refused:
        _file(session, clock, store, cook, canteen, TABLEWARE, answers, "photo")
    assert refused.value.errors["vendor"].params["date"] == "2026-01-31"

    record = _file(
        session,
        clock,
        store,
        cook,
        canteen,
        TABLEWARE,
        {**answers, "vendor": str(licensed.id)},
        "photo",
    ).record
    assert record.answers["vendor"] == {"id": licensed.id, "name": "清源消毒中心"}
    assert "disinfector" not in record.answers
