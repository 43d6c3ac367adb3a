"""A ledger as an Excel workbook: a sheet per checklist, Chinese headers, dates as dates,
pass and fail in colour, each record's photo thumbnail in its cell with a link to the photo."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from openpyxl import Workbook
from openpyxl.drawing.image import Image as SheetImage
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from models.ledgers import Ledger, LedgerRow, LedgerSection
from models.register_ledgers import RegisterLedger
from models.spreadsheets import keep_typed_text

PASS_FILL = PatternFill("solid", fgColor="DCF2E3")
FAIL_FILL = PatternFill("solid", fgColor="FDE2E1")
HEADER_FILL = PatternFill("solid", fgColor="E6EBF0")
# Column widths in characters, by column key; a CJK character is about two.
WIDTHS = {
    "at": 17,
    "phone_at": 17,
    "school": 16,
    "asset": 24,
    "checklist": 20,
    "result": 8,
    "who": 10,
    "failures": 28,
    "actions": 36,
    "flags": 24,
    "photos": 14,
    "sampled_at": 17,
    "disposed_at": 20,
    "disposed_by": 10,
    "on_duty": 30,
}
THUMB_PX = 64
ROW_HEIGHT_WITH_PHOTO = 52  # points: a 64 px thumbnail and a little air


def _sheet_title(title: str, taken: set[str]) -> str:
    """A sheet name Excel accepts (31 characters, none of []:*?/\\), unique in the book."""
    base = re.sub(r"[\[\]:*?/\\]", " ", title).strip()[:28] or "Sheet"
    name, n = base, 2
    while name in taken:
        name, n = f"{base[:26]} {n}", n + 1
    taken.add(name)
    return name


def _cells(row: LedgerRow, keys: list[str], texts: Callable[[str], str]) -> list[object]:
    values: dict[str, object] = {
        "at": row.at,
        "phone_at": row.phone_at,
        "school": row.school,
        "asset": f"{row.asset_code} {row.asset_name}",
        "checklist": f"{row.checklist}\n{row.figure}" if row.figure else row.checklist,
        "result": row.result,
        "who": row.who,
        "failures": "\n".join(row.failures),
        "actions": "\n".join(_action_texts(row, texts)),
        "flags": "\n".join((*row.flags, row.explained) if row.explained else row.flags),
        "photos": "",
    }
    values.update(row.extra)
    return [values.get(k, "") for k in keys]


def _action_texts(row: LedgerRow, texts: Callable[[str], str]) -> list[str]:
    lines = []
    for a in row.actions:
        line = f"{a.failure}：{a.status}"
        if a.closed_at is not None:
            line += f"，{texts('closed')} {a.closed_at:%Y-%m-%d %H:%M} {a.closed_by}"
            if a.note:
                line += f"（{a.note}）"
        else:
            line += f"，{texts('due')} {a.due_at:%Y-%m-%d %H:%M}"
        lines.append(line)
    return lines


def _write_section(
    sheet: Worksheet,
    ledger: Ledger,
    section: LedgerSection | None,
    keys: list[str],
    *,
    texts: Callable[[str], str],
    thumbnail: Callable[[str], bytes | None],
    photo_url: Callable[[int], str],
) -> None:
    title = " · ".join(
        p
        for p in (
            ledger.scope,
            section.title if section else ledger.kind_label,
            ledger.period_label,
        )
        if p
    )
    headers = list(ledger.headers)
    if section is not None:
        # The checklist's own columns (a food sample's disposal) after the common ones.
        keys = keys + list(section.extra_keys)
        headers += section.extra_headers
    if section is not None and "at" in keys and any(r.phone_at for r in section.rows):
        # The phone's time beside the server's, for the records where the two differ.
        after = keys.index("at") + 1
        keys = [*keys[:after], "phone_at", *keys[after:]]
        headers.insert(after, texts("phone_at"))
    heading = sheet.cell(row=1, column=1, value=title)
    heading.font = Font(bold=True, size=14)
    if section is not None and section.basis:
        # The rule under the title in the same cell, so the rows still start on row 3.
        heading.value = f"{title}\n{section.basis}"
        heading.alignment = Alignment(vertical="top", wrap_text=True)
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(keys))
        sheet.row_dimensions[1].height = 42
    for column, header in enumerate(headers, start=1):
        cell = sheet.cell(row=2, column=column, value=header)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    for column, key in enumerate(keys, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = WIDTHS[key]
    sheet.freeze_panes = "A3"
    wrap = Alignment(vertical="top", wrap_text=True)
    photo_column = keys.index("photos") + 1
    result_column = keys.index("result") + 1
    rows = section.rows if section else []
    if not rows:
        sheet.cell(row=3, column=1, value=texts("empty"))
    for number, row in enumerate(rows, start=3):
        for column, value in enumerate(_cells(row, keys, texts), start=1):
            cell = sheet.cell(row=number, column=column, value=value)
            cell.alignment = wrap
        sheet.cell(row=number, column=1).number_format = "yyyy-mm-dd hh:mm"
        if "phone_at" in keys:
            sheet.cell(
                row=number, column=keys.index("phone_at") + 1
            ).number_format = "yyyy-mm-dd hh:mm"
        result = sheet.cell(row=number, column=result_column)
        result.fill = PASS_FILL if row.passed else FAIL_FILL
        result.font = Font(bold=True, color="14532D" if row.passed else "8A1C12")
        if row.photos:
            first = row.photos[0]
            link = sheet.cell(row=number, column=photo_column)
            link.hyperlink = photo_url(first.photo_id)
            link.value = "\n".join(f"#{p.photo_id}" for p in row.photos)
            link.alignment = Alignment(vertical="top", horizontal="right", wrap_text=True)
            data = thumbnail(first.thumb_key)
            if data is not None:
                image = SheetImage(io.BytesIO(data))
                scale = THUMB_PX / max(image.width, image.height, 1)
                image.width, image.height = image.width * scale, image.height * scale
                sheet.add_image(image, f"{get_column_letter(photo_column)}{number}")
                sheet.row_dimensions[number].height = ROW_HEIGHT_WITH_PHOTO
    sheet.print_title_rows = "2:2"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4


def ledger_workbook(
    ledger: Ledger,
    keys: list[str],
    *,
    texts: Callable[[str], str],
    thumbnail: Callable[[str], bytes | None],
    photo_url: Callable[[int], str],
) -> bytes:
    """The workbook's bytes: one sheet per checklist in the ledger (one empty sheet if none).

    `texts` names the few words the cells add ("closed", "due", "empty", and "phone_at", the
    header of the phone's time, shown where it differs from the server's) in the reader's
    language; `thumbnail` reads a stored thumbnail's bytes; `photo_url` links the full photo."""
    book = Workbook()
    taken: set[str] = set()
    sections: list[LedgerSection | None] = list(ledger.sections) or [None]
    first = True
    for section in sections:
        sheet = book.active if first else book.create_sheet()
        assert sheet is not None
        first = False
        sheet.title = _sheet_title(section.title if section else ledger.kind_label, taken)
        _write_section(
            sheet, ledger, section, keys, texts=texts, thumbnail=thumbnail, photo_url=photo_url
        )
    out = io.BytesIO()
    keep_typed_text(book).save(out)
    return out.getvalue()


STATUS_FILLS = {
    "valid": PASS_FILL,
    "expiring": PatternFill("solid", fgColor="FFF1C2"),
    "expired": FAIL_FILL,
    "missing": FAIL_FILL,
}
# A register's column widths in characters, by column key.
REGISTER_WIDTHS = {
    "school": 16,
    "holder": 22,
    "detail": 22,
    "approval": 10,
    "kind": 16,
    "title": 26,
    "number": 18,
    "issued_on": 12,
    "expires_on": 12,
    "status": 10,
    "note": 24,
}
DATE_KEYS = ("issued_on", "expires_on")


def register_workbook(register: RegisterLedger, empty: str) -> bytes:
    """A register's ledger as one sheet: the school, register and period in its title, dates
    as dates, the status in its colour."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _sheet_title(register.title, set())
    title = f"{register.scope} · {register.title} · {register.period_label}"
    sheet.cell(row=1, column=1, value=title).font = Font(bold=True, size=14)
    for column, (key, header) in enumerate(zip(register.keys, register.headers, strict=True), 1):
        cell = sheet.cell(row=2, column=column, value=header)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        sheet.column_dimensions[get_column_letter(column)].width = REGISTER_WIDTHS[key]
    sheet.freeze_panes = "A3"
    if not register.rows:
        sheet.cell(row=3, column=1, value=empty)
    wrap = Alignment(vertical="top", wrap_text=True)
    status_column = register.keys.index("status") + 1
    for number, row in enumerate(register.rows, start=3):
        for column, key in enumerate(register.keys, start=1):
            cell = sheet.cell(row=number, column=column, value=row.value(key))
            cell.alignment = wrap
            if key in DATE_KEYS:
                cell.number_format = "yyyy-mm-dd"
        fill = STATUS_FILLS.get(row.status_key)
        if fill is not None:
            sheet.cell(row=number, column=status_column).fill = fill
    sheet.print_title_rows = "2:2"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    out = io.BytesIO()
    keep_typed_text(book).save(out)
    return out.getvalue()
