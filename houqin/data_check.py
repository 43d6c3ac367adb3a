"""`houqin check`: every stored photo, thumbnail and document against its row, and the files no
row names."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.photos import Photo, PhotoStore
from models.stored_files import StoredFile

# The folders PhotoStore fills with files named by their content (models/photos.py,
# models/stored_files.py). The data folder's imports/ and drafts/ expire on their own.
STORED_FOLDERS = ("photos", "thumbs", "files")
# A file this young may belong to an upload whose row is not yet committed: not an orphan.
ORPHAN_AFTER_SECONDS = 3600


@dataclass
class CheckReport:
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    young: int = 0

    @property
    def ok(self) -> bool:
        """Nothing missing, nothing changed, and no orphan left in place."""
        return not (self.missing or self.changed or set(self.orphans) - set(self.removed))

    def lines(self) -> Iterator[str]:
        yield from (f"missing: {line}" for line in self.missing)
        yield from (f"changed: {line}" for line in self.changed)
        for key in self.orphans:
            yield f"orphan{' (removed)' if key in self.removed else ''}: {key}"
        yield (
            f"checked {self.checked} file(s): {len(self.missing)} missing, "
            f"{len(self.changed)} changed, {len(self.orphans)} orphan(s)"
            + (f" ({len(self.removed)} removed)" if self.removed else "")
            + (f"; {self.young} newer than an hour left alone" if self.young else "")
        )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_files(
    session: Session,
    store: PhotoStore,
    *,
    remove_orphans: bool = False,
    now: float | None = None,
) -> CheckReport:
    """Each photo and PDF against its row's sha256, each thumbnail read as an image; files
    under the stored folders that no row names are orphans once older than an hour."""
    now = time.time() if now is None else now
    report = CheckReport()
    # Listed before the rows are read: a file written after this is not looked at, and one
    # listed here whose row commits meanwhile is seen with its row.
    on_disk = {
        path.relative_to(store.root).as_posix(): path
        for folder in STORED_FOLDERS
        if (store.root / folder).is_dir()
        for path in (store.root / folder).rglob("*")
        if path.is_file()
    }
    named: set[str] = set()
    for photo in session.scalars(select(Photo).order_by(Photo.id)):
        named.update((photo.storage_key, photo.thumb_key))
        _check_digest(report, store, photo.storage_key, photo.sha256, f"photo {photo.id}")
        _check_thumbnail(report, store, photo.thumb_key, f"photo {photo.id}")
    for stored in session.scalars(select(StoredFile).order_by(StoredFile.id)):
        named.add(stored.storage_key)
        _check_digest(report, store, stored.storage_key, stored.sha256, f"document {stored.id}")
    for key in sorted(set(on_disk) - named):
        path = on_disk[key]
        try:
            age = now - path.stat().st_mtime
        except FileNotFoundError:
            continue
        if age < ORPHAN_AFTER_SECONDS:
            report.young += 1
            continue
        report.orphans.append(key)
        if remove_orphans:
            # Looked at again just before: an upload of the same content touches the file.
            try:
                if now - path.stat().st_mtime >= ORPHAN_AFTER_SECONDS:
                    path.unlink()
                    report.removed.append(key)
            except FileNotFoundError:
                report.removed.append(key)
    return report


def _check_digest(report: CheckReport, store: PhotoStore, key: str, sha256: str, row: str) -> None:
    report.checked += 1
    path = store.path(key)
    try:
        actual = file_sha256(path)
    except FileNotFoundError:
        report.missing.append(f"{key} ({row})")
        return
    if actual != sha256:
        report.changed.append(f"{key} ({row}: sha256 {actual}, the row says {sha256})")


def _check_thumbnail(report: CheckReport, store: PhotoStore, key: str, row: str) -> None:
    """A thumbnail has no digest of its own: it must be there and read as a JPEG."""
    report.checked += 1
    path = store.path(key)
    if not path.is_file():
        report.missing.append(f"{key} ({row}'s thumbnail)")
        return
    try:
        with Image.open(path, formats=("JPEG",)) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        report.changed.append(f"{key} ({row}'s thumbnail is not a readable JPEG)")
