"""A phone in the field: Debian's Chromium at 360 px against the app served live on SQLite, the
network emulated through the DevTools protocol (300 ms round trip, 1,600 kbit/s down, 750 kbit/s
up).

Prints `asset_page_kb:` and `form_page_kb:` (compressed bytes of each page and everything it
loads, from Network.loadingFinished's encodedDataLength, with the browser's cache and the
service worker off: a first visit; goal under 20 each), `foreign_requests:` (requests to any
other host; goal 0), `scan_to_form_s:` (logged in, from opening a label's URL to a form that can
be filled), `submit_s:`, `submit_floor_s:` and `submit_ratio_to_floor:` (from tapping submit
with a 12 MP camera photo to the confirmation, over two round trips plus a 1600 px JPEG of that
photo sent at the uplink's rate; goal at most 1.3), and `offline_records_lost:` /
`offline_records_doubled:` (5 records filed with the network cut, the browser closed, reopened
online; goal 0 and 0).
"""

from __future__ import annotations

import io
import logging
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PIL import Image
from playwright.sync_api import BrowserContext, Page, expect, sync_playwright
from sqlalchemy import func, select
from werkzeug.serving import make_server

from models import Base
from models.assets import AssetKind, create_asset
from models.checklists import sync_builtin_templates
from models.db import make_engine, make_session_factory
from models.org import District, School
from models.people import Role, create_person, grant_role
from models.records import Record
from settings import Settings
from webapp import create_app

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
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}
LATENCY_MS = 300
DOWN_KBIT = 1_600
UP_KBIT = 750
NETWORK = {
    "offline": False,
    "latency": LATENCY_MS,
    "downloadThroughput": DOWN_KBIT * 1000 / 8,
    "uploadThroughput": UP_KBIT * 1000 / 8,
}
LOGIN, PASSWORD = "inspector", "pw-bench"
CHECKLIST = "灭火器月度检查"
OFFLINE_RECORDS = 5
PHOTO_LABEL = "现场照片（含压力表）"


def camera_photo() -> bytes:
    """A 4000×3000 JPEG as a 12 MP phone camera makes it, detailed enough to weigh a few MB."""
    image = Image.merge("RGB", [Image.effect_noise((1000, 750), 40) for _ in range(3)])
    out = io.BytesIO()
    image.resize((4000, 3000), Image.Resampling.BICUBIC).save(out, "JPEG", quality=90)
    return out.getvalue()


def scaled_size(photo: bytes) -> int:
    """The bytes of that photo at 1600 px on its long side, JPEG quality 80 (as the page makes)."""
    image = Image.open(io.BytesIO(photo))
    image.thumbnail((1600, 1600))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return len(out.getvalue())


def _world(root: Path) -> tuple[Settings, list[str]]:
    """A school, its inspector, and one extinguisher per label scanned in the run."""
    settings = Settings()
    settings.server.secret_key = "bench"
    settings.server.base_url = "http://127.0.0.1"
    settings.database.url = f"sqlite:///{root / 'field.db'}"
    settings.storage.data_dir = str(root / "data")
    engine = make_engine(settings.database.url)
    Base.metadata.create_all(engine)
    now = datetime.now(UTC) - timedelta(days=1)
    with make_session_factory(engine)() as session:
        sync_builtin_templates(session, now=now)
        school = School(district=District(code="D", name="区"), code="S1", name="实验小学")
        person = create_person(
            session, username=LOGIN, display_name="孙老师", password=PASSWORD, now=now
        )
        grant_role(session, person, Role.INSPECTOR, school)
        tokens = []
        for n in range(1, 2 + OFFLINE_RECORDS + 1):
            asset = create_asset(
                session,
                school=school,
                kind=AssetKind.EXTINGUISHER,
                code=f"MHQ-{n:03}",
                name=f"教学楼{n}层东侧灭火器",
                now=now,
            )
            tokens.append(asset.current_label.token)
        session.commit()
    engine.dispose()
    return settings, tokens


@dataclass
class Wire:
    """What one tab sent and received, from the DevTools protocol's Network events."""

    origin: str
    urls: dict[str, str] = field(default_factory=dict)
    received: int = 0
    foreign: list[str] = field(default_factory=list)

    def attach(self, context: BrowserContext, page: Page) -> None:
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", NETWORK)
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.loadingFinished", self._finished)
        self.cdp = cdp

    def _sent(self, event: dict[str, Any]) -> None:
        url = event["request"]["url"]
        self.urls[event["requestId"]] = url
        parts = urlsplit(url)
        web = parts.scheme in ("http", "https", "ws", "wss")
        if web and f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.foreign.append(url)

    def _finished(self, event: dict[str, Any]) -> None:
        self.received += int(event.get("encodedDataLength", 0))

    def offline(self, cut: bool) -> None:
        """Cut the network (or bring it back), here too, as this session's throttle would
        otherwise keep the tab online."""
        self.cdp.send("Network.emulateNetworkConditions", {**NETWORK, "offline": cut})

    def cache(self, enabled: bool) -> None:
        self.cdp.send("Network.setCacheDisabled", {"cacheDisabled": not enabled})


@contextmanager
def _serve(settings: Settings) -> Iterator[str]:
    """The app on a free local port, served from a background thread."""
    app = create_app(settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="bench-field", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def _log_in(page: Page, base: str, token: str) -> None:
    page.goto(f"{base}/login?next=/s/{token}")
    page.get_by_label("手机号或用户名").fill(LOGIN)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").tap()
    expect(page).to_have_url(f"{base}/s/{token}")


def _page_kb(page: Page, wire: Wire, url: str) -> float:
    """Bytes on the wire for the page and all it loads, the cache off, in KB."""
    page.wait_for_load_state("networkidle")
    wire.received = 0
    page.goto(url, wait_until="networkidle")
    return wire.received / 1024


def _fill(page: Page, photo: bytes) -> None:
    expect(page.get_by_role("heading", name=CHECKLIST)).to_be_visible()
    page.wait_for_load_state("load")
    for fieldset in page.locator("form fieldset").filter(has=page.locator(".choices")).all():
        fieldset.get_by_text("合格", exact=True).tap()
    page.get_by_label(PHOTO_LABEL).set_input_files(
        files={"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": photo}
    )


def _records(settings: Settings) -> int:
    engine = make_engine(settings.database.url)
    try:
        with make_session_factory(engine)() as session:
            return session.scalar(select(func.count()).select_from(Record)) or 0
    finally:
        engine.dispose()


def run() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    expect.set_options(timeout=120_000)
    photo = camera_photo()
    scaled = scaled_size(photo)
    floor_s = 2 * LATENCY_MS / 1000 + scaled * 8 / (UP_KBIT * 1000)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings, tokens = _world(root)
        with _serve(settings) as base, sync_playwright() as playwright:
            chromium = playwright.chromium
            browser = chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(**PHONE, service_workers="block")
            context.set_default_timeout(60_000)
            page = context.new_page()
            wire = Wire(base)
            wire.attach(context, page)
            first = tokens[0]
            _log_in(page, base, first)
            wire.cache(False)
            asset_kb = _page_kb(page, wire, f"{base}/s/{first}")
            form_url = page.get_by_role("link", name=CHECKLIST).get_attribute("href") or ""
            form_kb = _page_kb(page, wire, f"{base}{form_url}")
            yield f"asset_page_kb: {asset_kb:.1f}"
            yield f"form_page_kb: {form_kb:.1f}"

            # A label scanned by a logged-in phone that has used the app before.
            wire.cache(True)
            second = tokens[1]
            start = time.perf_counter()
            page.goto(f"{base}/s/{second}")
            page.get_by_role("link", name=CHECKLIST).tap()
            expect(page.get_by_role("button", name="提交")).to_be_enabled()
            page.wait_for_load_state("load")
            yield f"scan_to_form_s: {time.perf_counter() - start:.2f}"

            _fill(page, photo)
            page.wait_for_load_state("networkidle")
            start = time.perf_counter()
            page.get_by_role("button", name="提交").tap()
            expect(page.get_by_role("status")).to_contain_text("已提交，谢谢！")
            submit_s = time.perf_counter() - start
            yield f"camera_photo_kb: {len(photo) / 1024:.0f}"
            yield f"photo_1600px_kb: {scaled / 1024:.0f}"
            yield f"submit_s: {submit_s:.2f}"
            yield f"submit_floor_s: {floor_s:.2f}"
            yield f"submit_ratio_to_floor: {submit_s / floor_s:.2f}"
            context.close()
            browser.close()

            before = _records(settings)
            expected = before + OFFLINE_RECORDS
            made = _offline(
                chromium,
                root / "phone",
                base,
                tokens[2:],
                wire.foreign,
                lambda: _records(settings) >= expected,
            )
            made_now = _records(settings) - before
            yield f"offline_records_lost: {max(0, OFFLINE_RECORDS - made_now)}"
            yield f"offline_records_doubled: {max(0, made_now - OFFLINE_RECORDS)}"
            yield f"offline_records_kept_on_phone: {made}"
            yield f"foreign_requests: {len(wire.foreign)}"


def _offline(
    chromium: Any,
    profile: Path,
    base: str,
    tokens: list[str],
    foreign: list[str],
    done: Callable[[], bool],
) -> int:
    """Files a record at each label with the network cut, closes the browser, reopens it online
    and waits for the queue to empty; returns how many the phone said it kept."""
    small = io.BytesIO()
    Image.new("RGB", (1600, 1200), "orange").save(small, "JPEG", quality=80)
    options = {**PHONE, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}
    context = chromium.launch_persistent_context(str(profile), **options)
    context.set_default_timeout(60_000)
    page = context.pages[0] if context.pages else context.new_page()
    wire = Wire(base)
    wire.attach(context, page)
    _log_in(page, base, tokens[0])
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller")
    for token in tokens:  # each label seen once online, so its pages are kept on the phone
        page.goto(f"{base}/s/{token}")
        page.get_by_role("link", name=CHECKLIST).tap()
        expect(page.get_by_role("button", name="提交")).to_be_enabled()
    context.set_offline(True)
    wire.offline(True)
    kept = 0
    for token in tokens:
        page.goto(f"{base}/s/{token}")
        page.get_by_role("link", name=CHECKLIST).tap()
        _fill(page, small.getvalue())
        page.get_by_role("button", name="提交").tap()
        expect(page.locator(".photo-status")).to_have_text("已保存在手机上，联网后自动发送。")
        kept += 1
    foreign.extend(wire.foreign)
    context.close()

    context = chromium.launch_persistent_context(str(profile), **options)
    context.set_default_timeout(120_000)
    page = context.pages[0] if context.pages else context.new_page()
    wire = Wire(base)
    wire.attach(context, page)
    page.goto(f"{base}/")
    # The queue sends by itself; wait until the server has them all (or a minute has gone),
    # then a little longer, so a record sent twice is seen.
    deadline = time.monotonic() + 60
    while not done() and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    expect(page.locator("#pending-link")).to_be_hidden()
    page.wait_for_timeout(3_000)
    foreign.extend(wire.foreign)
    context.close()
    return kept


def main() -> None:
    for line in run():
        print(line, flush=True)


if __name__ == "__main__":
    main()
