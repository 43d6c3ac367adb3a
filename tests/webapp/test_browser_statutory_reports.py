"""The fire record and the district's report signatures on a phone: no sideways scrolling,
every link a finger's height (44 px), each school a card naming each report."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.photos import PhotoStore
from tests.factories import FireMonth, cst, make_district_admin
from tests.webapp.test_browser import (  # noqa: F401 (fixtures)
    PHONE_WIDTH,
    browser,
    live_server,
    log_in,
    page,
    scroll_width,
)

pytestmark = pytest.mark.browser


def _tappable(page: Page, where: str) -> None:  # noqa: F811
    for target in page.locator("main a, main button").all():
        if target.is_visible():
            box = target.bounding_box()
            assert box is not None and box["height"] >= 44, f"{where}: {target.inner_text()!r}"


def test_the_fire_record_and_the_signatures_read_on_a_phone(
    page: Page,  # noqa: F811
    live_server: str,  # noqa: F811
    session: Session,
    clock: SettableClock,
    store: PhotoStore,
) -> None:
    month = FireMonth(session, clock, store)
    month.live_through(31)
    make_district_admin(session, clock, month.school)
    clock.set(cst(1, 10, month=4))
    session.commit()

    page.goto(f"{live_server}/login?next=/reports/S1/fire-safety/monthly/2026-03-01")
    log_in(page, "district")
    expect(page.get_by_role("heading", name="每月防火检查记录")).to_be_visible()
    assert scroll_width(page) <= PHONE_WIDTH, "the fire record scrolls sideways on a phone"
    _tappable(page, "fire record")

    page.goto(f"{live_server}/reports/status?month=2026-03")
    expect(page.get_by_role("heading", name="报告签字情况 · 2026-03")).to_be_visible()
    card = page.locator("table.statuses tbody tr").first
    expect(card).to_contain_text("实验小学")
    expect(card.locator('td[data-label="防火检查记录"]')).to_contain_text("待签字")
    # On a phone a school's card holds only the reports it owes.
    expect(card.locator("td:visible")).to_have_count(1)
    assert scroll_width(page) <= PHONE_WIDTH, "the signatures scroll sideways on a phone"
    _tappable(page, "signatures")
    card.get_by_role("link", name="待签字").tap()
    expect(page.get_by_role("heading", name="每月防火检查记录")).to_be_visible()
