"""Times one school's year of one ledger (its 40 extinguishers' monthly checks, each with a
photo) exported to Excel with thumbnails and to PDF, on SQLite through the web app; and the
same export with 3 years of history behind it, which should cost what it does with 1.

Prints `ledger_xlsx_seconds_school_year:`, `ledger_pdf_seconds_school_year:` and
`ledger_history_ratio_3y_1y:` (the Excel export's, 3 years of history over 1, beside its floor:
the same year's records cost the same, 1.00); and the same ratio for the year's meter ledger
(20 meters read weekly), whose consumption reads the readings before each one."""

from __future__ import annotations

import gc
import io
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from models import Base
from models.assets import AssetKind, create_asset
from models.checklists import base_template, sync_builtin_templates
from models.clock import SettableClock
from models.db import make_engine, make_session_factory
from models.org import District, School
from models.people import Person, Role, create_person, grant_role
from models.photos import LocalPhotoStore, Photo, RecordPhoto, process_photo, write_photo_files
from models.records import Record
from settings import Settings
from webapp import create_app

ANSWERS = {
    k: "pass" for k in ("gauge_green", "pin_seal", "body_intact", "hose_clear", "accessible_signed")
}
EXTINGUISHERS = 40
# Meters read every week: a meter ledger's consumption reads the readings before each one.
METERS = 20
YEAR = 2026
QUERY = f"/ledger/S1/%s?kind=extinguisher&period=year&on={YEAR}-06-01"
METER_QUERY = f"/ledger/S1/%s?kind=meter&period=year&on={YEAR}-06-01"


def _world(root: Path, years: int) -> Settings:
    """One school, 40 extinguishers, a check with its own photo every month for `years` years
    ending with YEAR; inserted in bulk."""
    settings = Settings()
    settings.server.secret_key = "bench"
    settings.database.url = f"sqlite:///{root / f'ledger-{years}.db'}"
    settings.storage.data_dir = str(root / f"data-{years}")
    engine = make_engine(settings.database.url)
    Base.metadata.create_all(engine)
    store = LocalPhotoStore(Path(settings.storage.data_dir))
    start = datetime(YEAR - years + 1, 1, 1, 1, 0, tzinfo=UTC)
    clock = SettableClock(start)
    with make_session_factory(engine)() as session:
        sync_builtin_templates(session, now=clock.now())
        template = base_template(session, "extinguisher_monthly")
        assert template is not None
        school = School(district=District(code="D", name="示范区"), code="S1", name="实验小学")
        person = create_person(
            session, username="admin", display_name="孙老师", password="pw-bench", now=start
        )
        grant_role(session, person, Role.SCHOOL_ADMIN, school)
        assets = [
            create_asset(
                session,
                school=school,
                kind=AssetKind.EXTINGUISHER,
                code=f"MHQ-{n:03d}",
                name=f"{n}号灭火器",
                now=start,
            )
            for n in range(EXTINGUISHERS)
        ]
        months = years * 12
        photos = []
        for n in range(EXTINGUISHERS * months):
            image = Image.effect_noise((320, 240), 40 + n % 50).convert("RGB")
            out = io.BytesIO()
            image.save(out, "JPEG", quality=80)
            processed = process_photo(out.getvalue())
            key, thumb_key = write_photo_files(store, processed)
            photos.append(
                {
                    "sha256": processed.sha256,
                    "size": len(processed.jpeg),
                    "width": processed.width,
                    "height": processed.height,
                    "storage_key": key,
                    "thumb_key": thumb_key,
                    "created_at": start,
                }
            )
        session.execute(insert(Photo), photos)
        photo_ids = list(session.scalars(select(Photo.id).order_by(Photo.id)))
        rows = []
        for month in range(months):
            at = datetime(start.year + month // 12, month % 12 + 1, 3, 1, 0, tzinfo=UTC)
            for n, asset in enumerate(assets):
                rows.append(
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
                        "submitted_at": at + timedelta(minutes=n),
                        "idempotency_key": uuid.uuid4().hex,
                    }
                )
        session.execute(insert(Record), rows)
        record_ids = list(session.scalars(select(Record.id).order_by(Record.id)))
        _meter_readings(session, school, person, start, years)
        session.execute(
            insert(RecordPhoto),
            [
                {"record_id": r, "photo_id": p, "item_key": "photo", "position": 0}
                for r, p in zip(record_ids, photo_ids, strict=False)
            ],
        )
        session.commit()
    engine.dispose()
    return settings


def _meter_readings(
    session: Session, school: School, person: Person, start: datetime, years: int
) -> None:
    """METERS electricity meters, each read every Monday morning for `years` years."""
    template = base_template(session, "meter_reading")
    assert template is not None
    meters = [
        create_asset(
            session,
            school=school,
            kind=AssetKind.METER,
            code=f"DB-{n:02d}",
            name=f"{n}号电表",
            attributes={"meter_type": "electricity"},
            now=start,
        )
        for n in range(METERS)
    ]
    rows = []
    for week in range(years * 52):
        at = start + timedelta(weeks=week, hours=1)
        for n, meter in enumerate(meters):
            rows.append(
                {
                    "asset_id": meter.id,
                    "school_id": school.id,
                    "asset_kind": meter.kind,
                    "template_id": template.id,
                    "answers": {"reading": 1000 + week * 50 + n, "read_on": at.date().isoformat()},
                    "failed_items": [],
                    "result": "pass",
                    "submitted_by_id": person.id,
                    "channel": "web",
                    "submitted_at": at + timedelta(minutes=n),
                    "idempotency_key": uuid.uuid4().hex,
                }
            )
    session.execute(insert(Record), rows)


def _seconds(client: object, path: str) -> tuple[float, bytes, float]:
    """The wall time of one request, its body, and the process's CPU time in it (which other
    processes on a busy machine do not lengthen: what the history ratio compares)."""
    gc.collect()
    begin, cpu = time.perf_counter(), time.process_time()
    response = client.get(path)  # type: ignore[attr-defined]
    seconds, used = time.perf_counter() - begin, time.process_time() - cpu
    assert response.status_code == 200, response.status_code
    return seconds, response.data, used


def _logged_in(settings: Settings) -> object:
    client = create_app(settings).test_client()
    page = client.get("/login").get_data(as_text=True)
    csrf = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"csrf_token": csrf, "login": "admin", "password": "pw-bench"})
    return client


def run(rounds: int = 5) -> Iterator[str]:
    """The two worlds' exports are timed in turns, each its fastest of `rounds`; the history
    ratios compare CPU time, so a busy machine (other processes, a cold cache) slows both alike
    instead of one."""
    with tempfile.TemporaryDirectory() as tmp:
        clients = {years: _logged_in(_world(Path(tmp), years)) for years in (1, 3)}
        for client in clients.values():
            _seconds(client, QUERY % "excel")  # warm: templates, fonts, the page cache
        times: dict[int, list[float]] = {1: [], 3: []}
        cpu: dict[str, dict[int, list[float]]] = {"xlsx": {1: [], 3: []}, "meter": {1: [], 3: []}}
        meter_times: list[float] = []
        book = b""
        for _round in range(rounds):
            for years, client in clients.items():
                seconds, data, used = _seconds(client, QUERY % "excel")
                times[years].append(seconds)
                cpu["xlsx"][years].append(used)
                book = data if years == 1 else book
                seconds, _data, used = _seconds(client, METER_QUERY % "excel")
                cpu["meter"][years].append(used)
                if years == 1:
                    meter_times.append(seconds)
        pdf, document, _used = _seconds(clients[1], QUERY % "pdf")
        xlsx = min(times[1])
        ratio, meters = (min(cpu[k][3]) / min(cpu[k][1]) for k in ("xlsx", "meter"))
        yield f"ledger_records_school_year: {EXTINGUISHERS * 12}"
        yield f"ledger_xlsx_seconds_school_year: {xlsx:.2f}"
        yield f"ledger_xlsx_bytes_school_year: {len(book)}"
        yield f"ledger_pdf_seconds_school_year: {pdf:.2f}"
        yield f"ledger_pdf_bytes_school_year: {len(document)}"
        # The floor: both exports hold the same year's records, so the same cost is 1.00.
        yield f"ledger_history_ratio_3y_1y: {ratio:.2f} (floor 1.00)"
        yield f"ledger_meter_records_school_year: {METERS * 52}"
        yield f"ledger_meter_xlsx_seconds_school_year: {min(meter_times):.2f}"
        yield f"ledger_meter_history_ratio_3y_1y: {meters:.2f} (floor 1.00)"


if __name__ == "__main__":
    for line in run():
        print(line, flush=True)
