"""The score pages on a phone at 360 px and on a desktop: the ranking, a school's breakdown and
what lost its points, no sideways scroll on the phone, every link a finger's size (44 px)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.people import Role
from tests.factories import make_asset, make_person, make_record_row, make_school, make_task
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
TAP_PX = 44


@pytest.fixture
def district(session: Session, clock: SettableClock) -> None:
    """Four schools with long names; the second misses one check in three and has a record
    with a photo filed twice."""
    one = make_school(session, "S1", "实验小学")
    district = make_person(session, clock, one, Role.DISTRICT_ADMIN, "district")
    for n in range(2, 6):
        school = make_school(session, f"S{n}", f"第{n}实验小学附属学校", district=one.district)
        asset = make_asset(
            session, clock, school, code=f"MHQ-{n}0001", name=f"教学楼{n}层东侧灭火器"
        )
        for day in range(2, 2 + 3 * n):
            state = "missed" if day % n == 0 else "done"
            due = datetime(2026, 3, day, 9, tzinfo=UTC)
            make_task(session, asset, due, state, done_at=due if state == "done" else None)
        original = make_record_row(session, asset, district, datetime(2026, 3, 3, 1, tzinfo=UTC))
        if n == 2:
            make_record_row(
                session,
                asset,
                district,
                datetime(2026, 3, 4, 1, tzinfo=UTC),
                same_photo_as=original,
            )
    session.commit()
    clock.set(NOW)


def assert_fingers_fit(tab: Page, where: str) -> None:
    """Every link in the page's content is at least TAP_PX tall."""
    links = tab.locator("main a")
    assert links.count() > 0, where
    for link in links.all():
        if link.is_visible():
            box = link.bounding_box()
            assert box is not None and box["height"] >= TAP_PX, (
                f"{where}: {link.inner_text()!r} is {box} high"
            )


def test_the_ranking_and_a_breakdown_read_on_a_phone_and_a_desktop(
    page: Page,  # noqa: F811
    live_server: str,  # noqa: F811
    district: None,
) -> None:
    page.goto(f"{live_server}/score?period=month&on=2026-03-01")
    log_in(page, "district")
    ranking = page.locator("#ranking")
    expect(page.get_by_role("heading", name="学校评分")).to_be_visible()
    expect(ranking.get_by_text("第1名")).to_be_visible()
    expect(page.get_by_text("实时，未发布")).to_be_visible()
    expect(ranking.locator("li")).to_have_count(5)
    assert scroll_width(page) <= PHONE_WIDTH, "the ranking scrolls sideways on a phone"
    assert_fingers_fit(page, "ranking at 360 px")

    ranking.get_by_role("link", name="第2实验小学附属学校").tap()
    expect(page.get_by_role("heading", name="第2实验小学附属学校 · 评分")).to_be_visible()
    expect(page.locator("#on_time").get_by_text("权重")).to_be_visible()
    flagged = page.locator("#flags").get_by_role("link")
    expect(flagged).to_have_text(
        "2026-03-04 09:00的记录：MHQ-20001 教学楼2层东侧灭火器 · 灭火器月度检查"
    )
    expect(page.locator("#on_time").get_by_role("link").first).to_contain_text("漏检（应于")
    expect(page.locator("#trips").get_by_text("—（无数据）")).to_be_visible()
    assert scroll_width(page) <= PHONE_WIDTH, "the breakdown scrolls sideways on a phone"
    assert_fingers_fit(page, "breakdown at 360 px")
    flagged.tap()
    expect(page.get_by_role("heading", name="灭火器月度检查 合格")).to_be_visible()
    expect(page.get_by_text("MHQ-20001 · 教学楼2层东侧灭火器")).to_be_visible()

    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server}/score?period=month&on=2026-03-01")
    expect(ranking.get_by_role("link", name="第5实验小学附属学校")).to_be_visible()
    assert scroll_width(page) <= 1280
    page.get_by_label("我已核对这些评分", exact=False).check()
    page.get_by_role("button", name="发布评分").click()
    expect(page.get_by_text("已发布：这些评分从此固定")).to_be_visible()
    expect(page.locator("#score-status")).to_contain_text("已发布于 2026-03-20 10:00")
    ranking.get_by_role("link", name="第3实验小学附属学校").click()
    expect(page.locator("#total")).to_contain_text("第")
    assert_fingers_fit(page, "breakdown at desktop width")
