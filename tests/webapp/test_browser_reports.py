"""The week's food-safety report on a phone in WeChat, and its print preview with no menus."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.photos import PhotoStore
from tests.factories import CanteenMonth, cst
from tests.webapp.test_browser import (  # noqa: F401 (fixtures)
    PHONE_WIDTH,
    browser,
    live_server,
    log_in,
    page,
    scroll_width,
)

pytestmark = pytest.mark.browser


def test_the_week_report_reads_on_a_phone_and_prints_without_the_menus(
    page: Page,  # noqa: F811
    live_server: str,  # noqa: F811
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
) -> None:
    CanteenMonth(session, clock, store).live_through(9)
    clock.set(cst(9, 10))
    session.commit()

    page.goto(f"{live_server}/login?next=/reports/S1/food-safety/weekly/2026-03-02")
    log_in(page, "admin")

    expect(page.get_by_role("heading", name="每周食品安全排查治理报告")).to_be_visible()
    expect(page.get_by_text("2026-03-04：食堂从业人员晨检")).to_be_visible()
    assert scroll_width(page) <= PHONE_WIDTH, "the report scrolls sideways on a phone"
    expect(page.get_by_role("button", name="签字")).to_be_visible()

    page.emulate_media(media="print")
    expect(page.locator("header")).to_be_hidden()
    expect(page.get_by_role("button", name="签字")).to_be_hidden()
    expect(page.get_by_role("heading", name="每周食品安全排查治理报告")).to_be_visible()
