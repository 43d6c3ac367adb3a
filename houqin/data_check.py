"""`houqin check`: every stored photo, thumbnail and document against its row, and the files no
row names."""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.photos import STORED_FOLDERS, Photo, PhotoStore
from models.stored_files import StoredFile

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
    stored = {entry.key: entry for folder in STORED_FOLDERS for entry in store.listed(folder)}
    named: set[str] = set()
    for photo in session.scalars(select(Photo).order_by(Photo.id)):
        named.update((photo.storage_key, photo.thumb_key))
        _check_digest(report, store, photo.storage_key, photo.sha256, f"photo {photo.id}")
        _check_thumbnail(report, store, photo.thumb_key, f"photo {photo.id}")
    for document in session.scalars(select(StoredFile).order_by(StoredFile.id)):
        named.add(document.storage_key)
        _check_digest(
            report, store, document.storage_key, document.sha256, f"document {document.id}"
        )
    for key in sorted(set(stored) - named):
        if now - stored[key].modified < ORPHAN_AFTER_SECONDS:
            report.young += 1
            continue
        report.orphans.append(key)
        if remove_orphans:
            # Looked at again just before: an upload of the same content touches the file.
            modified = store.modified(key)
            if modified is None:
                report.removed.append(key)
            elif now - modified >= ORPHAN_AFTER_SECONDS:
                store.delete(key)
                report.removed.append(key)
    return report


def _check_digest(report: CheckReport, store: PhotoStore, key: str, sha256: str, row: str) -> None:
    report.checked += 1
    try:
        actual = hashlib.sha256(store.read(key)).hexdigest()
    except FileNotFoundError:
        report.missing.append(f"{key} ({row})")
        return
    if actual != sha256:
        report.changed.append(f"{key} ({row}: sha256 {actual}, the row says {sha256})")


def _check_thumbnail(report: CheckReport, store: PhotoStore, key: str, row: str) -> None:
    """A thumbnail has no digest of its own: it must be there and read as a JPEG."""
    report.checked += 1
    try:
        data = store.read(key)
    except FileNotFoundError:
        report.missing.append(f"{key} ({row}'s thumbnail)")
        return
    try:
        with Image.open(io.BytesIO(data), formats=("JPEG",)) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        report.changed.append(f"{key} ({row}'s thumbnail is not a readable JPEG)")
