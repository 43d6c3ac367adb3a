"""Reading spreadsheets: row numbers as Excel shows them, encodings, files refused whole."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import openpyxl
import pytest

from models.spreadsheets import MAX_ROWS, ImportRefused, read_sheet


def xlsx(rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    return "\r\n".join(",".join(row) for row in rows).encode(encoding)


def test_an_xlsx_sheet_is_read_with_the_row_numbers_excel_shows() -> None:
    data = xlsx(
        [
            ["编号", "名称", "手机"],
            ["MHQ-001", "灭火器", 13800000001],
            [None, None, None],
            [101, 19.0, 4.5],
        ]
    )

    sheet = read_sheet(data)

    assert sheet.headers == ["编号", "名称", "手机"]
    assert sheet.rows == [(2, ["MHQ-001", "灭火器", "13800000001"]), (4, ["101", "19", "4.5"])]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_is_read_in_utf8_with_or_without_bom_and_in_gb18030(encoding: str) -> None:
    data = csv_bytes([["编号", "名称"], ["MHQ-001", "教学楼一层灭火器"]], encoding)

    sheet = read_sheet(data)

    assert sheet.headers == ["编号", "名称"]
    assert sheet.rows == [(2, ["MHQ-001", "教学楼一层灭火器"])]


def test_a_workbook_without_a_stylesheet_is_read_without_a_warning() -> None:
    """Some exporters leave out the styles; openpyxl warns, the import does not care."""
    source = zipfile.ZipFile(io.BytesIO(xlsx([["编号"], ["MHQ-001"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/styles.xml":
                data = (
                    b'<?xml version="1.0" encoding="UTF-8"?><styleSheet '
                    b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'
                )
            target.writestr(item, data)

    assert read_sheet(out.getvalue()).rows == [(2, ["MHQ-001"])]


@pytest.mark.parametrize(
    ("data", "msgid"),
    [
        (b"x" * (5 * 1024 * 1024 + 1), "The file is too large: at most %(mb)d MB."),
        (
            b"\xd0\xcf\x11\xe0" + b"\x00" * 100,
            "Old .xls files cannot be read: save it as .xlsx first.",
        ),
        (
            b"PK\x03\x04 not really a zip",
            "The file cannot be read. Save it again as .xlsx or .csv and upload that.",
        ),
        (
            b"PK\x03\x04" + b"\x00" * 30,
            "The file cannot be read. Save it again as .xlsx or .csv and upload that.",
        ),
        (
            b"code,name\n\x80\x81",
            "The file's characters cannot be read: save it as UTF-8 or from Excel.",
        ),
        (b"\r\n,,\r\n", "The file is empty."),
    ],
)
def test_files_that_cannot_be_imported_are_refused_whole(data: bytes, msgid: str) -> None:
    with pytest.raises(ImportRefused) as refused:
        read_sheet(data)

    assert refused.value.message.msgid == msgid


def test_more_than_the_row_limit_is_refused() -> None:
    rows = [["编号"]] + [[f"A-{n}"] for n in range(MAX_ROWS + 1)]

    with pytest.raises(ImportRefused) as refused:
        read_sheet(xlsx(rows))
    read_sheet(xlsx(rows[:-1]))

    assert refused.value.message.params == {"count": MAX_ROWS}
