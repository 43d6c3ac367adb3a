"""The ledger in Chromium: a table at desktop width, a card per record on a phone, no
sideways scrolling; the print page has no menus and carries its signature lines."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from models.clock import SettableClock
from tests.factories import (
    EXTINGUISHER_OK,
    file_check,
    make_asset,
    make_person,
    make_school,
)
from tests.webapp.test_browser import (  # noqa: F401 - fixtures used by name
    PHONE_WIDTH,
    browser,
    live_server,
    log_in,
    page,
    scroll_width,
)

pytestmark = pytest.mark.browser
MARCH = "period=month&on=2026-03-02"


@pytest.fixture
def filed(app: Flask, session: Session, clock: SettableClock) -> None:
    """Two checks at S1, one failed."""
    store = app.extensions["houqin.photos"]
    school = make_school(session, "S1")
    inspector = make_person(session, clock, school)
    asset = make_asset(session, clock, school)
    file_check(session, clock, store, inspector, asset, "b-pass-0001")
    clock.advance(timedelta(hours=1))
    file_check(
        session,
        clock,
        store,
        inspector,
        asset,
        "b-fail-0001",
        {**EXTINGUISHER_OK, "gauge_green": "fail"},
    )
    session.commit()


def test_the_ledger_is_cards_on_a_phone_and_a_table_on_a_desktop(
    page: Page,  # noqa: F811
    browser: Browser,  # noqa: F811
    live_server: str,  # noqa: F811
    filed: None,
) -> None:
    page.goto(f"{live_server}/ledger/S1?{MARCH}")
    log_in(page, "inspector")  # and back to the ledger

    expect(page.get_by_text("压力表指针不在绿区", exact=True)).to_be_visible()
    assert scroll_width(page) <= PHONE_WIDTH
    assert not page.locator("table.ledger thead").is_visible()  # a card names each cell itself
    cell = page.locator("table.ledger td").first
    assert cell.evaluate("e => getComputedStyle(e).display") == "block"

    desktop = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    desk = desktop.new_page()
    desk.context.add_cookies(page.context.cookies())
    desk.goto(f"{live_server}/ledger/S1?{MARCH}")
    expect(desk.locator("table.ledger thead")).to_be_visible()
    assert desk.locator("table.ledger tbody tr").count() == 2

    desk.goto(f"{live_server}/ledger/S1/print?{MARCH}")
    desk.emulate_media(media="print")
    assert desk.locator("nav").count() == 0
    expect(desk.get_by_text("校长")).to_be_visible()
    desktop.close()


def test_the_print_page_read_on_a_phone_scrolls_its_table_not_the_page(
    page: Page,  # noqa: F811
    live_server: str,  # noqa: F811
    filed: None,
) -> None:
    page.goto(f"{live_server}/ledger/S1/print?{MARCH}")
    log_in(page, "inspector")  # and back to the print page

    expect(page.get_by_text("校长")).to_be_visible()
    assert scroll_width(page) <= PHONE_WIDTH


def test_a_register_is_cards_on_a_phone_without_sideways_scrolling(
    app: Flask,
    page: Page,  # noqa: F811
    live_server: str,  # noqa: F811
    session: Session,
    clock: SettableClock,
) -> None:
    from models.people import Role
    from tests.factories import make_certificate

    school = make_school(session, "S1")
    admin = make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    cook = make_person(session, clock, school, Role.CANTEEN_STAFF, "cook")
    make_certificate(
        session, clock, app.extensions["houqin.photos"], admin, school, cook, number="JK-001"
    )
    session.commit()

    page.goto(f"{live_server}/ledger/S1/registers/certificates?{MARCH}")
    log_in(page, "admin")  # and back to the register

    expect(page.get_by_text("JK-001", exact=True)).to_be_visible()
    assert scroll_width(page) <= PHONE_WIDTH
    assert not page.locator("table.register thead").is_visible()
    cell = page.locator("table.register td").first
    assert cell.evaluate("e => getComputedStyle(e).display") == "block"
