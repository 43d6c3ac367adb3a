"""The district's dashboard on a phone at 360 px and on a desktop: no sideways scroll on the
phone, the charts drawn with their numbers, the school table at desktop width."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.people import Role
from tests.factories import make_asset, make_person, make_school, make_task
from tests.webapp.test_browser import (  # noqa: F401 - fixtures used by name
    PHONE_WIDTH,
    browser,
    live_server,
    log_in,
    page,
    scroll_width,
)

pytestmark = pytest.mark.browser

NOW = datetime(2026, 3, 20, 2, 0, tzinfo=UTC)


@pytest.fixture
def district(session: Session, clock: SettableClock) -> None:
    one = make_school(session, "S1", "实验小学")
    for n in range(2, 7):
        school = make_school(session, f"S{n}", f"第{n}实验小学附属学校", district=one.district)
        asset = make_asset(session, clock, school, code=f"MHQ-{n}", name=f"{n}号灭火器")
        for day in range(10, 10 + n):
            state = "missed" if day % n == 0 else "done"
            due = datetime(2026, 3, day, 9, tzinfo=UTC)
            make_task(session, asset, due, state, done_at=due if state == "done" else None)
    make_person(session, clock, one, Role.DISTRICT_ADMIN, "district")
    session.commit()
    clock.set(NOW)


def test_the_dashboard_reads_on_a_phone_and_a_desktop(
    page: Page,  # noqa: F811
    live_server: str,  # noqa: F811
    district: None,
) -> None:
    page.goto(f"{live_server}/dashboard")
    log_in(page, "district")
    expect(page.get_by_role("heading", name="看板")).to_be_visible()
    expect(page.get_by_role("img", name="每周任务：按时完成、逾期完成和漏检")).to_be_visible()
    expect(page.get_by_role("img", name="各校按时完成率，由低到高")).to_be_visible()
    assert scroll_width(page) <= PHONE_WIDTH, "the dashboard scrolls sideways on a phone"
    small = page.evaluate(
        """() => [...document.querySelectorAll('header a, main a')]
            .filter(a => a.offsetParent !== null)
            .map(a => [a.textContent.trim(), a.getBoundingClientRect()])
            .filter(([, r]) => r.height < 44 || r.width < 44)
            .map(([text, r]) => `${text} ${Math.round(r.width)}x${Math.round(r.height)}`)"""
    )
    assert small == [], "links smaller than a fingertip (44 px)"
    page.get_by_role("link", name="未上报（漏检）").first.tap()
    expect(page.get_by_role("heading", name="未上报（漏检）")).to_be_visible()
    assert scroll_width(page) <= PHONE_WIDTH
    page.get_by_role("link", name="第2实验小学附属学校").first.tap()
    expect(page.get_by_role("heading", name="第2实验小学附属学校 · 看板")).to_be_visible()
    assert scroll_width(page) <= PHONE_WIDTH

    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server}/dashboard")
    expect(page.get_by_role("columnheader", name="当前逾期")).to_be_visible()
