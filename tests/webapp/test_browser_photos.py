"""In the browser: a 12 MP photo is sized on the phone, upright, with its capture time beside it;
without JavaScript the original goes and the server sizes it."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, Request, Route, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import webapp.scan
from models.clock import SettableClock
from models.photos import LONG_SIDE, Photo
from models.records import Record, Upload
from tests.factories import make_asset, make_person, make_school
from tests.webapp.test_browser import (  # noqa: F401 - fixtures used by name
    EXTINGUISHER_CHECKLIST,
    INSPECTOR_PHONE,
    PHONE_WIDTH,
    WECHAT_UA,
    browser,
    live_server,
    page,
    scan_and_log_in,
)

pytestmark = pytest.mark.browser

# Taken at 07:45 Beijing time that morning; rotated a quarter turn (EXIF orientation 6), as a
# phone held upright stores it.
TAKEN = "2026:03:02 07:45:00"
TAKEN_UTC = datetime(2026, 3, 1, 23, 45, tzinfo=UTC)


def camera_photo(offset: str | None = "+08:00") -> bytes:
    """A 4000×3000 camera JPEG, stored sideways with orientation 6, with its capture time."""
    image = Image.new("RGB", (4000, 3000), "orange")
    image.paste((20, 60, 160), (0, 0, 4000, 600))  # a blue band along the sensor's top edge
    exif = Image.Exif()
    exif[0x0112] = 6
    exif_ifd = exif.get_ifd(0x8769)
    exif_ifd[0x9003] = TAKEN
    if offset:
        exif_ifd[0x9011] = offset
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


@pytest.fixture
def received(monkeypatch: pytest.MonkeyPatch) -> list[Upload]:
    """What the server received for each photo, before its own pipeline ran."""
    seen: list[Upload] = []
    original = webapp.scan._uploads

    def spy() -> list[Upload]:
        uploads = original()
        seen.extend(uploads)
        return uploads

    monkeypatch.setattr(webapp.scan, "_uploads", spy)
    return seen


def fill_extinguisher_form(tab: Page, photo: bytes) -> None:
    """Every item passes; the camera photo is chosen for the gauge."""
    tab.get_by_role("link", name=EXTINGUISHER_CHECKLIST).tap()
    choices = tab.locator("form fieldset").filter(has=tab.locator(".choices"))
    expect(choices).to_have_count(5)
    for fieldset in choices.all():
        fieldset.get_by_text("合格", exact=True).tap()
    tab.get_by_label("现场照片（含压力表）").set_input_files(
        files={"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": photo}
    )


def test_a_camera_photo_is_scaled_upright_on_the_phone_and_keeps_its_capture_time(
    page: Page,  # noqa: F811
    live_server: str,  # noqa: F811
    session: Session,
    clock: SettableClock,
    received: list[Upload],
) -> None:
    school = make_school(session)
    make_person(session, clock, school, phone=INSPECTOR_PHONE)
    token = make_asset(session, clock, school).current_label.token
    session.commit()
    scan_and_log_in(page, live_server, token, INSPECTOR_PHONE)
    original = camera_photo()
    fill_extinguisher_form(page, original)

    # Hold the upload at the network so what the person sees meanwhile can be checked.
    held: list[Route] = []
    posts: list[Request] = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" else None)
    page.route(re.compile(r"/record/extinguisher_monthly$"), lambda route: held.append(route))
    submit = page.get_by_role("button", name="提交")
    with page.expect_request(lambda r: r.method == "POST"):
        submit.tap()
        expect(page.locator(".photo-status")).to_have_text(re.compile(r"准备照片…|正在上传 \d+%"))
    expect(submit).to_be_disabled()
    page.evaluate("document.querySelector('form[data-photos]').requestSubmit()")
    assert len(held) == 1
    held[0].continue_()
    page.unroute(re.compile(r"/record/extinguisher_monthly$"))

    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server)}/records/\d+\?done=1$"))
    expect(page.get_by_role("status")).to_contain_text("已提交，谢谢！")
    expect(page.get_by_text("拍摄于 2026-03-02 07:45")).to_be_visible()
    assert len([p for p in posts if "/record/" in p.url]) == 1, "the form was sent twice"
    (upload,) = received
    sent = Image.open(io.BytesIO(upload.data))
    assert max(sent.size) <= LONG_SIDE
    assert sent.size == (1200, 1600), "the phone did not turn the photo upright"
    assert sent.getpixel((sent.width - 20, sent.height // 2))[2] > 120, "the blue band is lost"
    assert len(upload.data) < len(original) / 4
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Record)) == 1
    photo = session.scalars(select(Photo)).one()
    assert (photo.width, photo.height) == (1200, 1600)
    assert photo.taken_at == TAKEN_UTC
    session.rollback()


@pytest.fixture
def page_without_js(browser: Browser) -> Iterator[Page]:  # noqa: F811
    """The same phone with JavaScript turned off."""
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


def test_without_javascript_the_original_is_sent_and_the_server_sizes_it(
    page_without_js: Page,
    live_server: str,  # noqa: F811
    session: Session,
    clock: SettableClock,
    received: list[Upload],
) -> None:
    tab = page_without_js
    school = make_school(session)
    make_person(session, clock, school, phone=INSPECTOR_PHONE)
    token = make_asset(session, clock, school).current_label.token
    session.commit()
    scan_and_log_in(tab, live_server, token, INSPECTOR_PHONE)
    original = camera_photo(offset=None)
    fill_extinguisher_form(tab, original)
    tab.get_by_role("button", name="提交").tap()

    expect(tab).to_have_url(re.compile(r"/records/\d+\?done=1$"))
    # No offset in the file: its time is read as the district's (Beijing).
    expect(tab.get_by_text("拍摄于 2026-03-02 07:45")).to_be_visible()
    (upload,) = received
    assert upload.data == original
    session.rollback()
    photo = session.scalars(select(Photo)).one()
    assert (photo.width, photo.height) == (1200, 1600)
    assert photo.taken_at == TAKEN_UTC
    session.rollback()
