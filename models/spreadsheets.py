"""Reading a spreadsheet safely (.xlsx or CSV, bounded), and matching what people typed in it."""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook

from models.catalogue import LOCALES, join_list
from models.messages import N_, DomainError, Message

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 2000
MAX_COLUMNS = 64
# An .xlsx is a zip: a small file can unpack to gigabytes, so what it unpacks to is bounded
# too, before openpyxl reads any of it.
MAX_UNPACKED_BYTES = 20 * 1024 * 1024
MAX_PART_BYTES = 10 * 1024 * 1024
MAX_CELL_CHARS = 1000


class ImportRefused(DomainError):
    """The file as a whole cannot be imported: too large, unreadable, columns missing."""


@dataclass(frozen=True)
class Sheet:
    """A spreadsheet's header and its non-empty rows, numbered as the spreadsheet shows them."""

    headers: list[str]
    rows: list[tuple[int, list[str]]]


XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # .xls and other old Office files


def read_sheet(data: bytes) -> Sheet:
    """The first sheet of an .xlsx file, or a CSV file in UTF-8 (BOM or not) or GB18030."""
    if len(data) > MAX_BYTES:
        raise ImportRefused(
            Message(N_("The file is too large: at most %(mb)d MB."), {"mb": MAX_BYTES // 2**20})
        )
    if data.startswith(OLE_MAGIC):
        raise ImportRefused(Message(N_("Old .xls files cannot be read: save it as .xlsx first.")))
    rows = _xlsx_rows(data) if data.startswith(XLSX_MAGIC) else _csv_rows(data)
    header: list[str] | None = None
    body: list[tuple[int, list[str]]] = []
    for number, cells in rows:
        values = [_cell_text(cell) for cell in cells]
        _refuse_long_cells(number, values)
        while values and not values[-1]:
            values.pop()
        if not values:
            continue
        if header is None:
            header = values
            continue
        if len(body) == MAX_ROWS:
            raise ImportRefused(
                Message(
                    N_("The file has more than %(count)d rows. Split it into smaller files."),
                    {"count": MAX_ROWS},
                )
            )
        body.append((number, values))
    if header is None:
        raise ImportRefused(Message(N_("The file is empty.")))
    return Sheet(headers=header, rows=body)


def _refuse_long_cells(number: int, values: list[str]) -> None:
    for column, value in enumerate(values, start=1):
        if len(value) > MAX_CELL_CHARS:
            raise ImportRefused(
                Message(
                    N_(
                        "Row %(row)d, column %(column)s is longer than %(count)d characters. "
                        "Shorten it and upload the file again."
                    ),
                    {"row": number, "column": get_column_letter(column), "count": MAX_CELL_CHARS},
                )
            )


def _check_unpacked_size(data: bytes) -> None:
    """Refuse a workbook by the sizes its zip declares; zipfile never unpacks a part beyond
    its declared size (a part that lies fails its check and the file is unreadable)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _unreadable() from exc
    if any(part.file_size > MAX_PART_BYTES for part in parts):
        raise ImportRefused(
            Message(
                N_("A sheet in the file is larger than %(mb)d MB once unpacked."),
                {"mb": MAX_PART_BYTES // 2**20},
            )
        )
    if sum(part.file_size for part in parts) > MAX_UNPACKED_BYTES:
        raise ImportRefused(
            Message(
                N_("The file is larger than %(mb)d MB once unpacked."),
                {"mb": MAX_UNPACKED_BYTES // 2**20},
            )
        )


def _xlsx_rows(data: bytes) -> list[tuple[int, Sequence[Any]]]:
    """The first sheet's rows, values only (a formula gives the value Excel last saved)."""
    _check_unpacked_size(data)
    # openpyxl warns about parts of a workbook the import never reads (a missing stylesheet,
    # unsupported extensions); they change no value, so they are not passed on to the caller.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"openpyxl(\.|$)")
        # A broken workbook fails deep inside openpyxl in many ways (zip, XML, missing parts,
        # odd values); to the person uploading it they all mean the same: it cannot be read.
        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:
            raise _unreadable() from exc
        try:
            sheet = book.worksheets[0]
            return _bounded(enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), 1))
        except Exception as exc:
            raise _unreadable() from exc
        finally:
            book.close()


EMPTY_ROWS_AT_END = 10_000


def _bounded(
    rows: Iterable[tuple[int, Sequence[Any]]],
) -> list[tuple[int, Sequence[Any]]]:
    """Rows read until there are too many to import, or until a long run of empty ones.

    Rows come lazily from the zip, so an oversized sheet stops being read early; Excel often
    claims formatted but empty rows down to the millionth.
    """
    kept: list[tuple[int, Sequence[Any]]] = []
    filled = last_filled = 0
    for number, cells in rows:
        if any(cell is not None and cell != "" for cell in cells):
            filled += 1
            last_filled = number
            kept.append((number, cells))
            if filled > MAX_ROWS + 1:
                break
        elif number - last_filled > EMPTY_ROWS_AT_END:
            break
    return kept


def _unreadable() -> ImportRefused:
    return ImportRefused(
        Message(N_("The file cannot be read. Save it again as .xlsx or .csv and upload that."))
    )


ENCODINGS = ("utf-8-sig", "gb18030")


def _csv_rows(data: bytes) -> list[tuple[int, Sequence[Any]]]:
    """UTF-8 first (with or without a BOM), then GB18030, which Chinese Excel writes."""
    for encoding in ENCODINGS:
        try:
            text = codecs.decode(data, encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportRefused(
            Message(N_("The file's characters cannot be read: save it as UTF-8 or from Excel."))
        )
    if "\x00" in text:
        raise _unreadable()
    first_line = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return _bounded((number, row[:MAX_COLUMNS]) for number, row in enumerate(reader, start=1))
    except csv.Error as exc:
        raise _unreadable() from exc


def _cell_text(value: Any) -> str:
    """A cell as text: spreadsheets turn codes and phone numbers into numbers, undo that."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def keep_typed_text(book: Workbook) -> Workbook:
    """What people typed stays text in the exported workbook: a value starting with = (which
    openpyxl would write as a formula) is written as a string, so no spreadsheet runs it."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f" and isinstance(cell.value, str):
                    cell.data_type = "s"
    return book


def header_key(text: str) -> str:
    """Headers compare without case, spaces, full-width forms, `*` or a note in brackets."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"\(.*?\)|\[.*?\]", "", text)
    return re.sub(r"[\s*_\-]", "", text)


T = TypeVar("T")


def aliases(names: Mapping[str, T]) -> dict[str, T]:
    """Names looked up the way headers are: without case, spaces or punctuation."""
    return {header_key(name): value for name, value in names.items()}


def alias_choices(names: Mapping[str, Any]) -> dict[str, str]:
    """The Chinese names a column accepts, for the message that lists them, as a list in each
    language."""
    chinese = [key for key in names if not key.isascii()]
    return {locale: join_list(chinese, locale) for locale in LOCALES}
