"""In the browser: a checklist filled in while the login ran out is kept through logging in."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.photos import RecordPhoto
from tests.factories import jpeg_bytes, make_asset, make_person, make_school
from tests.webapp.test_browser import (  # noqa: F401 - fixtures used by name
    EXTINGUISHER_CHECKLIST,
    INSPECTOR_PHONE,
    browser,
    live_server,
    log_in,
    page,
    scan_and_log_in,
)

pytestmark = pytest.mark.browser


def test_a_form_sent_after_the_login_expired_comes_back_filled_in_with_its_photo(
    page: Page,  # noqa: F811
    live_server: str,  # noqa: F811
    session: Session,
    clock: SettableClock,
) -> None:
    school = make_school(session)
    make_person(session, clock, school, phone=INSPECTOR_PHONE)
    token = make_asset(session, clock, school).current_label.token
    session.commit()
    scan_and_log_in(page, live_server, token, INSPECTOR_PHONE)
    page.get_by_role("link", name=EXTINGUISHER_CHECKLIST).tap()
    choices = page.locator("form fieldset").filter(has=page.locator(".choices"))
    expect(choices).to_have_count(5)
    for fieldset in choices.all():
        fieldset.get_by_text("合格", exact=True).tap()
    page.get_by_label("现场照片（含压力表）").set_input_files(
        files={"name": "gauge.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()}
    )

    # Meanwhile the phone's login ran out (cookies gone): the submission meets the login page.
    page.context.clear_cookies()
    page.get_by_role("button", name="提交").tap()
    log_in(page, INSPECTOR_PHONE)

    expect(page).to_have_url(re.compile(rf"/s/{token}/record/extinguisher_monthly\?draft="))
    expect(page.get_by_role("status")).to_contain_text("您填写的内容已保留")
    first = page.locator("form fieldset").filter(has=page.locator(".choices")).first
    expect(first.get_by_label("合格", exact=True)).to_be_checked()
    expect(page.get_by_text("已保留之前的 1 张照片")).to_be_visible()
    page.get_by_role("button", name="提交").tap()
    expect(page).to_have_url(re.compile(r"/records/\d+\?done=1$"))
    session.rollback()
    assert session.scalar(select(func.count()).select_from(RecordPhoto)) == 1
    session.rollback()
