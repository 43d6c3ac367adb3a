"""The supplier's water test report is an expiring document in the school's register."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.documents import DocumentStatus, visible_document
from models.notifications import Notification
from models.photos import PhotoStore
from models.water import current_water_test_report
from tests.factories import WATER_TESTED, WaterQuarter, cst


def _said_to(session: Session, person_id: int) -> list[str]:
    return list(
        session.scalars(
            select(Notification.text)
            .where(Notification.recipient_id == person_id)
            .order_by(Notification.id)
        )
    )


def test_a_filed_water_test_report_is_in_the_register_and_its_expiry_is_announced(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    water = WaterQuarter(session, clock, store)
    water.sweep_to(cst(5, 9))
    water.file(water.office, "water_quarterly_report", WATER_TESTED, cst(5, 9))

    report = current_water_test_report(session, water.school.id)
    assert report is not None
    assert (report.title, report.issued_on, report.expires_on) == (
        "饮用水水质检测报告（清泉桶装水厂）",
        date(2026, 3, 3),
        date(2026, 6, 30),
    )
    assert report.photo is not None  # the report's photo, as filed
    assert visible_document(session, water.admin, report.id) is report
    assert report.status(date(2026, 6, 10)) == DocumentStatus.EXPIRING

    water.sweep_to(cst(23, 10, month=6))
    assert "饮用水水质检测报告（清泉桶装水厂）（实验小学）将于 2026-06-30 到期，还有 7 天。" in (
        _said_to(session, water.admin.id)
    )


def test_the_next_quarters_report_replaces_the_last_and_is_the_one_reminded_of(
    session: Session, clock: SettableClock, store: PhotoStore
) -> None:
    water = WaterQuarter(session, clock, store)
    water.sweep_to(cst(5, 9))
    water.file(water.office, "water_quarterly_report", WATER_TESTED, cst(5, 9))
    first = current_water_test_report(session, water.school.id)
    water.sweep_to(cst(2, 9, month=6))
    before = len(_said_to(session, water.admin.id))  # the 30-day notice of 31 May among them
    water.file(
        water.office,
        "water_quarterly_report",
        {**WATER_TESTED, "report_date": "2026-06-01", "valid_until": "2026-09-30"},
        cst(2, 9, month=6),
    )

    second = current_water_test_report(session, water.school.id)
    assert first is not None and second is not None and first.replaced_by is second
    assert second.expires_on == date(2026, 9, 30)
    water.sweep_to(cst(1, 10, month=7))
    after = _said_to(session, water.admin.id)[before:]
    assert not any("2026-06-30" in text for text in after)  # no 7-day, 1-day or same-day notice
