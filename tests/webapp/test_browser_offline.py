"""In the browser with the network cut: a checklist is kept on the phone and sent once when the
network is back; the service worker opens the pages of labels seen before."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.clock import SettableClock
from models.records import Record
from tests.factories import jpeg_bytes, make_asset, make_person, make_school
from tests.webapp.test_browser import (  # noqa: F401 - fixtures used by name
    EXTINGUISHER_CHECKLIST,
    INSPECTOR_PHONE,
    PHONE_WIDTH,
    WECHAT_UA,
    browser,
    live_server,
    log_in,
    page,
)

pytestmark = pytest.mark.browser


def _tokens(session: Session, clock: SettableClock, count: int = 1) -> list[str]:
    school = make_school(session)
    make_person(session, clock, school, phone=INSPECTOR_PHONE)
    tokens = [
        make_asset(session, clock, school, code=f"MHQ-{n:03}").current_label.token
        for n in range(1, count + 1)
    ]
    session.commit()
    return tokens


def _log_in_at(tab: Page, base: str, token: str) -> None:
    """Log in from the label's page and come back to it."""
    tab.goto(f"{base}/login?next=/s/{token}")
    log_in(tab, INSPECTOR_PHONE)
    expect(tab).to_have_url(f"{base}/s/{token}")


# Resolved in the page by one evaluation (see IMAGE_SHOWN for why not wait_for_function).
CONTROLLED = """seconds => navigator.serviceWorker.controller !== null || new Promise(resolve => {
    navigator.serviceWorker.addEventListener("controllerchange", () => resolve(true), {once: true});
    setTimeout(() => resolve(navigator.serviceWorker.controller !== null), seconds * 1000);
})"""


def _wait_for_service_worker(tab: Page) -> None:
    """The service worker controls the page, so what is opened from now on is kept. A page
    that was loading while the worker took over stays outside it (clients.claim() came
    before it was a client): the next page opened is inside, as the reload here."""
    if not tab.evaluate(CONTROLLED, 3):
        tab.reload()
        assert tab.evaluate(CONTROLLED, 10), "the service worker did not take control"


def _records(session: Session) -> int:
    session.rollback()
    count = session.scalar(select(func.count()).select_from(Record)) or 0
    session.rollback()
    return count


def _fill_form(tab: Page) -> None:
    """From the asset page: every item passes, a photo for the gauge."""
    tab.get_by_role("link", name=EXTINGUISHER_CHECKLIST).tap()
    expect(tab.get_by_role("heading", name=EXTINGUISHER_CHECKLIST)).to_be_visible()
    for fieldset in tab.locator("form fieldset").filter(has=tab.locator(".choices")).all():
        fieldset.get_by_text("合格", exact=True).tap()
    tab.get_by_label("现场照片（含压力表）").set_input_files(
        files={"name": "gauge.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()}
    )


def _file_offline(tab: Page, base: str, token: str) -> None:
    """Log in, fill the form online, then submit it with the network cut."""
    _log_in_at(tab, base, token)
    _wait_for_service_worker(tab)
    _fill_form(tab)
    tab.context.set_offline(True)
    tab.get_by_role("button", name="提交").tap()
    expect(tab.locator(".photo-status")).to_have_text("已保存在手机上，联网后自动发送。")
    expect(tab.get_by_role("link", name="等待发送（1）")).to_be_visible()


# Changes one field of every record kept on the phone, as time or a mistake would.
ALTER_KEPT = """([name, value]) => new Promise((done) => {
  const opening = indexedDB.open("houqin", 1);
  opening.onsuccess = () => {
    const tx = opening.result.transaction("records", "readwrite"), kept = tx.objectStore("records");
    kept.getAll().onsuccess = (e) => e.target.result.forEach((record) => {
      record.fields = record.fields.map((f) => (f[0] === name ? [name, value, null] : f));
      kept.put(record);
    });
    tx.oncomplete = () => done(true);
  };
})"""


# Makes every kept record someone else's, as when another person filed it on this phone.
OTHER_PERSON = """() => new Promise((done) => {
  const opening = indexedDB.open("houqin", 1);
  opening.onsuccess = () => {
    const tx = opening.result.transaction("records", "readwrite"), kept = tx.objectStore("records");
    kept.getAll().onsuccess = (e) => e.target.result.forEach((r) => kept.put({...r, person: "x"}));
    tx.oncomplete = () => done(true);
  };
})"""


def test_a_record_filed_offline_waits_on_the_phone_and_is_sent_once_online(
    page: Page,  # noqa: F811
    live_server: str,  # noqa: F811
    session: Session,
    clock: SettableClock,
) -> None:
    (token,) = _tokens(session, clock)
    _file_offline(page, live_server, token)
    # Still offline, the page opens again from the service worker, and the record still waits.
    page.reload()
    expect(page.get_by_role("heading", name=EXTINGUISHER_CHECKLIST)).to_be_visible()
    page.get_by_role("link", name="等待发送（1）").tap()
    expect(page.get_by_text("MHQ-001 · 一楼东侧灭火器")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^\d\d-\d\d \d\d:\d\d · 等待发送$"))).to_be_visible()
    assert _records(session) == 0

    page.context.set_offline(False)
    expect(page.locator("#pending-link")).to_be_hidden()
    expect(page.get_by_text("这台手机上没有保存待发送的记录。")).to_be_visible()
    assert _records(session) == 1


def test_a_kept_record_is_sent_when_the_app_is_next_opened_after_its_tab_was_closed(
    page: Page,  # noqa: F811
    live_server: str,  # noqa: F811
    session: Session,
    clock: SettableClock,
) -> None:
    (token,) = _tokens(session, clock)
    _file_offline(page, live_server, token)
    later = page.context.new_page()
    page.close()
    later.context.set_offline(False)
    later.goto(f"{live_server}/")
    # The header's count goes to nothing (and hides) once the queue is empty.
    expect(later.locator("#pending-link")).to_have_text("等待发送（0）")
    expect(later.locator("#pending-link")).to_be_hidden()
    assert _records(session) == 1


def test_a_kept_record_whose_token_expired_is_sent_once_with_a_fresh_one(
    page: Page,  # noqa: F811
    live_server: str,  # noqa: F811
    session: Session,
    clock: SettableClock,
) -> None:
    (token,) = _tokens(session, clock)
    _file_offline(page, live_server, token)
    page.evaluate(ALTER_KEPT, ["csrf_token", "expired"])
    page.context.set_offline(False)
    expect(page.locator("#pending-link")).to_be_hidden()
    assert _records(session) == 1


def test_a_record_kept_for_someone_else_on_a_shared_phone_is_neither_shown_nor_sent(
    page: Page,  # noqa: F811
    live_server: str,  # noqa: F811
    session: Session,
    clock: SettableClock,
) -> None:
    (token,) = _tokens(session, clock)
    _file_offline(page, live_server, token)
    page.evaluate(OTHER_PERSON)
    page.context.set_offline(False)
    page.goto(f"{live_server}/pending")
    expect(page.get_by_text("这台手机上没有保存待发送的记录。")).to_be_visible()
    expect(page.locator("#pending-link")).to_be_hidden()
    assert _records(session) == 0


def test_a_kept_record_the_server_refuses_is_kept_to_open_and_correct(
    page: Page,  # noqa: F811
    live_server: str,  # noqa: F811
    session: Session,
    clock: SettableClock,
) -> None:
    (token,) = _tokens(session, clock)
    _file_offline(page, live_server, token)
    page.evaluate(ALTER_KEPT, ["gauge_green", "maybe"])
    page.goto(f"{live_server}/pending")
    page.context.set_offline(False)
    expect(page.get_by_text(re.compile("发送失败：请检查下方标红的项目。"))).to_be_visible()
    expect(page.get_by_role("link", name="等待发送（1）")).to_be_visible()

    page.get_by_role("link", name="打开").tap()
    expect(page.get_by_role("heading", name=EXTINGUISHER_CHECKLIST)).to_be_visible()
    expect(page.get_by_label("合格", exact=True).nth(1)).to_be_checked()
    page.locator("form fieldset").first.get_by_text("合格", exact=True).tap()
    page.get_by_role("button", name="提交").tap()
    expect(page.get_by_role("status")).to_contain_text("已提交，谢谢！")
    expect(page.locator("#pending-link")).to_be_hidden()
    assert _records(session) == 1
    session.rollback()
    assert len(session.scalars(select(Record)).one().photos) == 1
    session.rollback()


def test_an_offline_scan_opens_a_seen_asset_and_keeps_the_scan_of_an_unseen_one(
    page: Page,  # noqa: F811
    live_server: str,  # noqa: F811
    session: Session,
    clock: SettableClock,
) -> None:
    seen, unseen = _tokens(session, clock, 2)
    _log_in_at(page, live_server, seen)
    _wait_for_service_worker(page)
    page.reload()
    page.get_by_role("link", name=EXTINGUISHER_CHECKLIST).tap()
    expect(page.get_by_role("heading", name=EXTINGUISHER_CHECKLIST)).to_be_visible()

    page.context.set_offline(True)
    page.goto(f"{live_server}/s/{seen}")
    page.get_by_role("link", name=EXTINGUISHER_CHECKLIST).tap()
    expect(page.get_by_role("heading", name=EXTINGUISHER_CHECKLIST)).to_be_visible()
    expect(page.get_by_role("button", name="提交")).to_be_enabled()

    page.goto(f"{live_server}/s/{unseen}")
    expect(page.get_by_role("heading", name="没有网络")).to_be_visible()
    page.context.set_offline(False)
    page.get_by_role("link", name="等待发送（1）").tap()
    page.get_by_role("link", name=re.compile(r"^扫码于 \d\d:\d\d，联网后填写$")).tap()
    expect(page).to_have_url(f"{live_server}/s/{unseen}")
    expect(page.locator("#pending-link")).to_be_hidden()

    # Logged out, the next person on this phone finds no page kept for the last one.
    page.get_by_role("button", name="退出登录").tap()
    expect(page).to_have_url(re.compile("/login"))
    page.context.set_offline(True)
    page.goto(f"{live_server}/s/{seen}")
    expect(page.get_by_role("heading", name="没有网络")).to_be_visible()


@pytest.fixture
def page_without_storage(browser: Browser) -> Iterator[Page]:  # noqa: F811
    """A phone whose browser has neither service workers nor IndexedDB."""
    context = browser.new_context(
        viewport={"width": PHONE_WIDTH, "height": 740},
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        user_agent=WECHAT_UA,
        service_workers="block",
    )
    context.add_init_script("Object.defineProperty(window, 'indexedDB', {value: undefined})")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_without_service_worker_or_indexeddb_the_plain_form_still_files(
    page_without_storage: Page,
    live_server: str,  # noqa: F811
    session: Session,
    clock: SettableClock,
) -> None:
    tab = page_without_storage
    (token,) = _tokens(session, clock)
    _log_in_at(tab, live_server, token)
    _fill_form(tab)
    tab.context.set_offline(True)
    submit = tab.get_by_role("button", name="提交")
    submit.tap()
    expect(tab.locator(".photo-status")).to_have_text(re.compile("^未发送：网络断了。"))
    expect(tab.locator("#pending-link")).to_be_hidden()
    tab.context.set_offline(False)
    submit.tap()
    expect(tab.get_by_role("status")).to_contain_text("已提交，谢谢！")
    assert _records(session) == 1


def test_a_kept_record_given_up_is_never_sent(
    page: Page,  # noqa: F811
    live_server: str,  # noqa: F811
    session: Session,
    clock: SettableClock,
) -> None:
    (token,) = _tokens(session, clock)
    _file_offline(page, live_server, token)
    page.get_by_role("link", name="等待发送（1）").tap()
    page.get_by_role("button", name="放弃").tap()
    expect(page.get_by_text("这台手机上没有保存待发送的记录。")).to_be_visible()
    expect(page.locator("#pending-link")).to_be_hidden()
    page.context.set_offline(False)
    page.reload()
    expect(page.get_by_text("这台手机上没有保存待发送的记录。")).to_be_visible()
    assert _records(session) == 0
