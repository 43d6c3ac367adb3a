"""Photo evidence: bytes in, a small clean JPEG and a thumbnail out, stored once by sha256."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base
from models.messages import N_, DomainError, Message

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 50_000_000
LONG_SIDE = 1600
THUMB_SIDE = 128
# What phones and in-app browsers send; Pillow's other decoders (EPS, PSD, FITS…) stay shut.
PHOTO_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")
Image.init()  # registers the WEBP and TIFF decoders, which `formats=` needs up front


@dataclass(frozen=True)
class ProcessedPhoto:
    jpeg: bytes
    thumbnail: bytes
    width: int
    height: int

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
    """Upright, at most 1600 px on the long side, JPEG, EXIF (and so GPS) dropped by default."""
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
    exif = image.getexif() if keep_exif else None
    icc_profile = image.info.get("icc_profile")
    image = ImageOps.exif_transpose(image)
    if image.mode not in ("RGB", "L"):
        image = _flatten(image)
    image.thumbnail((LONG_SIDE, LONG_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    extra = {"icc_profile": icc_profile} if icc_profile else {}
    if exif is not None:
        exif[0x0112] = 1
        extra["exif"] = exif.tobytes()
    image.save(out, "JPEG", quality=82, optimize=True, **extra)
    thumb = image.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    thumb_out = io.BytesIO()
    thumb.save(thumb_out, "JPEG", quality=60, optimize=True)
    return ProcessedPhoto(out.getvalue(), thumb_out.getvalue(), image.width, image.height)


def _flatten(image: Image.Image) -> Image.Image:
    """Transparent and palette images go onto white, as a printed page would show them."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        high = 65535 if image.mode.startswith("I;16") else (image.getextrema()[1] or 1)
        return image.point(lambda value: value * 255 / high).convert("L")
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, "white")
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


class PhotoStore:
    """Files under the data folder, named by content so a photo is written once."""

    def __init__(self, root: Path) -> None:
        # Absolute, so a relative data_dir means the same folder to every reader of it.
        self.root = root.resolve()

    def path(self, key: str) -> Path:
        return self.root / key

    def put(self, key: str, data: bytes) -> None:
        target = self.path(key)
        if target.exists():
            return
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
    """The photo and its thumbnail on disk, once (their keys)."""
    digest = processed.sha256
    key = f"photos/{digest[:2]}/{digest}.jpg"
    thumb_key = f"thumbs/{digest[:2]}/{digest}.jpg"
    store.put(key, processed.jpeg)
    store.put(thumb_key, processed.thumbnail)
    return key, thumb_key


def store_photo(
    session: Session, store: PhotoStore, processed: ProcessedPhoto, *, now: datetime
) -> Photo:
    """The photo row for these bytes, written to disk (unless `prepare_photo` did) and to the
    database once. Named by their content, files left by a rolled-back transaction do no harm."""
    digest = processed.sha256
    key, thumb_key = write_photo_files(store, processed)
    existing = session.scalar(select(Photo).where(Photo.sha256 == digest))
    if existing is not None:
        return existing
    photo = Photo(
        sha256=digest,
        size=len(processed.jpeg),
        width=processed.width,
        height=processed.height,
        storage_key=key,
        thumb_key=thumb_key,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(photo)
    except IntegrityError:
        # The same photo arrived in another submission at the same moment: use that row.
        return session.scalars(select(Photo).where(Photo.sha256 == digest)).one()
    return photo
