"""A stranger's phone scans a label without an account: 报告问题, a description and a photo, and
a reference to quote; past the label's limit, the throttle's message in place of a reference."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import webapp.scan.public
from models.actions import CorrectiveAction
from models.clock import SettableClock
from tests.factories import make_asset, make_school
from tests.webapp.test_browser import (  # noqa: F401 - fixtures used by name
    PHONE_WIDTH,
    browser,
    live_server,
    page,
    scroll_width,
)
from tests.webapp.test_browser_photos import camera_photo

pytestmark = pytest.mark.browser


@pytest.fixture
def received(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The size of each photo as the server received it, before its own pipeline ran."""
    seen: list[tuple[int, int]] = []
    original = webapp.scan.public.prepare_photo

    def spy(data: bytes, *args: object, **kwargs: object) -> object:
        seen.append(Image.open(io.BytesIO(data)).size)
        return original(data, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(webapp.scan.public, "prepare_photo", spy)
    return seen


def _report(tab: Page, base: str, token: str, description: str) -> None:
    """Scan the label, tap 报告问题, write what is wrong, attach a photo and send."""
    tab.goto(f"{base}/s/{token}")
    tab.get_by_role("link", name="报告问题").tap()
    expect(tab.get_by_role("heading", name=re.compile("^报告问题"))).to_be_visible()
    tab.get_by_label("出了什么问题").fill(description)
    tab.get_by_label("照片（可选）").set_input_files(
        files={"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": camera_photo()}
    )
    assert scroll_width(tab) <= PHONE_WIDTH, "the report form scrolls sideways on a phone"
    tab.get_by_role("button", name="提交").tap()


def test_a_logged_out_scan_reports_a_problem_with_a_photo_then_the_limit_is_shown(
    app: Flask,
    page: Page,  # noqa: F811
    live_server: str,  # noqa: F811
    session: Session,
    clock: SettableClock,
    received: list[tuple[int, int]],
) -> None:
    app.extensions["houqin.settings"].reports.public_per_label_per_hour = 1
    school = make_school(session)
    token = make_asset(session, clock, school).current_label.token
    session.commit()

    _report(page, live_server, token, "灭火器压力表指针在红区")

    expect(page.get_by_role("status")).to_have_text("谢谢！已通知负责人。")
    expect(page.get_by_text("您的报告编号")).to_be_visible()
    expect(page.locator("#reference")).to_have_text(re.compile(r"^[A-Z0-9]{8}$"))
    # The 12 MP camera photo went scaled on the phone, upright, as a weak uplink needs.
    assert received == [(1200, 1600)]
    session.rollback()
    assert session.scalar(select(func.count()).select_from(CorrectiveAction)) == 1
    session.rollback()

    # A second report on the same label within the hour waits, and says why, in Chinese.
    _report(page, live_server, token, "灭火器箱门坏了")
    expect(page.get_by_role("alert")).to_contain_text("过去一小时内这个标签已收到多次报告")
    expect(page.get_by_label("出了什么问题")).to_have_value("灭火器箱门坏了")
    expect(page.locator("#reference")).to_have_count(0)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(CorrectiveAction)) == 1
    session.rollback()
