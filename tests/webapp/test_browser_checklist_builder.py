"""On a 360 px phone with JavaScript off: a logistics officer writes a new checklist in the form."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from models.checklists import latest_template
from models.clock import SettableClock
from models.people import Role
from tests.factories import make_person, make_school
from tests.webapp.test_browser import (  # noqa: F401 - fixtures used by name
    PHONE_WIDTH,
    WECHAT_UA,
    browser,
    live_server,
    log_in,
    scroll_width,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def no_js_page(browser: Browser) -> Iterator[Page]:  # noqa: F811
    """A phone-sized tab that runs no JavaScript at all."""
    context = browser.new_context(
        viewport={"width": PHONE_WIDTH, "height": 740},
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        user_agent=WECHAT_UA,
        java_script_enabled=False,
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_a_checklist_is_written_and_saved_on_a_phone_without_javascript(
    no_js_page: Page,
    live_server: str,  # noqa: F811
    session: Session,
    clock: SettableClock,
) -> None:
    page = no_js_page
    school = make_school(session)
    make_person(session, clock, school, Role.DISTRICT_ADMIN, "district")
    session.commit()
    page.goto(f"{live_server}/checklists/new/form")
    log_in(page, "district")
    expect(page.get_by_role("heading", name="新建检查表")).to_be_visible()

    page.get_by_label("名称（中文）").fill("宿舍门锁检查")
    page.get_by_label("名称（英文）").fill("Dorm lock check")
    page.get_by_label("适用的资产类别").select_option("dorm_room")
    page.get_by_label("检查内容（中文）").fill("门锁完好")
    page.get_by_label("检查内容（英文）").fill("Lock works")
    page.get_by_label("不合格时的说法（中文）").fill("门锁损坏")
    page.get_by_label("不合格时的说法（英文）").fill("Lock broken")
    page.get_by_role("button", name="添加条目").tap()
    second = page.locator("#f-items-1")
    expect(second).to_be_visible()
    second.get_by_label("检查内容（中文）").fill("门锁照片")
    second.get_by_label("检查内容（英文）").fill("Photo of the lock")
    second.get_by_label("回答方式").select_option("photo")
    second.get_by_role("button", name="按此方式显示设置").tap()
    expect(page.locator("#f-items-1").get_by_text("可上传多张照片")).to_be_visible()
    page.get_by_role("button", name="将第 2 项上移").tap()
    expect(page.locator('input[name="items-0-label_zh"]')).to_have_value("门锁照片")
    assert scroll_width(page) <= PHONE_WIDTH, "the form scrolls sideways on a phone"
    page.get_by_role("button", name="保存", exact=True).tap()

    expect(page).to_have_url(re.compile(r"/checklists/own_1$"))
    expect(page.get_by_role("status")).to_contain_text("已保存为版本 1。")
    session.rollback()
    spec = latest_template(session, "own_1", district_id=school.district_id).spec
    assert [i.type for i in spec.items] == ["photo", "pass_fail"]
    assert spec.kind == "dorm_room"
