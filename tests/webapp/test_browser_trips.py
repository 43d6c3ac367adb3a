"""The escort on a phone: the arrival filed at the door label, then the walk to the back and
the scan of the rear label (车尾) that completes it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models.assets import AssetKind
from models.checklists import base_template
from models.clock import SettableClock
from models.people import Role
from models.photos import PhotoStore
from models.records import Channel, submit_record
from models.trips import Trip, TripStatus
from tests.factories import file_pre_trip_check, make_asset, make_person, make_school
from tests.webapp.test_browser import (  # noqa: F401 - fixtures used by name
    browser,
    live_server,
    page,
    scan_and_log_in,
)

pytestmark = pytest.mark.browser


def test_the_escort_completes_the_arrival_at_the_rear_label(
    page: Page,  # noqa: F811
    live_server: str,  # noqa: F811
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    store: PhotoStore,
) -> None:
    school = make_school(session)
    teacher = make_person(session, clock, school, Role.TEACHER, "teacher")
    bus = make_asset(session, clock, school, AssetKind.BUS, "XC-01", "1号校车", seats=19)
    file_pre_trip_check(session, clock, store, bus, teacher)
    submit_record(
        session,
        actor=teacher,
        asset=bus,
        template=base_template(session, "bus_departure"),
        answers={"teacher_on_board": "yes", "children_boarded": "12", "seatbelts_on": "yes"},
        uploads=[],
        key="dep-00001",
        channel=Channel.WEB,
        clock=clock,
        store=store,
    )
    front, rear = bus.current_label.token, bus.rear_label.token
    session.commit()

    scan_and_log_in(page, live_server, front, "teacher")
    page.get_by_role("link", name="校车到达确认").first.tap()
    page.get_by_label("下车学生人数").fill("12")
    page.locator("#f-bus_checked_empty").get_by_text("是", exact=True).tap()
    page.get_by_role("button", name="提交").tap()
    expect(page.get_by_role("alert")).to_contain_text("扫车尾的标签")

    page.goto(f"{live_server}/s/{rear}")
    expect(page.get_by_text("车尾标签")).to_be_visible()
    page.get_by_role("button", name="我已走到车尾逐排检查：车内无学生滞留").tap()

    expect(page.get_by_text("到达确认完成：已检查到最后一排。")).to_be_visible()
    expect(page.get_by_text("到达，下车 12 人")).to_be_visible()
    with session_factory() as fresh:
        trip = fresh.scalar(select(Trip))
        assert trip.status == TripStatus.ARRIVED and trip.rear_checked_by_id == teacher.id
