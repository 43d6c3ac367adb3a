"""The food-safety reports on a phone in WeChat: the week and its print preview with no menus,
the minutes' tables as cards at 360 px, and every report link a finger high."""

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


SHORT_LINKS = """() => [...document.querySelectorAll('main a')]
  .filter(a => a.offsetParent !== null)
  .map(a => [a.textContent.trim(), Math.round(a.getBoundingClientRect().height)])
  .filter(([text, height]) => height < 44)"""


def test_the_minutes_read_as_cards_at_360_px_and_every_report_link_is_a_finger_high(
    page: Page,  # noqa: F811
    live_server: str,  # noqa: F811
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
) -> None:
    CanteenMonth(session, clock, store).live_through(31)
    clock.set(cst(1, 10, month=4))
    session.commit()

    page.goto(f"{live_server}/login?next=/reports/S1/food-safety/monthly/2026-03-01")
    log_in(page, "admin")

    expect(page.get_by_role("heading", name="每月食品安全调度会议纪要")).to_be_visible()
    assert scroll_width(page) <= PHONE_WIDTH, "the minutes scroll sideways on a phone"
    # The table of what was checked: its headers are hidden on a phone, so each cell says
    # what it holds (应做：22, 已完成：21 …) beside its number.
    labels = page.evaluate(
        """() => [...document.querySelectorAll('.sheet table')][0]
          .querySelectorAll('tbody tr')[0].querySelectorAll('td')
          .values().map(td => getComputedStyle(td, '::before').content).toArray()"""
    )
    assert labels[1:] == [
        '"应做："',
        '"已完成："',
        '"漏做："',
        '"无计划另行填报："',
        '"不合格："',
    ]
    first_row = page.locator(".sheet table").first.locator("tbody tr").first
    expect(first_row).to_contain_text("食堂从业人员晨检")
    assert page.evaluate(SHORT_LINKS) == [], "report links under 44 px high"

    for url in (
        "/reports/S1/food-safety?month=2026-03",
        "/reports/S1/food-safety/weekly/2026-03-09",
        "/reports/S1/food-safety/day/2026-03-10",
    ):
        page.goto(f"{live_server}{url}")
        assert page.evaluate(SHORT_LINKS) == [], f"links under 44 px high on {url}"
        assert scroll_width(page) <= PHONE_WIDTH, f"{url} scrolls sideways on a phone"
