"""Reading spreadsheets: row numbers as Excel shows them, encodings, files refused whole."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import openpyxl
import pytest

from models.spreadsheets import MAX_ROWS, ImportRefused, keep_typed_text, read_sheet


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


SHEET_START = (
    b'<?xml version="1.0" encoding="UTF-8"?><worksheet '
    b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>'
)
SHEET_END = b"</t></is></c></row></sheetData></worksheet>"


def with_parts(parts: dict[str, int]) -> bytes:
    """A small workbook whose first sheet is one cell of `parts["sheet"]` letters, with extra
    parts of the given unpacked sizes; repeated letters pack to almost nothing."""
    source = zipfile.ZipFile(io.BytesIO(xlsx([["编号"]])))
    out = io.BytesIO()
    chunk = b"A" * 2**20
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for item in source.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                target.writestr(item.filename, source.read(item.filename))
        with target.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(SHEET_START)
            left = parts.get("sheet", 10)
            while left > 0:
                sheet.write(chunk[: min(left, len(chunk))])
                left -= len(chunk)
            sheet.write(SHEET_END)
        for name, size in parts.items():
            if name != "sheet":
                target.writestr(name, b" " * size)
    return out.getvalue()


def test_a_small_file_that_unpacks_to_a_huge_cell_is_refused_before_it_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = with_parts({"sheet": 200 * 2**20})
    assert len(data) < 400 * 1024

    def unread(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("openpyxl read the workbook")

    monkeypatch.setattr(openpyxl, "load_workbook", unread)
    with pytest.raises(ImportRefused) as refused:
        read_sheet(data)

    message = refused.value.message
    assert message.msgid == "A sheet in the file is larger than %(mb)d MB once unpacked."
    assert message.params == {"mb": 10}


def test_a_file_whose_parts_unpack_to_more_than_the_limit_together_is_refused() -> None:
    parts = {f"xl/media/image{n}.png": 5 * 2**20 for n in range(4)}

    with pytest.raises(ImportRefused) as refused:
        read_sheet(with_parts(parts))
    sheet = read_sheet(with_parts(dict(list(parts.items())[:3]) | {"sheet": 4}))

    assert refused.value.message.msgid == "The file is larger than %(mb)d MB once unpacked."
    assert refused.value.message.params == {"mb": 20}
    assert sheet.headers == ["AAAA"]


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_a_cell_longer_than_the_limit_is_refused_by_its_row_and_column(kind: str) -> None:
    rows = [["编号", "名称"], ["MHQ-001", "灭火器"], ["MHQ-002", "长" * 1001]]
    data = xlsx(rows) if kind == "xlsx" else csv_bytes(rows)

    with pytest.raises(ImportRefused) as refused:
        read_sheet(data)
    rows[2][1] = "长" * 1000
    fits = read_sheet(xlsx(rows) if kind == "xlsx" else csv_bytes(rows))

    assert refused.value.message.params == {"row": 3, "column": "B", "count": 1000}
    assert fits.rows[1] == (3, ["MHQ-002", "长" * 1000])


TYPED_FORMULAS = ["=1+2", "+86 138", "-5", "@SUM(A1:A2)", '=HYPERLINK("http://x.test","看")']


def test_typed_values_that_look_like_formulas_are_read_and_written_as_text() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["名称"])
    for value in TYPED_FORMULAS:
        sheet.append([value])
    out = io.BytesIO()
    keep_typed_text(book).save(out)

    back = openpyxl.load_workbook(io.BytesIO(out.getvalue())).active
    raw = zipfile.ZipFile(io.BytesIO(out.getvalue())).read("xl/worksheets/sheet1.xml")

    assert back is not None
    assert [(c.value, c.data_type) for (c,) in back.iter_rows(min_row=2)] == [
        (value, "s") for value in TYPED_FORMULAS
    ]
    assert b"<f>" not in raw and b"<f " not in raw
    assert [cells for _, cells in read_sheet(out.getvalue()).rows] == [[v] for v in TYPED_FORMULAS]
