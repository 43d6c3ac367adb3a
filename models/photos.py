"""Photo evidence: bytes in, a small clean JPEG and a thumbnail out, stored once by sha256."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base
from models.clock import sent_moment
from models.messages import N_, DomainError, Message

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 50_000_000
LONG_SIDE = 1600
THUMB_SIDE = 128
# What phones and in-app browsers send; Pillow's other decoders (EPS, PSD, FITS…) stay shut.
PHOTO_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")
Image.init()  # registers the WEBP and TIFF decoders, which `formats=` needs up front
EXIF_IFD = 0x8769
DATE_TIME_ORIGINAL = 0x9003
OFFSET_TIME_ORIGINAL = 0x9011
# A capture time before this, or more than a day ahead of the server, is a phone's wrong clock
# or a forged field: kept as unknown.
EARLIEST_CAPTURE = datetime(2000, 1, 1, tzinfo=UTC)
CAPTURE_AHEAD = timedelta(days=1)
# The form field beside each photo input with its capture time, as the phone read it before
# scaling (webapp/js/photos.js): `<input name>__taken_at`, one value per photo, in order.
TAKEN_AT_SUFFIX = "__taken_at"


@dataclass(frozen=True)
class ProcessedPhoto:
    jpeg: bytes
    thumbnail: bytes
    width: int
    height: int
    # The file's own EXIF DateTimeOriginal, read before EXIF is stripped: naive (the camera's
    # local time) unless the camera wrote its offset too.
    taken: datetime | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.jpeg).hexdigest()


class PhotoRejected(DomainError):
    pass


def check_photo_size(size: int) -> None:
    """Refuse a photo over the limit, by its size alone: before a door downloads it."""
    if size > MAX_UPLOAD_BYTES:
        raise photo_too_large()


def photo_too_large() -> PhotoRejected:
    """The refusal of a photo past the size limit, for a door that learns it from elsewhere."""
    return PhotoRejected(Message(N_("This photo is larger than 20 MB.")))


def process_photo(data: bytes, *, keep_exif: bool = False) -> ProcessedPhoto:
    """Upright, at most 1600 px on the long side, JPEG in sRGB, with no metadata block of the
    source's (comments, XMP, colour profile, EXIF and so GPS, unless the config keeps EXIF)."""
    check_photo_size(len(data))
    if not data:
        raise PhotoRejected(Message(N_("The photo is empty. Please take it again.")))
    try:
        image: Image.Image = Image.open(io.BytesIO(data), formats=PHOTO_FORMATS)
        if image.width * image.height > MAX_PIXELS:
            raise PhotoRejected(Message(N_("This image is too large to process.")))
        image.load()
    except PhotoRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRejected(Message(N_("This image is too large to process."))) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise PhotoRejected(Message(N_("This file is not a photo we can read."))) from None
    taken = _exif_taken(image.getexif())
    exif = image.getexif() if keep_exif else None
    icc_profile = image.info.get("icc_profile")
    image = ImageOps.exif_transpose(image)
    if image.mode not in ("RGB", "L"):
        image = _flatten(image)
    image.thumbnail((LONG_SIDE, LONG_SIDE), Image.Resampling.LANCZOS)
    image = _in_srgb(image, icc_profile)
    # Nothing of the source's blocks goes on: Pillow would write its JPEG comment back.
    image.info = {}
    out = io.BytesIO()
    extra: dict[str, bytes] = {}
    if exif is not None:
        exif[0x0112] = 1
        extra["exif"] = exif.tobytes()
    image.save(out, "JPEG", quality=82, optimize=True, **extra)
    thumb = image.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    thumb_out = io.BytesIO()
    thumb.save(thumb_out, "JPEG", quality=60, optimize=True)
    return ProcessedPhoto(
        out.getvalue(), thumb_out.getvalue(), image.width, image.height, taken=taken
    )


def _in_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """The colours of a wide-gamut phone photo (Display P3) in sRGB, which browsers assume,
    so the stored file needs no profile; a profile that cannot be read is dropped."""
    if not icc_profile or image.mode != "RGB":
        return image
    try:
        converted = ImageCms.profileToProfile(
            image,
            ImageCms.ImageCmsProfile(io.BytesIO(icc_profile)),
            ImageCms.createProfile("sRGB"),
            outputMode="RGB",
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image
    return converted or image


def _exif_taken(exif: Image.Exif) -> datetime | None:
    """DateTimeOriginal ("2026:03:25 08:30:00") and its offset ("+08:00") when written."""
    try:
        tags = exif.get_ifd(EXIF_IFD)
        text = str(tags.get(DATE_TIME_ORIGINAL) or "").strip("\x00 ")
        if not text:
            return None
        taken = datetime.strptime(text, "%Y:%m:%d %H:%M:%S")
        offset = str(tags.get(OFFSET_TIME_ORIGINAL) or "").strip("\x00 ")
        if offset:
            taken = datetime.fromisoformat(taken.isoformat() + offset)
    except (ValueError, TypeError, KeyError, SyntaxError, OSError):
        return None
    return taken


def capture_time(
    sent: str | None, processed: ProcessedPhoto, *, zone: ZoneInfo, now: datetime
) -> datetime | None:
    """When the photo was taken: the time the phone read from it before scaling (ISO 8601 with
    an offset), else the file's own EXIF in the district's time; None when neither is
    believable. A bad value from the phone is ignored, never refused: the person cannot fix it.
    """
    taken = sent_moment(sent)
    if taken is None and processed.taken is not None:
        taken = processed.taken
        if taken.tzinfo is None:
            taken = taken.replace(tzinfo=zone)
    if taken is None or not EARLIEST_CAPTURE <= taken <= now + CAPTURE_AHEAD:
        return None
    return taken.astimezone(UTC)


def _flatten(image: Image.Image) -> Image.Image:
    """Transparent and palette images go onto white, as a printed page would show them."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        high = 65535 if image.mode.startswith("I;16") else (image.getextrema()[1] or 1)
        return image.point(lambda value: value * 255 / high).convert("L")
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, "white")
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


# The folders a PhotoStore fills with files named by their content (here and in
# models/stored_files.py); the data folder's imports/ and drafts/ expire on their own.
STORED_FOLDERS = ("photos", "thumbs", "files")


@dataclass(frozen=True)
class StoredKey:
    """A file in a photo store and when it was last written (seconds since the epoch)."""

    key: str
    modified: float
    size: int = 0  # bytes


class PhotoStore(Protocol):
    """Where photos, thumbnails and documents are kept, named by their content, so a file is
    written once and never changed: the data folder (LocalPhotoStore) or an S3-compatible
    object store (models/object_store.py). Written before the row's transaction (the slow
    part outside SQLite's write lock), so a transaction rolled back leaves a whole file no row
    names, which `houqin check --remove-orphans` clears once it is older than an hour."""

    def put(self, key: str, data: bytes) -> None:
        """Whole or absent, never half; putting a key again marks it as just written."""

    def read(self, key: str) -> bytes:
        """The bytes, or FileNotFoundError."""

    def exists(self, key: str) -> bool: ...

    def listed(self, folder: str) -> Iterator[StoredKey]:
        """Every file under the folder (`photos`, `thumbs`, `files`)."""

    def modified(self, key: str) -> float | None:
        """When the file was last written, or None when it is absent."""

    def delete(self, key: str) -> None:
        """Gone; nothing when it was gone already."""

    def signed_url(self, key: str, *, seconds: int, content_type: str, disposition: str) -> str:
        """A short-lived address a browser fetches the file from without the app, answered
        with this Content-Type and Content-Disposition; only object stores give one."""


class LocalPhotoStore:
    """Files under the data folder. Written to a temporary name and renamed, so a file is
    whole or absent."""

    def __init__(self, root: Path) -> None:
        # Absolute, so a relative data_dir means the same folder to every reader of it.
        self.root = root.resolve()

    def path(self, key: str) -> Path:
        return self.root / key

    def put(self, key: str, data: bytes) -> None:
        target = self.path(key)
        if target.exists():
            # Touched, so `houqin check --remove-orphans` sees a file an upload is about to
            # name again (one a rolled-back upload left) as young, and leaves it.
            try:
                os.utime(target)
                return
            except FileNotFoundError:
                pass
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def read(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def listed(self, folder: str) -> Iterator[StoredKey]:
        top = self.root / folder
        if not top.is_dir():
            return
        # A `.tmp-` file a killed write left is listed too: no row names it, so it is an orphan.
        for path in sorted(top.rglob("*")):
            try:
                if path.is_file():
                    stat = path.stat()
                    key = path.relative_to(self.root).as_posix()
                    yield StoredKey(key, stat.st_mtime, stat.st_size)
            except FileNotFoundError:
                continue

    def modified(self, key: str) -> float | None:
        try:
            return self.path(key).stat().st_mtime
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def signed_url(self, key: str, *, seconds: int, content_type: str, disposition: str) -> str:
        raise NotImplementedError("a data folder has no signed addresses; the app serves it")


class Photo(Base):
    __tablename__ = "photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    storage_key: Mapped[str] = mapped_column(String(200))
    thumb_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    # When the photo was taken, from its EXIF (read on the phone or here), though the file
    # itself keeps no EXIF; None for a photo with no capture time (a screenshot, the bot).
    taken_at: Mapped[datetime | None]


class RecordPhoto(Base):
    """A photo attached to one item of one record."""

    __tablename__ = "record_photo"

    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), primary_key=True)
    # Indexed on its own: which records a photo already backs (models/records.py).
    photo_id: Mapped[int] = mapped_column(ForeignKey("photo.id"), primary_key=True, index=True)
    item_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)

    photo: Mapped[Photo] = relationship(lazy="joined")


def prepare_photo(data: bytes, store: PhotoStore, *, keep_exif: bool = False) -> ProcessedPhoto:
    """The slow part of keeping a photo, for a door to do before its write transaction:
    decoded, resized and written to disk, so SQLite's write lock waits for neither."""
    processed = process_photo(data, keep_exif=keep_exif)
    write_photo_files(store, processed)
    return processed


def write_photo_files(store: PhotoStore, processed: ProcessedPhoto) -> tuple[str, str]:
    """The photo and its thumbnail in the store, once (their keys)."""
    digest = processed.sha256
    key = f"photos/{digest[:2]}/{digest}.jpg"
    thumb_key = f"thumbs/{digest[:2]}/{digest}.jpg"
    store.put(key, processed.jpeg)
    store.put(thumb_key, processed.thumbnail)
    return key, thumb_key


def store_photo(
    session: Session,
    store: PhotoStore,
    processed: ProcessedPhoto,
    *,
    now: datetime,
    taken_at: datetime | None = None,
) -> Photo:
    """The photo row for these bytes, written to disk (unless `prepare_photo` did) and to the
    database once. Named by their content, files left by a rolled-back transaction do no harm."""
    digest = processed.sha256
    key, thumb_key = write_photo_files(store, processed)
    existing = session.scalar(select(Photo).where(Photo.sha256 == digest))
    if existing is not None:
        if existing.taken_at is None and taken_at is not None:
            existing.taken_at = taken_at
        return existing
    photo = Photo(
        sha256=digest,
        size=len(processed.jpeg),
        width=processed.width,
        height=processed.height,
        storage_key=key,
        thumb_key=thumb_key,
        created_at=now,
        taken_at=taken_at,
    )
    try:
        with session.begin_nested():
            session.add(photo)
    except IntegrityError:
        # The same photo arrived in another submission at the same moment: use that row.
        return session.scalars(select(Photo).where(Photo.sha256 == digest)).one()
    return photo
