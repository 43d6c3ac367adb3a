"""`houqin check`, `houqin backup` and `houqin restore` with photos and documents in an
S3-compatible object store (a local one the tests start)."""

from __future__ import annotations

import dataclasses
import tarfile
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from houqin.cli import main
from houqin.data_check import ORPHAN_AFTER_SECONDS, check_files
from models.clock import SettableClock
from models.object_store import ObjectStoreAddress, S3PhotoStore
from models.photos import Photo, prepare_photo, store_photo
from models.stored_files import PdfFile, StoredFile, store_pdf
from tests.factories import distinct_jpeg
from tests.houqin.test_backup import PDF, empty_database, every_row, url_of


def houqin(url: str, data_dir: Path, address: ObjectStoreAddress, *args: str) -> Result:
    env = {
        "HOUQIN_DATABASE_URL": url,
        "HOUQIN_DATA_DIR": str(data_dir),
        "HOUQIN_STORAGE_KIND": "s3",
        "HOUQIN_STORAGE_S3_ENDPOINT_URL": address.endpoint_url,
        "HOUQIN_STORAGE_S3_BUCKET": address.bucket,
        "HOUQIN_STORAGE_S3_REGION": address.region,
        "HOUQIN_STORAGE_S3_ACCESS_KEY_ID": address.access_key_id,
        "HOUQIN_STORAGE_S3_SECRET_ACCESS_KEY": address.secret_access_key,
        "HOUQIN_STORAGE_S3_PREFIX": address.prefix,
        "HOUQIN_STORAGE_S3_ADDRESSING_STYLE": address.addressing_style,
    }
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def in_bucket(
    session: Session, s3_address: ObjectStoreAddress, clock: SettableClock
) -> tuple[Photo, StoredFile]:
    """A photo (and its thumbnail) and a PDF, their files in the object store."""
    store = S3PhotoStore(s3_address)
    processed = prepare_photo(distinct_jpeg("kept"), store)
    photo = store_photo(session, store, processed, now=clock.now())
    pdf = store_pdf(session, store, PdfFile(PDF), now=clock.now())
    session.commit()
    return photo, pdf


def test_check_reads_every_file_in_the_object_store_and_removes_its_old_orphans(
    in_bucket: tuple[Photo, StoredFile],
    engine: Engine,
    session: Session,
    s3_address: ObjectStoreAddress,
    tmp_path: Path,
) -> None:
    photo, pdf = in_bucket
    store = S3PhotoStore(s3_address)
    assert houqin(url_of(engine), tmp_path, s3_address, "check").exit_code == 0
    store.delete(photo.thumb_key)
    store.put(pdf.storage_key.replace(pdf.sha256, "ab" * 32), b"left by a rolled-back upload")
    orphan = pdf.storage_key.replace(pdf.sha256, "ab" * 32)

    result = houqin(url_of(engine), tmp_path, s3_address, "check")
    later = check_files(
        session, store, remove_orphans=True, now=time.time() + 2 * ORPHAN_AFTER_SECONDS
    )

    assert result.exit_code == 1
    assert f"missing: {photo.thumb_key} (photo {photo.id}'s thumbnail)" in result.output
    assert "1 newer than an hour left alone" in result.output
    assert later.removed == [orphan]
    assert not store.exists(orphan)
    assert store.exists(pdf.storage_key)


def test_a_backup_of_the_object_store_restores_into_a_new_bucket(
    in_bucket: tuple[Photo, StoredFile],
    engine: Engine,
    s3_address: ObjectStoreAddress,
    tmp_path: Path,
) -> None:
    photo, pdf = in_bucket
    archive = tmp_path / "houqin-backup.tar"
    made = houqin(url_of(engine), tmp_path / "data", s3_address, "backup", str(archive))
    assert made.exit_code == 0, made.output
    with tarfile.open(archive) as tar:
        members = set(tar.getnames())
    assert {f"data/{photo.storage_key}", f"data/{photo.thumb_key}"} <= members
    assert f"data/{pdf.storage_key}" in members

    target_bucket = dataclasses.replace(s3_address, bucket=f"houqin-{uuid.uuid4().hex[:12]}")
    S3PhotoStore(s3_address).client.create_bucket(Bucket=target_bucket.bucket)
    with empty_database(engine, tmp_path) as target:
        restored = houqin(
            url_of(target), tmp_path / "restored-data", target_bucket, "restore", str(archive)
        )

        assert restored.exit_code == 0, restored.output
        assert every_row(target) == every_row(engine)
        copy = S3PhotoStore(target_bucket)
        original = S3PhotoStore(s3_address)
        for key in (photo.storage_key, photo.thumb_key, pdf.storage_key):
            assert copy.read(key) == original.read(key)
        checked = houqin(url_of(target), tmp_path / "restored-data", target_bucket, "check")
        assert checked.exit_code == 0, checked.output
        again = houqin(url_of(target), tmp_path / "other", target_bucket, "restore", str(archive))
        assert again.exit_code != 0
        assert "not empty" in again.output
