"""The two places photos and documents are kept, the data folder and an S3-compatible object
store, behave alike to everything that keeps or reads a file."""

from __future__ import annotations

import os
import time
from pathlib import Path

import boto3
import httpx
import pytest

from models.object_store import ObjectStoreAddress, S3PhotoStore
from models.photos import LocalPhotoStore, PhotoStore
from tests.factories import jpeg_bytes


@pytest.fixture(params=["local", "s3"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> PhotoStore:
    if request.param == "local":
        return LocalPhotoStore(tmp_path / "data")
    return S3PhotoStore(request.getfixturevalue("s3_address"))


def test_a_file_put_is_read_back_listed_under_its_folder_and_deleted(
    any_store: PhotoStore,
) -> None:
    photo, thumb = jpeg_bytes((300, 200)), jpeg_bytes((60, 40))
    before = time.time() - 5

    any_store.put("photos/ab/ab12.jpg", photo)
    any_store.put("thumbs/ab/ab12.jpg", thumb)
    any_store.put("photos/ab/ab12.jpg", photo)  # the same photo uploaded again

    assert any_store.read("photos/ab/ab12.jpg") == photo
    assert any_store.exists("thumbs/ab/ab12.jpg")
    [listed] = any_store.listed("photos")
    assert listed.key == "photos/ab/ab12.jpg"
    assert before <= listed.modified <= time.time() + 5
    assert [entry.key for entry in any_store.listed("thumbs")] == ["thumbs/ab/ab12.jpg"]
    assert list(any_store.listed("files")) == []

    any_store.delete("photos/ab/ab12.jpg")
    any_store.delete("photos/ab/ab12.jpg")  # gone already: nothing to do

    assert not any_store.exists("photos/ab/ab12.jpg")
    assert any_store.modified("photos/ab/ab12.jpg") is None
    with pytest.raises(FileNotFoundError):
        any_store.read("photos/ab/ab12.jpg")
    assert any_store.read("thumbs/ab/ab12.jpg") == thumb


def test_a_local_photo_put_again_is_touched_so_orphan_removal_leaves_it(tmp_path: Path) -> None:
    store = LocalPhotoStore(tmp_path)
    store.put("photos/ab/ab12.jpg", b"photo")
    long_ago = time.time() - 86400
    os.utime(store.path("photos/ab/ab12.jpg"), (long_ago, long_ago))

    store.put("photos/ab/ab12.jpg", b"photo")

    modified = store.modified("photos/ab/ab12.jpg")
    assert modified is not None and modified > long_ago + 3600


def test_the_object_store_keeps_houqins_files_under_its_prefix(
    s3_address: ObjectStoreAddress,
) -> None:
    store = S3PhotoStore(s3_address)

    store.put("files/cd/cd34.pdf", b"%PDF-1.4 scan")

    bucket = boto3.client(
        "s3",
        endpoint_url=s3_address.endpoint_url,
        region_name=s3_address.region,
        aws_access_key_id=s3_address.access_key_id,
        aws_secret_access_key=s3_address.secret_access_key,
    ).list_objects_v2(Bucket=s3_address.bucket)
    assert [entry["Key"] for entry in bucket["Contents"]] == ["houqin/files/cd/cd34.pdf"]
    assert [entry.key for entry in store.listed("files")] == ["files/cd/cd34.pdf"]


def test_a_signed_address_gives_the_file_with_the_type_and_disposition_asked_for(
    s3_address: ObjectStoreAddress,
) -> None:
    store = S3PhotoStore(s3_address)
    store.put("files/cd/cd34.pdf", b"%PDF-1.4 scan")

    url = store.signed_url(
        "files/cd/cd34.pdf",
        seconds=120,
        content_type="application/pdf",
        disposition='attachment; filename="document-3.pdf"',
    )
    answer = httpx.get(url)

    assert answer.status_code == 200
    assert answer.content == b"%PDF-1.4 scan"
    assert answer.headers["Content-Type"] == "application/pdf"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="document-3.pdf"'
    # The local server does not refuse an expired address, so its lifetime is read from it.
    assert "X-Amz-Expires=120" in url
