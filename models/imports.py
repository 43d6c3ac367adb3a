"""Bulk import from a spreadsheet: read the file, check every row, then write all or nothing.

An import is done twice over the same bytes: `preview_import` reads and checks every row and
writes nothing; `run_import` does the same checks again and, only when no row is refused,
saves every row in one savepoint. Nothing is ever half-imported.

What can be imported is a registry of `ImportKind`s (models/import_kinds.py), one per kind
of row, each defined beside its concept: assets (models/inventory.py), people
(models/accounts.py) and suppliers (models/suppliers.py, which only a district administrator
may import). A new kind is registered below, in the order the import page lists them.

The files themselves wait between the preview and the confirmation in an `ImportFiles`
folder, named by their SHA-256, so the browser only carries the hash back.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.accounts import PEOPLE_IMPORT, SIGN_IN, SignInSlip
from models.audit import audit
from models.catalogue import LOCALES, join_list
from models.import_kinds import ImportContext, ImportKind
from models.inventory import ASSET_IMPORT
from models.messages import N_, DomainError, Message, SubmissionInvalid
from models.org import School
from models.people import Person
from models.photos import PhotoStore
from models.spreadsheets import ImportRefused, Sheet, header_key, read_sheet
from models.suppliers import SUPPLIER_IMPORT


class RowsRefused(DomainError):
    """Some rows are refused, so nothing was imported; `preview` says which and why."""

    def __init__(self, preview: ImportPreview) -> None:
        super().__init__(
            Message(
                N_(
                    "Nothing was imported: the file has refused rows (%(count)d). "
                    "Fix or remove them in the file, then upload it again."
                ),
                {"count": len(preview.refused)},
            )
        )
        self.preview = preview


IMPORT_KINDS: dict[str, ImportKind] = {}


def register_import_kind(kind: ImportKind) -> ImportKind:
    """Make a kind of import available; every kind registers once, below."""
    if kind.key in IMPORT_KINDS:
        raise ValueError(f"import kind {kind.key!r} is registered twice")
    IMPORT_KINDS[kind.key] = kind
    return kind


for _kind in (ASSET_IMPORT, PEOPLE_IMPORT, SUPPLIER_IMPORT):
    register_import_kind(_kind)


def import_kind(key: str, actor: Person, school: School) -> ImportKind:
    """The kind of rows to import, if this person may import them at this school."""
    kind = IMPORT_KINDS.get(key)
    if kind is None:
        raise ImportRefused(Message(N_("Choose what to import.")))
    if not kind.allowed(actor, school):
        raise ImportRefused(Message(kind.refusal))
    return kind


def import_kinds_for(actor: Person, school: School) -> dict[str, ImportKind]:
    """What this person may import at this school, in the order the kinds registered."""
    return {key: kind for key, kind in IMPORT_KINDS.items() if kind.allowed(actor, school)}


# --- preview and import -----------------------------------------------------------------


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str
    message: Message


@dataclass
class CheckedRow:
    row: int
    values: dict[str, str]
    problems: list[RowProblem]
    checked: Any = None


@dataclass
class ImportPreview:
    kind: ImportKind
    rows: list[CheckedRow]
    ignored_columns: list[str]

    @property
    def refused(self) -> list[CheckedRow]:
        return [row for row in self.rows if row.problems]

    @property
    def good(self) -> list[CheckedRow]:
        return [row for row in self.rows if not row.problems]


def _map_columns(kind: ImportKind, headers: list[str]) -> tuple[dict[str, int], dict[str, str]]:
    """Which position each column is at, and the header it was written with."""
    by_header = {header_key(h): column for column in kind.columns for h in column.headers}
    positions: dict[str, int] = {}
    written: dict[str, str] = {}
    for index, header in enumerate(headers):
        column = by_header.get(header_key(header)) if header else None
        if column is None:
            continue
        if column.key in positions:
            raise ImportRefused(
                Message(N_("The column %(column)s appears twice."), {"column": header})
            )
        positions[column.key] = index
        written[column.key] = header
    missing = [c.template_header for c in kind.columns if c.required and c.key not in positions]
    if missing:
        raise ImportRefused(
            Message(
                N_("Columns missing: %(columns)s."),
                {"columns": {locale: join_list(missing, locale) for locale in LOCALES}},
            )
        )
    return positions, written


def preview_import(
    session: Session, kind_key: str, *, school: School, actor: Person, data: bytes, now: datetime
) -> ImportPreview:
    """Every row read and checked, and the reasons for each refused one; nothing written."""
    kind = import_kind(kind_key, actor, school)
    sheet = read_sheet(data)
    positions, written = _map_columns(kind, sheet.headers)
    ignored = [h for i, h in enumerate(sheet.headers) if h and i not in positions.values()]
    context = ImportContext(school=school, actor=actor, now=now)
    position = {column.key: index for index, column in enumerate(kind.columns)}

    def order(item: tuple[str, Message]) -> int:
        return position.get(item[0], len(position))

    rows: list[CheckedRow] = []
    with kind.checking(session):
        _check_rows(session, kind, context, sheet, positions, written, order, rows)
    return ImportPreview(kind=kind, rows=rows, ignored_columns=ignored)


def _check_rows(
    session: Session,
    kind: ImportKind,
    context: ImportContext,
    sheet: Sheet,
    positions: dict[str, int],
    written: dict[str, str],
    order: Callable[[tuple[str, Message]], int],
    rows: list[CheckedRow],
) -> None:
    example = {c.key: c.example for c in kind.columns}
    for number, cells in sheet.rows:
        if number == 2 and _is_example(cells, positions, example):
            continue
        values = {
            key: cells[index].strip() if index < len(cells) else ""
            for key, index in positions.items()
        }
        checked = CheckedRow(row=number, values=values, problems=[])
        try:
            checked.checked = kind.check_row(session, context, number, values)
        except SubmissionInvalid as invalid:
            checked.problems = [
                RowProblem(
                    row=number,
                    column=written.get(key) or _column_header(kind, key),
                    message=message,
                )
                for key, message in sorted(invalid.errors.items(), key=order)
            ]
        rows.append(checked)


def _is_example(cells: list[str], positions: dict[str, int], example: dict[str, str]) -> bool:
    """The template's example row, left in the file: not a row to import."""
    return any(example.values()) and all(
        (cells[index].strip() if index < len(cells) else "") == example[key]
        for key, index in positions.items()
    )


def _column_header(kind: ImportKind, key: str) -> str:
    return next((c.template_header for c in kind.columns if c.key == key), key)


def run_import(
    session: Session, kind_key: str, *, school: School, actor: Person, data: bytes, now: datetime
) -> int:
    """Import every row of the file in one go, or nothing if any row is refused.

    The rows are checked again here: the file or the database may have changed since the
    preview. Returns how many rows were imported.
    """
    preview = preview_import(session, kind_key, school=school, actor=actor, data=data, now=now)
    if preview.refused:
        raise RowsRefused(preview)
    return save_import(session, preview, school=school, actor=actor, now=now).count


@dataclass(frozen=True)
class ImportDone:
    count: int
    sign_in: list[SignInSlip]


def save_import(
    session: Session,
    preview: ImportPreview,
    *,
    school: School,
    actor: Person,
    now: datetime,
    file: str = "",
) -> ImportDone:
    """Save every row of a preview with no refused row, in one savepoint.

    Cheap by design, so the write lock is held briefly: the checks ran in the preview (a web
    request does it before taking the lock); what changed since is caught by the unique
    constraints, and then nothing is imported. No slow password hash per row.
    """
    if preview.refused:
        raise RowsRefused(preview)
    if not preview.rows:
        raise ImportRefused(Message(N_("The file has no rows below its header.")))
    context = ImportContext(school=school, actor=actor, now=now)
    try:
        with session.begin_nested():
            if preview.kind.save_rows is not None:
                preview.kind.save_rows(session, context, [row.checked for row in preview.rows])
            else:
                for row in preview.rows:
                    preview.kind.save_row(session, context, row.checked)
            session.flush()
    except IntegrityError as exc:
        # Someone added the same code or username between the check and the save.
        raise ImportRefused(
            Message(N_("The data changed while importing, so nothing was imported. Try again."))
        ) from exc
    added = {"kind": preview.kind.key, "file": file, "rows_added": len(preview.rows)}
    audit(session, actor, "import.saved", school, {}, added, now=now, label=school.name)
    return ImportDone(count=len(preview.rows), sign_in=context.cache.get(SIGN_IN, []))


# --- the files between preview and confirmation -----------------------------------------

SHA256_RE = re.compile(r"[0-9a-f]{64}")


class ImportFiles:
    """Uploaded files waiting for their confirmation, named by content under `imports/` in
    the photo store: the data folder, or the object store several web servers share, so the
    confirmation may reach another server than the preview."""

    FOLDER = "imports"

    def __init__(self, store: PhotoStore, *, keep_seconds: int = 24 * 3600) -> None:
        self.store = store
        self.keep_seconds = keep_seconds

    def put(self, data: bytes) -> str:
        """Keep the file; returns its SHA-256, the only thing the browser carries back."""
        digest = hashlib.sha256(data).hexdigest()
        self._prune()
        self.store.put(f"{self.FOLDER}/{digest}", data)
        return digest

    def get(self, digest: str) -> bytes | None:
        """The kept file, if the hash is well-formed, the file is still here and still matches."""
        if not SHA256_RE.fullmatch(digest or ""):
            return None
        try:
            data = self.store.read(f"{self.FOLDER}/{digest}")
        except FileNotFoundError:
            return None
        return data if hashlib.sha256(data).hexdigest() == digest else None

    def discard(self, digest: str) -> None:
        if SHA256_RE.fullmatch(digest or ""):
            self.store.delete(f"{self.FOLDER}/{digest}")

    def _prune(self) -> None:
        """Forget files nobody confirmed within a day: they may hold initial passwords."""
        # File times are the system's (or the store's), so they are compared with its clock.
        limit = time.time() - self.keep_seconds
        for entry in self.store.listed(self.FOLDER):
            if entry.modified < limit:
                self.store.delete(entry.key)
