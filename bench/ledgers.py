"""Times one school's year of one ledger (its 40 extinguishers' monthly checks, each with a
photo) exported to Excel with thumbnails and to PDF, on SQLite through the web app; and the
same export with 3 years of history behind it, which should cost what it does with 1.

Prints `ledger_xlsx_seconds_school_year:`, `ledger_pdf_seconds_school_year:` and
`ledger_history_ratio_3y_1y:` (the Excel export's, 3 years of history over 1)."""

from __future__ import annotations

import io
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import insert, select

from models import Base
from models.assets import AssetKind, create_asset
from models.checklists import latest_template, sync_builtin_templates
from models.clock import SettableClock
from models.db import make_engine, make_session_factory
from models.org import District, School
from models.people import Role, create_person, grant_role
from models.photos import Photo, PhotoStore, RecordPhoto, process_photo, write_photo_files
from models.records import Record
from settings import Settings
from webapp import create_app

ANSWERS = {
    k: "pass" for k in ("gauge_green", "pin_seal", "body_intact", "hose_clear", "accessible_signed")
}
EXTINGUISHERS = 40
YEAR = 2026
QUERY = f"/ledger/S1/%s?kind=extinguisher&period=year&on={YEAR}-06-01"


def _world(root: Path, years: int) -> Settings:
    """One school, 40 extinguishers, a check with its own photo every month for `years` years
    ending with YEAR; inserted in bulk."""
    settings = Settings()
    settings.server.secret_key = "bench"
    settings.database.url = f"sqlite:///{root / f'ledger-{years}.db'}"
    settings.storage.data_dir = str(root / f"data-{years}")
    engine = make_engine(settings.database.url)
    Base.metadata.create_all(engine)
    store = PhotoStore(Path(settings.storage.data_dir))
    start = datetime(YEAR - years + 1, 1, 1, 1, 0, tzinfo=UTC)
    clock = SettableClock(start)
    with make_session_factory(engine)() as session:
        sync_builtin_templates(session, now=clock.now())
        template = latest_template(session, "extinguisher_monthly")
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


def _seconds(client: object, path: str, repeat: int = 3) -> tuple[float, bytes]:
    times = []
    data = b""
    for _ in range(repeat):
        begin = time.perf_counter()
        response = client.get(path)  # type: ignore[attr-defined]
        times.append(time.perf_counter() - begin)
        assert response.status_code == 200, response.status_code
        data = response.data
    return sorted(times)[len(times) // 2], data


def run() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for years in (1, 3):
            app = create_app(_world(Path(tmp), years))
            client = app.test_client()
            page = client.get("/login").get_data(as_text=True)
            csrf = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
            client.post(
                "/login", data={"csrf_token": csrf, "login": "admin", "password": "pw-bench"}
            )
            xlsx, book = _seconds(client, QUERY % "excel")
            pdf, document = (_seconds(client, QUERY % "pdf", 1)) if years == 1 else (0.0, b"")
            results[years] = (xlsx, pdf, len(book), len(document))
        xlsx, pdf, book_size, pdf_size = results[1]
        yield f"ledger_records_school_year: {EXTINGUISHERS * 12}"
        yield f"ledger_xlsx_seconds_school_year: {xlsx:.2f}"
        yield f"ledger_xlsx_bytes_school_year: {book_size}"
        yield f"ledger_pdf_seconds_school_year: {pdf:.2f}"
        yield f"ledger_pdf_bytes_school_year: {pdf_size}"
        yield f"ledger_history_ratio_3y_1y: {results[3][0] / xlsx:.2f}"


if __name__ == "__main__":
    for line in run():
        print(line, flush=True)
