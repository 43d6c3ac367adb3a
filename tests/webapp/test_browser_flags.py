"""In the browser: a desk walking a photocopied label sheet. Three extinguishers "checked" at
a phone twelve seconds apart are filed, flagged in words on the record and in the ledger, and
an administrator marks one explained with a note."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.people import Role
from tests.factories import make_asset, make_person, make_school
from tests.webapp.test_browser import (  # noqa: F401 - fixtures used by name
    INSPECTOR_PHONE,
    PHONE_WIDTH,
    browser,
    live_server,
    log_in,
    page,
    scan_and_log_in,
    scroll_width,
)
from tests.webapp.test_browser_photos import fill_extinguisher_form

pytestmark = pytest.mark.browser

QUICK = "距同一人上一条记录（{asset}，同一楼层）仅 12 秒"


def _photo_taken_now(clock: SettableClock, color: str) -> bytes:
    """A camera photo of its own, captured as it is filed (so only the pace is implausible)."""
    exif = Image.Exif()
    taken = clock.now().astimezone(ZoneInfo("Asia/Shanghai"))
    exif.get_ifd(0x8769)[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
    out = io.BytesIO()
    Image.new("RGB", (1600, 1200), color).save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_three_extinguishers_checked_in_24_seconds_are_flagged_and_one_is_explained(
    page: Page,  # noqa: F811
    live_server: str,  # noqa: F811
    session: Session,
    clock: SettableClock,
) -> None:
    school = make_school(session)
    make_person(session, clock, school, phone=INSPECTOR_PHONE)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    names = ("一楼东侧灭火器", "一楼西侧灭火器", "一楼楼梯口灭火器")
    tokens = [
        make_asset(session, clock, school, code=f"MHQ-00{n + 1}", name=name).current_label.token
        for n, name in enumerate(names)
    ]
    session.commit()

    scan_and_log_in(page, live_server, tokens[0], INSPECTOR_PHONE)
    records = []
    for n, (token, color) in enumerate(zip(tokens, ("red", "green", "blue"), strict=True)):
        if n:
            clock.advance(timedelta(seconds=12))
            page.goto(f"{live_server}/s/{token}")
        fill_extinguisher_form(page, _photo_taken_now(clock, color))
        page.get_by_role("button", name="提交").tap()
        expect(page).to_have_url(re.compile(r"/records/\d+\?done=1$"))
        records.append(page.url.split("?")[0])
    page.get_by_role("button", name="退出登录").tap()
    expect(page.get_by_role("heading", name="登录")).to_be_visible()

    page.goto(f"{live_server}/ledger/S1?flagged=1")
    log_in(page, "admin")
    ledger = page.locator("main")
    expect(ledger.get_by_text("共 2 条记录")).to_be_visible()
    expect(ledger.get_by_text(QUICK.format(asset="一楼东侧灭火器 MHQ-001"))).to_be_visible()
    expect(ledger.get_by_text(QUICK.format(asset="一楼西侧灭火器 MHQ-002"))).to_be_visible()
    assert scroll_width(page) <= PHONE_WIDTH, "the flagged ledger scrolls sideways on a phone"

    page.goto(records[2])
    expect(page.locator("#flags")).to_have_text("⚠ " + QUICK.format(asset="一楼西侧灭火器 MHQ-002"))
    page.get_by_label("说明这些标记").fill("三个灭火器挂在同一根柱子旁")
    page.get_by_role("button", name="标为已说明").tap()
    expect(page.locator("#explained")).to_contain_text("已说明：三个灭火器挂在同一根柱子旁")

    page.goto(records[0])
    expect(page.locator("#flags")).to_have_count(0)  # the first of the walk is not flagged
