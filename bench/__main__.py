"""Times the scan-to-ledger path on SQLite: filing a record, the asset page, the ledger; then
importing 2,000 people and 2,000 extinguishers beside the write lock's budget
(bench/imports.py); the duty sweep of a 200-school district (bench/sweep.py); delivering
10,000 notices to 500 Telegram chats against the fake Bot API (bench/bot_delivery.py); one
school's year of one ledger to Excel and PDF (bench/ledgers.py).

Prints `name: value` lines. The ledger must cost the same with 10x the history
(`ledger_history_ratio_10x` close to 1), because it reads one page through an index; the sweep
must cost the same with 3 years of history as with 1 (`sweep_history_ratio_3y_1y`).
"""

from __future__ import annotations

import io
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from PIL import Image
from sqlalchemy import insert, select

from bench import bot_delivery, imports, ledgers, sweep
from models import Base
from models.assets import AssetKind, create_asset, find_asset_by_token
from models.checklists import base_template, sync_builtin_templates
from models.clock import SettableClock
from models.db import make_engine, make_session_factory
from models.org import District, School
from models.people import Person, Role, create_person, grant_role
from models.photos import LocalPhotoStore
from models.records import Channel, Record, Upload, submit_record
from settings import Settings
from webapp import create_app

# The ledger's first page of the year its history is in (the default period is today's month).
LEDGER_PAGE = "/ledger/S1?kind=extinguisher&period=year&on=2026-01-01"
ANSWERS = {
    k: "pass" for k in ("gauge_green", "pin_seal", "body_intact", "hose_clear", "accessible_signed")
}


def _photo() -> bytes:
    image = Image.merge("RGB", [Image.effect_noise((400, 300), 60) for _ in range(3)])
    out = io.BytesIO()
    image.resize((4000, 3000)).save(out, "JPEG", quality=90)
    return out.getvalue()


def _median_ms(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _world(root: Path, history: int) -> tuple[Settings, str]:
    """A school with one extinguisher carrying `history` records, inserted in bulk."""
    settings = Settings()
    settings.server.secret_key = "bench"
    settings.database.url = f"sqlite:///{root / f'bench-{history}.db'}"
    settings.storage.data_dir = str(root / "data")
    engine = make_engine(settings.database.url)
    Base.metadata.create_all(engine)
    clock = SettableClock(datetime(2026, 1, 1, tzinfo=UTC))
    with make_session_factory(engine)() as session:
        sync_builtin_templates(session, now=clock.now())
        template = base_template(session, "extinguisher_monthly")
        school = School(district=District(code="D", name="区"), code="S1", name="实验小学")
        person = create_person(
            session,
            username="inspector",
            display_name="孙老师",
            password="pw-bench",
            now=clock.now(),
        )
        grant_role(session, person, Role.INSPECTOR, school)
        asset = create_asset(
            session,
            school=school,
            kind=AssetKind.EXTINGUISHER,
            code="MHQ-001",
            name="灭火器",
            now=clock.now(),
        )
        session.execute(
            insert(Record),
            [
                {
                    "asset_id": asset.id,
                    "school_id": school.id,
                    "asset_kind": asset.kind,
                    "template_id": template.id,
                    "answers": ANSWERS,
                    "failed_items": [],
                    "result": "pass",
                    "submitted_by_id": person.id,
                    "channel": "web",
                    "submitted_at": clock.now() + timedelta(minutes=n),
                    "idempotency_key": uuid.uuid4().hex,
                }
                for n in range(history)
            ],
        )
        token = asset.current_label.token
        session.commit()
    engine.dispose()
    return settings, token


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        photo = _photo()
        worlds = {history: _world(root, history) for history in (1_000, 10_000)}
        settings, token = worlds[1_000]
        engine = make_engine(settings.database.url)
        factory = make_session_factory(engine)
        store = LocalPhotoStore(root / "data")
        clock = SettableClock(datetime(2027, 1, 1, tzinfo=UTC))

        def file_one() -> None:
            with factory() as session:
                asset_template = base_template(session, "extinguisher_monthly")
                person = session.scalar(select(Person))
                submit_record(
                    session,
                    actor=person,
                    asset=find_asset_by_token(session, token),
                    template=asset_template,
                    answers=ANSWERS,
                    uploads=[Upload("photo", _fresh(photo))],
                    key=uuid.uuid4().hex,
                    channel=Channel.WEB,
                    clock=clock,
                    store=store,
                    repeat_confirmed=True,  # the same check again, each time confirmed
                )
                session.commit()

        print(f"submit_record_with_12mp_photo_ms: {_median_ms(file_one, 10):.1f}")
        engine.dispose()

        pages = {}
        for history, (settings, token) in worlds.items():
            app = create_app(settings)
            client = app.test_client()
            with client:
                page = client.get("/login")
                csrf = (
                    page.get_data(as_text=True)
                    .split('name="csrf_token" type="hidden" value="')[1]
                    .split('"')[0]
                )
                client.post(
                    "/login",
                    data={"csrf_token": csrf, "login": "inspector", "password": "pw-bench"},
                )
                pages[history] = {
                    "asset": _median_ms(partial(client.get, f"/s/{token}"), 30),
                    "ledger": _median_ms(partial(client.get, LEDGER_PAGE), 30),
                }
        print(f"asset_page_ms_1k_records: {pages[1_000]['asset']:.1f}")
        print(f"ledger_page_ms_1k_records: {pages[1_000]['ledger']:.1f}")
        print(f"ledger_page_ms_10k_records: {pages[10_000]['ledger']:.1f}")
        print(f"ledger_history_ratio_10x: {pages[10_000]['ledger'] / pages[1_000]['ledger']:.2f}")
        print(f"asset_page_history_ratio_10x: {pages[10_000]['asset'] / pages[1_000]['asset']:.2f}")
    imports.main()
    for line in sweep.run():
        print(line, flush=True)
    for line in bot_delivery.run():
        print(line, flush=True)
    for line in ledgers.run():
        print(line, flush=True)


def _fresh(photo: bytes) -> bytes:
    """A different photo each time, so deduplication does not skip the work."""
    return photo + uuid.uuid4().bytes


if __name__ == "__main__":
    main()
