"""A supplier without a valid licence in the register is refused where it is chosen: at a
receiving check (a food licence: 食品经营许可证 or 食品生产许可证, the newest of each kind
deciding), and as the tableware disinfection service (a business licence); a refused delivery
is recorded whoever brought it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.assets import Asset, AssetKind
from models.catalogue import translate
from models.clock import SettableClock
from models.documents import Document, DocumentKind, add_document
from models.messages import SubmissionInvalid
from models.org import School
from models.people import Person
from models.photos import PhotoStore
from models.records import Channel, Record, Submission, Upload, submit_record
from models.supplier_licences import unlicensed_for_categories
from models.suppliers import Supplier
from tests.factories import (
    distinct_jpeg,
    make_asset,
    make_district_admin,
    make_supplier,
    template_for,
)

RECEIVING = "canteen_receiving_check"
DOCUMENT_KIND_TITLES = {
    DocumentKind.FOOD_BUSINESS_LICENCE: "食品经营许可证",
    DocumentKind.FOOD_PRODUCTION_LICENCE: "食品生产许可证",
    DocumentKind.BUSINESS_LICENCE: "营业执照",
}
TABLEWARE = "canteen_tableware_disinfection"
BUSINESS = DocumentKind.BUSINESS_LICENCE


def _licence(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    school: School,
    supplier: Supplier,
    expires_on: date,
    kind: DocumentKind = DocumentKind.FOOD_BUSINESS_LICENCE,
    issued_on: date | None = None,
) -> Document:
    admin = make_district_admin(
        session, clock, school, f"district{expires_on.isoformat()}{kind.value[:4]}"
    )
    return add_document(
        session,
        admin,
        school=school,
        holder=supplier,
        kind=kind,
        title=str(DOCUMENT_KIND_TITLES[kind]),
        number="JY12101020000123",
        issued_on=issued_on,
        expires_on=expires_on,
        store=store,
        now=clock.now(),
    )


def _receive(supplier: Supplier, **changes: str) -> dict[str, str]:
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
        **changes,
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
    mill = make_supplier(
        session, clock, school, name="金穗粮油", categories=("rice",), licensed=False
    )
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
    mill = make_supplier(
        session, clock, school, name="金穗粮油", categories=("rice",), licensed=False
    )
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
    lapsed = make_supplier(
        session,
        clock,
        school,
        name="洁康餐具消毒",
        categories=("tableware_disinfection",),
        licensed=False,
    )
    _licence(session, clock, store, school, lapsed, date(2026, 1, 31), BUSINESS)
    licensed = make_supplier(
        session,
        clock,
        school,
        name="清源消毒中心",
        categories=("tableware_disinfection",),
        licensed=False,
    )
    _licence(session, clock, store, school, licensed, date(2027, 1, 31), BUSINESS)
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


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Record)) or 0


def test_goods_from_a_supplier_with_no_licence_are_refused_naming_what_is_missing_and_who_adds_it(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    canteen_school: tuple[School, Person, Person],
    canteen: Asset,
) -> None:
    school, _, cook = canteen_school
    mill = make_supplier(
        session, clock, school, name="金穗粮油", categories=("rice",), licensed=False
    )

    with pytest.raises(SubmissionInvalid) as refused:
        _file(session, clock, store, cook, canteen, RECEIVING, _receive(mill), "delivery_note")

    message = refused.value.errors["supplier"]
    assert message.params["document"]["zh_CN"] == "食品经营许可证或食品生产许可证（SC）"
    assert "教育局" in translate("zh_CN", message.msgid, **message.params)
    assert "school office" not in message.msgid
    assert _count(session) == 0


def test_a_refused_delivery_is_recorded_even_from_a_supplier_without_a_valid_licence(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    canteen_school: tuple[School, Person, Person],
    canteen: Asset,
) -> None:
    school, _, cook = canteen_school
    lapsed = make_supplier(
        session, clock, school, name="金穗粮油", categories=("rice",), licensed=False
    )
    _licence(session, clock, store, school, lapsed, date(2026, 2, 28))
    refusal = _receive(lapsed, decision="refused", refusal_reason="许可证已过期")

    record = _file(session, clock, store, cook, canteen, RECEIVING, refusal, "delivery_note").record

    assert record.failed_items == ["decision"]
    assert record.answers["supplier"] == {"id": lapsed.id, "name": "金穗粮油"}


def test_a_producers_food_production_licence_lets_food_in_but_a_business_licence_alone_does_not(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    canteen_school: tuple[School, Person, Person],
    canteen: Asset,
) -> None:
    school, _, cook = canteen_school
    mill = make_supplier(
        session, clock, school, name="金穗粮油", categories=("rice",), licensed=False
    )
    _licence(session, clock, store, school, mill, date(2027, 2, 28), BUSINESS)

    with pytest.raises(SubmissionInvalid):
        _file(session, clock, store, cook, canteen, RECEIVING, _receive(mill), "delivery_note")
    _licence(
        session, clock, store, school, mill, date(2027, 2, 28), DocumentKind.FOOD_PRODUCTION_LICENCE
    )

    assert _file(session, clock, store, cook, canteen, RECEIVING, _receive(mill), "delivery_note")


def test_the_newest_licence_decides_and_the_register_says_the_same(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    canteen_school: tuple[School, Person, Person],
    canteen: Asset,
) -> None:
    school, _, cook = canteen_school
    # An old paper still valid, and a newer renewal entered beside it that has expired.
    hidden = make_supplier(
        session, clock, school, name="甲粮油", categories=("rice",), licensed=False
    )
    _licence(session, clock, store, school, hidden, date(2026, 12, 31), issued_on=date(2024, 1, 1))
    _licence(session, clock, store, school, hidden, date(2026, 2, 1), issued_on=date(2025, 2, 1))
    # An old expired paper, and a newer valid one.
    renewed = make_supplier(
        session, clock, school, name="乙粮油", categories=("rice",), licensed=False
    )
    _licence(session, clock, store, school, renewed, date(2026, 1, 1), issued_on=date(2023, 1, 1))
    _licence(session, clock, store, school, renewed, date(2029, 1, 1), issued_on=date(2026, 1, 2))
    today = date(2026, 3, 2)

    with pytest.raises(SubmissionInvalid) as refused:
        _file(session, clock, store, cook, canteen, RECEIVING, _receive(hidden), "delivery_note")
    assert refused.value.errors["supplier"].params["date"] == "2026-02-01"
    assert _file(
        session, clock, store, cook, canteen, RECEIVING, _receive(renewed), "delivery_note"
    )

    register = unlicensed_for_categories(session, [hidden, renewed], today)
    assert list(register) == [hidden.id]
    assert register[hidden.id][0] == refused.value.errors["supplier"]


def test_only_a_service_approved_for_tableware_disinfection_may_be_named(
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
    canteen_school: tuple[School, Person, Person],
    canteen: Asset,
) -> None:
    school, _, cook = canteen_school
    grocer = make_supplier(session, clock, school, name="鲜达蔬菜", categories=("vegetables",))
    answers = {
        "done_by": "outsourced",
        "vendor": str(grocer.id),
        "method": "高温蒸汽",
        "items": "餐盘 300 个",
        "disinfected_at": "06:30",
        "minutes": "30",
        "stored_clean": "yes",
    }

    with pytest.raises(SubmissionInvalid) as refused:
        _file(session, clock, store, cook, canteen, TABLEWARE, answers, "photo")

    assert refused.value.errors["vendor"].params["category"]["zh_CN"] == "餐具集中消毒服务"
