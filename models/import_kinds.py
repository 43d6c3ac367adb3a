"""What a kind of import is: its columns, how a row is checked and saved, its template file."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import openpyxl
import openpyxl.styles
import openpyxl.utils
import openpyxl.worksheet.datavalidation
from sqlalchemy.orm import Session

from models.messages import N_, Message
from models.org import School
from models.people import Person
from models.spreadsheets import MAX_ROWS, keep_typed_text


@dataclass(frozen=True)
class Column:
    """A column: its key, then the headers accepted for it; the first goes in the template."""

    key: str
    headers: tuple[str, ...]
    required: bool = False
    # For the .xlsx template: a value for its example row, and the values allowed (a list to
    # pick from in Excel), or a note on what goes in.
    example: str = ""
    choices: tuple[str, ...] = ()
    note: str = ""

    @property
    def template_header(self) -> str:
        return self.headers[0]


@dataclass
class ImportContext:
    """What the rows of one file share: where they go, who imports them, what came before."""

    school: School
    actor: Person
    now: datetime
    seen: dict[tuple[str, str], int] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)

    def repeated(
        self, column: str, value: str, row: int, *, key: str | None = None
    ) -> Message | None:
        """ "Also on row N" when an earlier row of this file has the same value in this column
        (compared by `key` where given, e.g. without case)."""
        earlier = self.seen.setdefault((column, value if key is None else key), row)
        if earlier == row:
            return None
        return Message(N_("%(value)s is also on row %(row)d."), {"value": value, "row": earlier})


Row = Mapping[str, str]
CheckRow = Callable[[Session, ImportContext, int, Row], Any]
SaveRow = Callable[[Session, ImportContext, Any], None]
SaveRows = Callable[[Session, ImportContext, list[Any]], None]
MayImport = Callable[[Person, School], bool]


def anyone_managing_the_school(actor: Person, school: School) -> bool:
    return actor.can_manage_school(school)


@dataclass(frozen=True)
class ImportKind:
    """One kind of row that can be imported, and how it is checked and saved."""

    key: str
    label: str
    columns: tuple[Column, ...]
    check_row: CheckRow
    save_row: SaveRow
    # Who may import this kind from a school's import page, and what the others are told.
    allowed: MayImport = anyone_managing_the_school
    refusal: str = N_("You cannot import this here.")
    # Saves all rows at once (one flush), where one `save_row` after another would be slow.
    save_rows: SaveRows | None = None
    # Wraps the checks of a whole file, e.g. to read what every row is compared with once.
    checking: Callable[[Session], AbstractContextManager[None]] = lambda _session: nullcontext()

    def template_csv(self) -> bytes:
        """A CSV file with the Chinese headers, with a BOM so Excel shows the Chinese right."""
        out = io.StringIO()
        csv.writer(out).writerow(c.template_header for c in self.columns)
        return out.getvalue().encode("utf-8-sig")

    def example_row(self) -> list[str]:
        return [c.example for c in self.columns]

    def template_xlsx(self) -> bytes:
        """An Excel file: the Chinese headers, one example row (skipped when imported), a
        list to pick from where only some values are allowed, and a sheet explaining each
        column."""
        book = openpyxl.Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = "导入"
        sheet.append([c.template_header for c in self.columns])
        sheet.append(self.example_row())
        grey = openpyxl.styles.Font(italic=True, color="808080")
        bold = openpyxl.styles.Font(bold=True)
        for cell in sheet[1]:
            cell.font = bold
        for cell in sheet[2]:
            cell.font = grey
        for index, column in enumerate(self.columns, start=1):
            letter = openpyxl.utils.get_column_letter(index)
            sheet.column_dimensions[letter].width = max(12, 2 * len(column.template_header) + 4)
            if column.choices:
                listed = ",".join(column.choices)
                rule = openpyxl.worksheet.datavalidation.DataValidation(
                    type="list", formula1=f'"{listed}"', allow_blank=not column.required
                )
                rule.add(f"{letter}2:{letter}{MAX_ROWS + 2}")
                sheet.add_data_validation(rule)
        sheet.freeze_panes = "A2"
        notes = book.create_sheet("说明")
        notes.append(["列", "必填", "可填的值", "示例"])
        for cell in notes[1]:
            cell.font = bold
        for column in self.columns:
            notes.append(
                [
                    column.template_header,
                    "是" if column.required else "",
                    "、".join(column.choices) or column.note,
                    column.example,
                ]
            )
        notes.append([])
        notes.append(["第 2 行是示例（灰色），导入时跳过；可以改写或删除。"])
        notes.column_dimensions["A"].width = 24
        notes.column_dimensions["C"].width = 60
        out = io.BytesIO()
        keep_typed_text(book).save(out)
        return out.getvalue()
