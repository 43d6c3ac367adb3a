"""In the browser: the checklist form sends where the phone is, when the person allows it, and
the record says how far from the school that was."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from models.clock import SettableClock
from tests.factories import make_asset, make_person, make_school
from tests.webapp.test_browser import (  # noqa: F401 - fixtures used by name
    INSPECTOR_PHONE,
    PHONE_WIDTH,
    WECHAT_UA,
    browser,
    live_server,
    scan_and_log_in,
)
from tests.webapp.test_browser_photos import camera_photo, fill_extinguisher_form

pytestmark = pytest.mark.browser


@pytest.fixture
def located_page(browser: Browser) -> Iterator[Page]:  # noqa: F811
    """A phone whose person allowed the page to know where it is: 120 m north of the school."""
    context = browser.new_context(
        viewport={"width": PHONE_WIDTH, "height": 740},
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        user_agent=WECHAT_UA,
        geolocation={"latitude": 31.2304 + 120 / 111_195, "longitude": 121.4737, "accuracy": 15},
        permissions=["geolocation"],
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_the_phones_location_is_sent_with_the_record_and_shown_as_a_distance(
    located_page: Page,
    live_server: str,  # noqa: F811
    session: Session,
    clock: SettableClock,
) -> None:
    school = make_school(session)
    school.latitude, school.longitude = 31.2304, 121.4737
    make_person(session, clock, school, phone=INSPECTOR_PHONE)
    token = make_asset(session, clock, school).current_label.token
    session.commit()
    scan_and_log_in(located_page, live_server, token, INSPECTOR_PHONE)
    fill_extinguisher_form(located_page, camera_photo())
    located_page.get_by_role("button", name="提交").tap()

    expect(located_page).to_have_url(re.compile(r"/records/\d+\?done=1$"))
    expect(located_page.locator("#location")).to_have_text("距学校约 120 米（精度 15 米）")
