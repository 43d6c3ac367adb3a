"""Scans kept as files: a PDF stored once by its content, or a photo cleaned like any other."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base
from models.messages import N_, Message
from models.photos import PhotoRejected, PhotoStore, ProcessedPhoto, process_photo

MAX_PDF_BYTES = 10 * 1024 * 1024


class StoredFile(Base):
    """A PDF under the data folder, named by its content so it is written once."""

    __tablename__ = "stored_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


@dataclass(frozen=True)
class DocumentFile:
    """An uploaded scan as the door received it: a phone photo or a PDF."""

    data: bytes
    filename: str = ""
    content_type: str = ""


@dataclass(frozen=True)
class PdfFile:
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def read_document_file(
    upload: DocumentFile, *, keep_exif: bool = False
) -> ProcessedPhoto | PdfFile:
    """A PDF as it is (checked to be one), or a photo cleaned like every other photo."""
    if not upload.data:
        raise PhotoRejected(Message(N_("The file is empty. Please choose it again.")))
    said_pdf = upload.content_type == "application/pdf" or upload.filename.lower().endswith(".pdf")
    if upload.data.startswith(b"%PDF-"):
        if len(upload.data) > MAX_PDF_BYTES:
            raise PhotoRejected(Message(N_("This PDF is larger than 10 MB.")))
        return PdfFile(upload.data)
    if said_pdf:
        raise PhotoRejected(Message(N_("This file is not a PDF.")))
    try:
        return process_photo(upload.data, keep_exif=keep_exif)
    except PhotoRejected as rejected:
        if rejected.message.msgid == "This file is not a photo we can read.":
            # Neither a PDF nor an image: say both are welcome, not just photos.
            raise PhotoRejected(Message(N_("Send a photo or a PDF of the document."))) from None
        raise


def store_pdf(session: Session, store: PhotoStore, pdf: PdfFile, *, now: datetime) -> StoredFile:
    """The row for these PDF bytes, written to disk and the database once."""
    digest = pdf.sha256
    existing = session.scalar(select(StoredFile).where(StoredFile.sha256 == digest))
    if existing is not None:
        return existing
    key = f"files/{digest[:2]}/{digest}.pdf"
    store.put(key, pdf.data)
    stored = StoredFile(
        sha256=digest,
        size=len(pdf.data),
        content_type="application/pdf",
        storage_key=key,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(stored)
    except IntegrityError:
        return session.scalars(select(StoredFile).where(StoredFile.sha256 == digest)).one()
    return stored
