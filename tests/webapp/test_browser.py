"""A phone in WeChat scans a label, logs in, files a record with a photo and reads the ledger."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask
from PIL import Image
from playwright.sync_api import Browser, Locator, Page, Request, expect, sync_playwright
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import make_server

from models.assets import AssetKind
from models.checklists import base_template, save_template_version
from models.clock import SettableClock
from models.people import Role
from models.photos import THUMB_SIDE
from models.records import Record
from models.sweep import sweep
from tests.factories import PASSWORD, jpeg_bytes, make_asset, make_person, make_school

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE_WIDTH = 360
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 13; V2148A Build/TP1A.220624.014; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 "
    "MMWEBSDK/20231202 MMWEBID/2247 MicroMessenger/8.0.47.2560(0x28002F35) WeChat/arm64 "
    "Weixin NetType/WIFI Language/zh_CN ABI/arm64"
)
INSPECTOR_PHONE = "13800138000"
EXTINGUISHER_CHECKLIST = "灭火器月度检查"


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app on a free local port, served from a background thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # shutdown() waits for the loop's next poll: 10 ms, not the default half second.
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.01},
        name="houqin-live-server",
        daemon=True,
    )
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, started once for this module's tests."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh phone-sized WeChat tab with no cookies."""
    context = browser.new_context(
        viewport={"width": PHONE_WIDTH, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        user_agent=WECHAT_UA,
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


# Resolved in the page, by one evaluation: the app's CSP refuses eval, which the polling of
# `wait_for_function` needs whenever its condition is not met at once.
IMAGE_SHOWN = """img => img.complete ? img.naturalWidth > 0 : new Promise(resolve => {
    img.addEventListener("load", () => resolve(img.naturalWidth > 0), {once: true});
    img.addEventListener("error", () => resolve(false), {once: true});
    setTimeout(() => resolve(false), 10000);
})"""


def wait_until_shown(image: Locator) -> None:
    """The image has arrived and decoded."""
    assert image.evaluate(IMAGE_SHOWN), "the image did not load"


def scroll_width(page: Page) -> int:
    """How wide the page's content is, in CSS pixels."""
    return int(page.evaluate("document.documentElement.scrollWidth"))


def log_in(page: Page, login: str) -> None:
    """Fill the login form the way a person does and tap 登录."""
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    page.get_by_label("手机号或用户名").fill(login)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").tap()


def scan_and_log_in(page: Page, base: str, token: str, login: str) -> None:
    """Open the label's link, see its public page, tap 工作人员登录, log in, and come straight
    back to the asset."""
    page.goto(f"{base}/s/{token}")
    page.get_by_role("link", name="工作人员登录").tap()
    expect(page).to_have_url(re.compile(r"/login\?next="))
    log_in(page, login)
    expect(page).to_have_url(f"{base}/s/{token}")


def file_extinguisher_record(page: Page, base: str, token: str) -> None:
    """From the asset page: pass every item, attach a photo, submit, then open the ledger."""
    page.get_by_role("link", name=EXTINGUISHER_CHECKLIST).tap()
    expect(page.get_by_role("heading", name=EXTINGUISHER_CHECKLIST)).to_be_visible()
    choices = page.locator("form fieldset").filter(has=page.locator(".choices"))
    expect(choices).to_have_count(5)
    for fieldset in choices.all():
        fieldset.get_by_text("合格", exact=True).tap()
        expect(fieldset.get_by_label("合格", exact=True)).to_be_checked()
    page.get_by_label("现场照片（含压力表）").set_input_files(
        files={"name": "gauge.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()}
    )
    assert scroll_width(page) <= PHONE_WIDTH, "the form scrolls sideways on a phone"
    page.get_by_role("button", name="提交").tap()
    expect(page).to_have_url(re.compile(rf"^{re.escape(base)}/records/\d+\?done=1$"))
    expect(page.get_by_role("status")).to_contain_text("已提交，谢谢！")
    page.get_by_role("link", name="台账").tap()
    expect(page).to_have_url(re.compile(r"/ledger/S1\?kind=extinguisher$"))
    thumbnail = page.locator(".thumbs img")
    expect(thumbnail).to_have_count(1)
    thumbnail.scroll_into_view_if_needed()
    wait_until_shown(thumbnail)


def test_scan_login_file_record_with_photo_and_see_it_in_the_ledger(
    page: Page, live_server: str, session: Session, clock: SettableClock
) -> None:
    """An inspector scans, logs in by phone, files a passing check with a photo, sees it listed."""
    school = make_school(session)
    make_person(session, clock, school, phone=INSPECTOR_PHONE)
    asset = make_asset(session, clock, school)
    token = asset.current_label.token
    session.commit()

    scan_and_log_in(page, live_server, token, INSPECTOR_PHONE)
    expect(page.get_by_role("heading", name="一楼东侧灭火器")).to_be_visible()
    assert scroll_width(page) <= PHONE_WIDTH, "the asset page scrolls sideways on a phone"

    file_extinguisher_record(page, live_server, token)
    ledger = page.locator("main")
    expect(ledger).to_contain_text("1 条记录")
    expect(ledger).to_contain_text("MHQ-001")
    expect(ledger).to_contain_text(EXTINGUISHER_CHECKLIST)
    expect(ledger.locator(".badge.pass")).to_have_text("合格")

    thumbnail = page.locator(".thumbs img")
    natural = thumbnail.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert 0 < max(natural) <= THUMB_SIDE
    response = page.request.get(f"{live_server}{thumbnail.get_attribute('src')}")
    assert response.ok
    assert response.headers["content-type"] == "image/jpeg"
    assert max(Image.open(io.BytesIO(response.body())).size) <= THUMB_SIDE


def test_overloaded_bus_is_refused_in_the_browser(
    page: Page,
    live_server: str,
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
) -> None:
    """25 children on a 19-seat bus: the form comes back with the seat limit beside the count."""
    school = make_school(session)
    make_person(session, clock, school, role=Role.TEACHER, username="teacher")
    bus = make_asset(
        session, clock, school, kind=AssetKind.BUS, code="BUS-01", name="1号校车", seats=19
    )
    token = bus.current_label.token
    session.commit()

    scan_and_log_in(page, live_server, token, "teacher")
    page.get_by_role("link", name="校车随车确认").tap()
    page.locator("#f-teacher_on_board").get_by_text("是", exact=True).tap()
    page.get_by_label("上车学生人数").fill("25")
    page.get_by_label("下车学生人数").fill("25")
    page.get_by_role("button", name="提交").tap()

    boarded = page.locator("fieldset").filter(has=page.get_by_label("上车学生人数"))
    error = boarded.locator(".err")
    expect(error).to_contain_text("核载")
    expect(error).to_contain_text("19")
    expect(page.get_by_label("上车学生人数")).to_have_value("25")
    expect(page.get_by_role("status")).to_have_count(0)
    with session_factory() as fresh:
        assert fresh.scalar(select(func.count()).select_from(Record)) == 0


def test_the_pages_load_nothing_from_outside_the_app(
    page: Page, live_server: str, session: Session, clock: SettableClock
) -> None:
    """Every request on the whole path goes to the app itself: no CDN, font or tracker."""
    school = make_school(session)
    make_person(session, clock, school, phone=INSPECTOR_PHONE)
    token = make_asset(session, clock, school).current_label.token
    session.commit()
    requested: list[str] = []

    def record(request: Request) -> None:
        requested.append(request.url)

    page.context.on("request", record)
    scan_and_log_in(page, live_server, token, INSPECTOR_PHONE)
    file_extinguisher_record(page, live_server, token)

    assert any("/thumb.jpg" in url for url in requested)
    outside = [u for u in requested if not u.startswith((f"{live_server}/", "data:"))]
    assert outside == []


def test_a_failed_check_becomes_an_action_that_is_closed_with_a_photo(
    page: Page, live_server: str, session: Session, clock: SettableClock
) -> None:
    """The inspector fails the hose; the keeper finds it in 待整改 and closes it with proof."""
    school = make_school(session)
    make_person(session, clock, school, phone=INSPECTOR_PHONE)
    keeper = make_person(session, clock, school, Role.DORM_STAFF, "keeper", phone="13900139000")
    asset = make_asset(session, clock, school, responsible=keeper)
    token = asset.current_label.token
    session.commit()

    scan_and_log_in(page, live_server, token, INSPECTOR_PHONE)
    page.get_by_role("link", name=EXTINGUISHER_CHECKLIST).tap()
    choices = page.locator("form fieldset").filter(has=page.locator(".choices"))
    expect(choices).to_have_count(5)
    for fieldset in choices.all():
        answer = "不合格" if "喷管" in fieldset.inner_text() else "合格"
        fieldset.get_by_text(answer, exact=True).tap()
    page.get_by_label("现场照片（含压力表）").set_input_files(
        files={"name": "hose.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()}
    )
    page.get_by_role("button", name="提交").tap()
    expect(page.get_by_role("alert")).to_contain_text("喷管损坏或堵塞")
    page.get_by_role("button", name="退出登录").tap()

    log_in(page, "keeper")
    page.get_by_role("link", name="待整改").first.tap()
    page.get_by_role("link", name="喷管损坏或堵塞").tap()
    expect(page.get_by_role("heading", name="喷管损坏或堵塞")).to_be_visible()
    assert scroll_width(page) <= PHONE_WIDTH
    page.get_by_label("处理情况").fill("更换了新喷管")
    page.get_by_label("整改后照片").set_input_files(
        files={"name": "fixed.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes(color="green")}
    )
    page.get_by_role("button", name="关闭", exact=True).tap()

    expect(page.get_by_text("已关闭，谢谢！")).to_be_visible()
    expect(page.locator(".badge.pass")).to_have_text("已关闭")
    history_photo = page.locator(".thumbs img")
    expect(history_photo).to_have_count(1)
    wait_until_shown(history_photo)
    page.goto(f"{live_server}/s/{token}")
    expect(page.locator("main").get_by_text("待整改", exact=True)).to_have_count(0)


def assert_tappable(page: Page, where: str) -> None:
    """Every link and button in the page's content is at least 40 px tall, for a finger."""
    targets = page.locator("main a, main button, main input[type=file]")
    assert targets.count() > 0, where
    for target in targets.all():
        if not target.is_visible():
            continue
        box = target.bounding_box()
        assert box is not None and box["height"] >= 40, (
            f"{where}: {target.inner_text() or target.get_attribute('name')!r} is {box} high"
        )


def test_an_all_ok_extinguisher_check_takes_four_taps_from_the_asset_page(
    page: Page, live_server: str, session: Session, clock: SettableClock
) -> None:
    """The check that is due is the first button; 全部合格, the photo, submit: saved."""
    school = make_school(session)
    make_person(session, clock, school, phone=INSPECTOR_PHONE)
    keeper = make_person(session, clock, school, Role.DORM_STAFF, "keeper", phone="13900139000")
    asset = make_asset(session, clock, school, responsible=keeper)
    token = asset.current_label.token
    sweep(session, now=clock.now())
    session.commit()
    scan_and_log_in(page, live_server, token, INSPECTOR_PHONE)
    assert_tappable(page, "asset page")
    taps = 0

    def tap(locator: Locator) -> None:
        nonlocal taps
        taps += 1
        locator.tap()

    tap(page.locator("main a.btn").first)
    expect(page.get_by_role("heading", name=EXTINGUISHER_CHECKLIST)).to_be_visible()
    all_ok = page.get_by_role("button", name="全部合格")
    assert all_ok.bounding_box()["y"] < page.locator("form fieldset").first.bounding_box()["y"]
    tap(all_ok)
    for fieldset in page.locator("form fieldset").filter(has=page.locator(".choices")).all():
        expect(fieldset.get_by_label("合格", exact=True)).to_be_checked()
    with page.expect_file_chooser() as chooser:
        tap(page.get_by_label("现场照片（含压力表）"))
    chooser.value.set_files(
        files=[{"name": "gauge.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()}]
    )
    tap(page.get_by_role("button", name="提交"))

    expect(page.get_by_role("status")).to_contain_text("已提交，谢谢！")
    assert taps <= 4
    with Session(session.get_bind()) as fresh:
        assert fresh.scalar(select(func.count()).select_from(Record)) == 1


def test_links_in_lists_and_forms_are_tall_enough_for_a_finger(
    page: Page, live_server: str, session: Session, clock: SettableClock
) -> None:
    """查看 on a form, a phone number, rows in 待整改, 校历 and 记录: 40 px or more at 360 px."""
    school = make_school(session)
    # The asset's keeper, who sees their own number on it (colleagues do not: README).
    keeper = make_person(session, clock, school, phone=INSPECTOR_PHONE)
    asset = make_asset(session, clock, school, responsible=keeper)
    token = asset.current_label.token
    session.commit()
    scan_and_log_in(page, live_server, token, INSPECTOR_PHONE)
    page.get_by_role("link", name=EXTINGUISHER_CHECKLIST).tap()
    page.get_by_role("button", name="全部合格").tap()
    page.locator("#f-hose_clear").get_by_text("不合格", exact=True).tap()
    page.get_by_label("现场照片（含压力表）").set_input_files(
        files={"name": "hose.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()}
    )
    page.get_by_role("button", name="提交").tap()
    expect(page.get_by_role("alert")).to_contain_text("喷管损坏或堵塞")

    page.goto(f"{live_server}/s/{token}")
    expect(page.get_by_role("link", name=INSPECTOR_PHONE)).to_be_visible()
    assert_tappable(page, "asset page")
    page.get_by_role("link", name=EXTINGUISHER_CHECKLIST).tap()
    expect(page.get_by_role("link", name="查看")).to_be_visible()
    assert_tappable(page, "form")
    for url in ("/actions?all=1", "/schedules/S1/calendar", "/ledger/S1"):
        page.goto(f"{live_server}{url}")
        assert_tappable(page, url)
        assert scroll_width(page) <= PHONE_WIDTH, url


def test_a_long_rule_is_one_muted_line_on_a_phone_and_a_tap_shows_all_of_it(
    page: Page, live_server: str, session: Session, clock: SettableClock
) -> None:
    """依据 under the form's title: one line at 360 px, no sideways scroll; tapped, the rest."""
    template = base_template(session, "extinguisher_monthly")
    assert template is not None
    rule = "《机关、团体、企业、事业单位消防安全管理规定》（公安部令第61号）第二十五条"
    basis = {"zh_CN": rule, "en": "MPS Order No. 61, art. 25"}
    spec = replace(template.spec, basis=basis, minimum_frequency="monthly")
    save_template_version(session, spec, now=clock.now())
    school = make_school(session)
    make_person(session, clock, school, phone=INSPECTOR_PHONE)
    token = make_asset(session, clock, school).current_label.token
    session.commit()
    scan_and_log_in(page, live_server, token, INSPECTOR_PHONE)
    page.get_by_role("link", name=EXTINGUISHER_CHECKLIST).tap()

    line = page.locator("details.basis summary")
    expect(line).to_contain_text(rule)
    closed = line.bounding_box()
    # One line of text, on a fingertip-tall (44 px) target.
    assert closed is not None and 44 <= closed["height"] < 50, "not one tappable line"
    assert scroll_width(page) <= PHONE_WIDTH
    line.tap()
    opened = line.bounding_box()
    assert opened is not None and opened["height"] > closed["height"] + 20  # more lines now
    assert scroll_width(page) <= PHONE_WIDTH
