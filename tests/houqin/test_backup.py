"""`houqin check`, `houqin backup` and `houqin restore` as an operator runs them."""

from __future__ import annotations

import json
import os
import tarfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from houqin.backup import alembic_revision, tables
from houqin.cli import main
from houqin.demo import seed_demo
from models.clock import SettableClock
from models.db import READ_ONLY, make_engine, make_session_factory
from models.documents import Document, DocumentKind
from models.org import District
from models.photos import LocalPhotoStore, Photo, prepare_photo, store_photo
from models.stored_files import PdfFile, StoredFile, store_pdf
from settings import Settings
from tests.conftest import pg_schema
from tests.factories import distinct_jpeg
from tests.houqin.conftest import DEMO_NOW

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HOUR = 3600


def houqin(url: str, data_dir: Path, *args: str) -> Result:
    runner = CliRunner()
    env = {"HOUQIN_DATABASE_URL": url, "HOUQIN_DATA_DIR": str(data_dir)}
    return runner.invoke(main, list(args), env=env, catch_exceptions=False)


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@contextmanager
def empty_database(engine: Engine, tmp_path: Path) -> Iterator[Engine]:
    """A new database on the same engine as `engine`: a file, or a schema of its own."""
    if engine.dialect.name == "sqlite":
        target = make_engine(f"sqlite:///{tmp_path / 'restored' / 'houqin.db'}")
        try:
            yield target
        finally:
            target.dispose()
    else:
        with pg_schema(f"houqin_restore_{os.getpid()}") as target:
            yield target


def every_row(engine: Engine) -> dict[str, list[Any]]:
    with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
        return {
            table.name: [
                tuple(row)
                for row in connection.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in tables()
        }


def every_file(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file()
    }


@pytest.fixture
def district_with_files(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Session:
    """The demo district (rows in most tables, photos and their thumbnails), and a PDF."""
    monkeypatch.chdir(tmp_path)  # the demo's label sheet goes to ./var/
    seed_demo(session, settings, now=DEMO_NOW)
    store = LocalPhotoStore(Path(settings.storage.data_dir))
    district = session.scalars(select(District)).first()
    assert district is not None
    session.add(
        Document(
            district_id=district.id,
            school_id=None,
            kind=DocumentKind.FOOD_BUSINESS_LICENCE,
            title="食品经营许可证（扫描件）",
            file=store_pdf(session, store, PdfFile(PDF), now=DEMO_NOW),
            created_at=DEMO_NOW,
        )
    )
    session.commit()
    return session


def test_a_backup_restores_every_row_and_every_file_into_a_new_database(
    district_with_files: Session, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    session = district_with_files
    data_dir = Path(settings.storage.data_dir)
    assert session.scalar(select(func.count()).select_from(Photo)) > 0
    archive = tmp_path / "houqin-backup.tar"

    made = houqin(url_of(engine), data_dir, "backup", str(archive))

    assert made.exit_code == 0, made.output
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert manifest["tables"]["photo"] == session.scalar(select(func.count(Photo.id)))
    assert manifest["tables"]["stored_file"] == 1
    assert len(manifest["files"]) == len(every_file(data_dir))
    restored_dir = tmp_path / "restored-data"
    with empty_database(engine, tmp_path) as target:
        restored = houqin(url_of(target), restored_dir, "restore", str(archive))

        assert restored.exit_code == 0, restored.output
        source_rows, target_rows = every_row(engine), every_row(target)
        assert sum(map(len, source_rows.values())) > 500
        for table, rows in source_rows.items():
            assert target_rows[table] == rows, table
        assert every_file(restored_dir) == every_file(data_dir)
        assert houqin(url_of(target), restored_dir, "check").exit_code == 0
        # The restored database takes new rows: its ids follow the restored ones.
        with make_session_factory(target)() as restored_session:
            district = restored_session.scalars(select(District)).first()
            assert district is not None
            restored_session.add(
                Document(
                    district_id=district.id,
                    school_id=None,
                    kind=DocumentKind.FOOD_BUSINESS_LICENCE,
                    title="新的许可证",
                    created_at=DEMO_NOW,
                )
            )
            restored_session.commit()

        again = houqin(url_of(target), tmp_path / "other-data", "restore", str(archive))
        assert again.exit_code != 0
        assert "not empty" in again.output
        forced = houqin(url_of(target), restored_dir, "restore", "--force", str(archive))
        assert forced.exit_code == 0, forced.output
        assert every_row(target) == source_rows


def test_a_backup_holds_its_engines_own_copy_sqlites_backup_file_or_pg_dumps(
    stored: tuple[Photo, StoredFile], engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    archive = tmp_path / "houqin-backup.tar"

    made = houqin(url_of(engine), Path(settings.storage.data_dir), "backup", str(archive))

    assert made.exit_code == 0, made.output
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        names = tar.getnames()
        if engine.dialect.name == "postgresql":
            dump = tar.extractfile(manifest["pg_dump"])
            assert dump is not None and dump.read(5) == b"PGDMP"
        else:
            assert manifest["pg_dump"] is None
            copy = tar.extractfile("database/houqin.sqlite3")
            assert copy is not None and copy.read(16) == b"SQLite format 3\x00"
        assert any(name.startswith("data/photos/") for name in names)


@pytest.fixture
def stored(
    session: Session, store: LocalPhotoStore, settings: Settings, clock: SettableClock
) -> tuple[Photo, StoredFile]:
    processed = prepare_photo(distinct_jpeg("check"), store)
    photo = store_photo(session, store, processed, now=clock.now())
    pdf = store_pdf(session, store, PdfFile(PDF), now=clock.now())
    session.commit()
    return photo, pdf


def aged(path: Path, seconds: float) -> None:
    """The file's time set back, as if it had been written `seconds` ago."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_check_finds_a_deleted_file_a_changed_file_and_an_orphan(
    stored: tuple[Photo, StoredFile], engine: Engine, store: LocalPhotoStore
) -> None:
    photo, pdf = stored
    assert houqin(url_of(engine), store.root, "check").exit_code == 0
    store.path(photo.storage_key).unlink()
    store.path(pdf.storage_key).write_bytes(PDF + b"% edited\n")
    orphan = store.path("photos/ab/" + "ab" * 32 + ".jpg")
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"left behind")
    aged(orphan, 2 * HOUR)

    result = houqin(url_of(engine), store.root, "check")

    assert result.exit_code == 1
    assert f"missing: {photo.storage_key} (photo {photo.id})" in result.output
    assert f"changed: {pdf.storage_key} (document {pdf.id}" in result.output
    assert f"orphan: photos/ab/{'ab' * 32}.jpg" in result.output
    assert f"missing: {photo.thumb_key}" not in result.output


def test_remove_orphans_leaves_a_file_an_upload_may_still_name(
    stored: tuple[Photo, StoredFile],
    engine: Engine,
    store: LocalPhotoStore,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
) -> None:
    # An upload whose transaction rolled back two hours ago left its photo and thumbnail.
    abandoned = prepare_photo(distinct_jpeg("abandoned"), store)
    abandoned_keys = [
        f"{folder}/{abandoned.sha256[:2]}/{abandoned.sha256}.jpg" for folder in ("photos", "thumbs")
    ]
    for key in abandoned_keys:
        aged(store.path(key), 2 * HOUR)
    # Another, now, of a photo an older rolled-back upload had left: being sent again, its files
    # are young once more while the row's transaction is open.
    again = prepare_photo(distinct_jpeg("again"), store)
    again_key = f"photos/{again.sha256[:2]}/{again.sha256}.jpg"
    aged(store.path(again_key), 2 * HOUR)
    with session_factory() as uploading:
        store_photo(uploading, store, again, now=clock.now())

        result = houqin(url_of(engine), store.root, "check", "--remove-orphans")

        uploading.commit()
    assert result.exit_code == 0, result.output
    for key in abandoned_keys:
        assert f"orphan (removed): {key}" in result.output
        assert not store.path(key).exists()
    assert store.path(again_key).exists()
    assert "newer than an hour left alone" in result.output
    assert houqin(url_of(engine), store.root, "check").exit_code == 0


def test_restore_refuses_an_archive_that_is_not_a_backup(engine: Engine, tmp_path: Path) -> None:
    archive = tmp_path / "photos.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(__file__, arcname="photo.jpg")

    result = houqin(url_of(engine), tmp_path / "data", "restore", str(archive))

    assert result.exit_code != 0
    assert "no manifest.json" in result.output


def test_a_migrated_database_is_restored_at_its_alembic_revision(tmp_path: Path) -> None:
    source = f"sqlite:///{tmp_path / 'source' / 'houqin.db'}"
    target = f"sqlite:///{tmp_path / 'target' / 'houqin.db'}"
    assert houqin(source, tmp_path / "data", "db", "upgrade").exit_code == 0
    archive = tmp_path / "houqin-backup.tar.gz"

    assert houqin(source, tmp_path / "data", "backup", str(archive)).exit_code == 0
    restored = houqin(target, tmp_path / "restored", "restore", str(archive))

    assert restored.exit_code == 0, restored.output
    source_engine, target_engine = make_engine(source), make_engine(target)
    try:
        with source_engine.connect() as one, target_engine.connect() as other:
            assert alembic_revision(other) == alembic_revision(one) is not None
        assert every_row(target_engine) == every_row(source_engine)
    finally:
        source_engine.dispose()
        target_engine.dispose()
