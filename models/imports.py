"""Bulk import from a spreadsheet: read the file, check every row, then write all or nothing.

An import is done twice over the same bytes: `preview_import` reads and checks every row and
writes nothing; `run_import` does the same checks again and, only when no row is refused,
saves every row in one savepoint. Nothing is ever half-imported.

What can be imported is a registry of `ImportKind`s, one per kind of row: its columns (with
the Chinese and English headers accepted), a `check_row` that turns a row into something
ready to save or raises `SubmissionInvalid` naming the bad columns, and a `save_row`.
Assets and people are registered here. Another module adds its own kind the same way,
as `models/registers.py` does for suppliers (which only a district administrator may import)::

    SUPPLIER_IMPORT = register_import_kind(
        ImportKind(key="suppliers", label=N_("Suppliers"), columns=(...),
                   check_row=check_supplier_row, save_row=save_supplier_row,
                   allowed=lambda actor, school: is_district_admin(actor, school.district_id))
    )

The files themselves wait between the preview and the confirmation in an `ImportFiles`
folder, named by their SHA-256, so the browser only carries the hash back.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import re
import tempfile
import time
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import openpyxl
import openpyxl.styles
import openpyxl.utils
import openpyxl.worksheet.datavalidation
from sqlalchemy import and_, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import admin
from models.assets import KIND_LABELS, Asset, AssetKind, create_asset
from models.catalogue import LOCALES, join_list
from models.messages import N_, DomainError, Message, SubmissionInvalid
from models.org import Location, School
from models.people import (
    ROLE_LABELS,
    Person,
    Role,
    RoleGrant,
    new_sign_in_code,
    normalise_login,
    one_time_password_columns,
)

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 2000
MAX_COLUMNS = 64


class ImportRefused(DomainError):
    """The file as a whole cannot be imported: too large, unreadable, columns missing."""


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


# --- reading a file ---------------------------------------------------------------------


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


def _xlsx_rows(data: bytes) -> list[tuple[int, Sequence[Any]]]:
    """The first sheet's rows, values only (a formula gives the value Excel last saved)."""
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


# --- kinds of import --------------------------------------------------------------------


def header_key(text: str) -> str:
    """Headers compare without case, spaces, full-width forms, `*` or a note in brackets."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"\(.*?\)|\[.*?\]", "", text)
    return re.sub(r"[\s*_\-]", "", text)


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
        book.save(out)
        return out.getvalue()


IMPORT_KINDS: dict[str, ImportKind] = {}


def register_import_kind(kind: ImportKind) -> ImportKind:
    """Make a kind of import available; every kind registers once, at import time."""
    if kind.key in IMPORT_KINDS:
        raise ValueError(f"import kind {kind.key!r} is registered twice")
    IMPORT_KINDS[kind.key] = kind
    return kind


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

    rows = []
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
class SignInSlip:
    """A one-time sign-in code for one imported person, shown once to print and hand out."""

    username: str
    display_name: str
    code: str


@dataclass(frozen=True)
class ImportDone:
    count: int
    sign_in: list[SignInSlip]


def save_import(
    session: Session, preview: ImportPreview, *, school: School, actor: Person, now: datetime
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
    return ImportDone(count=len(preview.rows), sign_in=context.cache.get(SIGN_IN, []))


SIGN_IN = "sign_in_slips"


# --- the files between preview and confirmation -----------------------------------------

SHA256_RE = re.compile(r"[0-9a-f]{64}")


class ImportFiles:
    """Uploaded files waiting for their confirmation, named by content under one folder."""

    def __init__(self, root: Path, *, keep_seconds: int = 24 * 3600) -> None:
        self.root = root.resolve()
        self.keep_seconds = keep_seconds

    def put(self, data: bytes) -> str:
        """Keep the file; returns its SHA-256, the only thing the browser carries back."""
        digest = hashlib.sha256(data).hexdigest()
        self.root.mkdir(parents=True, exist_ok=True)
        self._prune()
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, self.root / digest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def get(self, digest: str) -> bytes | None:
        """The kept file, if the hash is well-formed, the file is still here and still matches."""
        if not SHA256_RE.fullmatch(digest or ""):
            return None
        try:
            data = (self.root / digest).read_bytes()
        except FileNotFoundError:
            return None
        return data if hashlib.sha256(data).hexdigest() == digest else None

    def discard(self, digest: str) -> None:
        if SHA256_RE.fullmatch(digest or ""):
            (self.root / digest).unlink(missing_ok=True)

    def _prune(self) -> None:
        """Forget files nobody confirmed within a day: they may hold initial passwords."""
        # File times are the system's, so they are compared with the system's clock.
        limit = time.time() - self.keep_seconds
        for path in self.root.iterdir():
            try:
                if path.stat().st_mtime < limit:
                    path.unlink(missing_ok=True)
            except FileNotFoundError:
                continue


# --- assets -----------------------------------------------------------------------------


T = TypeVar("T")


def aliases(names: Mapping[str, T]) -> dict[str, T]:
    """Names looked up the way headers are: without case, spaces or punctuation."""
    return {header_key(name): value for name, value in names.items()}


ASSET_KIND_ALIASES: dict[str, AssetKind] = aliases(
    {
        "灭火器": AssetKind.EXTINGUISHER,
        "饮水机": AssetKind.WATER_DISPENSER,
        "校车": AssetKind.BUS,
        "宿舍": AssetKind.DORM_ROOM,
        "宿舍房间": AssetKind.DORM_ROOM,
        "午休室": AssetKind.DORM_ROOM,
        "食堂": AssetKind.CANTEEN,
        "水电表": AssetKind.METER,
        "表计": AssetKind.METER,
        "广播设备": AssetKind.BROADCAST,
        "广播": AssetKind.BROADCAST,
        "后勤办公室": AssetKind.SCHOOL_OFFICE,
        **{kind.value: kind for kind in AssetKind},
        **{label: kind for kind, label in KIND_LABELS.items()},
    }
)

ASSET_COLUMNS = (
    Column(
        "code", ("编号", "code", "资产编号"), required=True, example="MHQ-001", note="本校内不重复"
    ),
    Column("name", ("名称", "name"), required=True, example="教学楼一楼东侧灭火器"),
    Column(
        "kind",
        ("类型", "kind", "种类"),
        required=True,
        example="灭火器",
        choices=("灭火器", "饮水机", "校车", "宿舍", "食堂", "水电表", "广播设备", "后勤办公室"),
    ),
    Column("building", ("楼栋", "building", "建筑"), example="教学楼"),
    Column("floor", ("楼层", "floor"), example="1"),
    Column("room", ("房间", "room"), example="东侧走廊"),
    Column(
        "responsible",
        ("责任人(用户名或手机)", "responsible", "责任人"),
        note="在本校有角色的人员的用户名或手机号",
    ),
    Column("agent", ("灭火剂", "agent"), example="干粉", note="仅灭火器"),
    Column(
        "capacity_kg",
        ("容量(千克)", "capacity_kg", "容量", "capacity"),
        example="4",
        note="仅灭火器，大于 0 的数",
    ),
    Column("plate", ("车牌", "plate", "车牌号"), note="仅校车"),
    Column("seats", ("座位数", "seats", "核载座位", "核载人数"), note="校车必填，整数"),
    Column("driver", ("司机", "driver", "驾驶员"), note="仅校车"),
    Column("beds", ("床位数", "beds", "床位"), note="仅宿舍，整数"),
    Column(
        "meter_type",
        ("表计类型", "meter_type", "表类型"),
        choices=("电表", "水表"),
        note="水电表必填",
    ),
    Column("meter_number", ("表号", "meter_number"), note="仅水电表"),
)


@dataclass(frozen=True)
class AssetRow:
    kind: AssetKind
    code: str
    name: str
    place: tuple[str, str, str] | None
    responsible: Person | None
    attributes: dict[str, Any]


def _school_codes(session: Session, context: ImportContext) -> set[str]:
    if "codes" not in context.cache:
        context.cache["codes"] = set(
            session.scalars(select(Asset.code).where(Asset.school_id == context.school.id))
        )
    return context.cache["codes"]


def _school_logins(session: Session, context: ImportContext) -> dict[str, Person]:
    """Who can answer for an asset here, by username and by phone: active, with a role here."""
    if "logins" not in context.cache:
        school = context.school
        people = session.scalars(
            select(Person)
            .join(RoleGrant)
            .where(
                Person.active,
                or_(
                    RoleGrant.school_id == school.id,
                    and_(
                        RoleGrant.role == Role.DISTRICT_ADMIN,
                        RoleGrant.district_id == school.district_id,
                    ),
                ),
            )
            .distinct()
        )
        logins: dict[str, Person] = {}
        for person in people:
            logins[person.username] = person
            if person.phone:
                logins[person.phone] = person
        context.cache["logins"] = logins
    return context.cache["logins"]


def alias_choices(names: Mapping[str, Any]) -> dict[str, str]:
    """The Chinese names a column accepts, for the message that lists them, as a list in each
    language."""
    chinese = [key for key in names if not key.isascii()]
    return {locale: join_list(chinese, locale) for locale in LOCALES}


def check_asset_row(session: Session, context: ImportContext, row: int, values: Row) -> AssetRow:
    """One asset row: known kind, new code, a responsible person with a role at the school."""
    errors: dict[str, Message] = {}
    kind_text = values.get("kind", "")
    kind = ASSET_KIND_ALIASES.get(header_key(kind_text))
    if not kind_text:
        errors["kind"] = Message(admin.REQUIRED)
    elif kind is None:
        errors["kind"] = Message(
            N_("Unknown kind %(value)s. Use one of: %(choices)s."),
            {"value": kind_text, "choices": alias_choices(ASSET_KIND_ALIASES)},
        )
    code = admin.clean_text(values.get("code", ""), "code", admin.CODE_MAX, errors)
    if "code" not in errors:
        repeated = context.repeated("code", code, row)
        if repeated is not None:
            errors["code"] = repeated
        elif code in _school_codes(session, context):
            errors["code"] = admin.code_in_use(code)
    name = admin.clean_name(values.get("name", ""), errors)
    place = None
    if any(values.get(key) for key in ("building", "floor", "room")):
        place = admin.clean_place(
            values.get("building", ""), values.get("floor", ""), values.get("room", ""), errors
        )
    responsible = None
    login = values.get("responsible", "")
    if login:
        responsible = _school_logins(session, context).get(normalise_login(login))
        if responsible is None:
            errors["responsible"] = Message(
                N_("No one with a role at this school has the username or phone %(value)s."),
                {"value": login},
            )
    attributes: dict[str, Any] = {}
    if kind is not None:
        attributes = admin.clean_attributes(kind, values, errors)
        own = {spec.name for spec in admin.attribute_specs(kind)}
        for other in admin.all_attribute_names():
            if other not in own and values.get(other):
                errors[other] = Message(N_("Leave this empty: it does not apply to this kind."))
    if errors:
        raise SubmissionInvalid(errors)
    assert kind is not None
    return AssetRow(
        kind=kind,
        code=code,
        name=name,
        place=place,
        responsible=responsible,
        attributes=attributes,
    )


def save_asset_row(session: Session, context: ImportContext, row: AssetRow) -> None:
    save_asset_rows(session, context, [row])


def save_asset_rows(session: Session, context: ImportContext, rows: list[AssetRow]) -> None:
    """Create the assets, their labels and, the first time one is named, their places, all
    in one flush at the end, so the write lock is held briefly."""
    if "places" not in context.cache:
        # Every place of the school read once, not one query per row.
        context.cache["places"] = {
            (place.building, place.floor, place.room): place
            for place in admin.school_locations(session, context.school)
        }
    places: dict[tuple[str, str, str], Location] = context.cache["places"]
    with session.no_autoflush:
        for row in rows:
            location = None
            if row.place is not None:
                location = places.get(row.place)
                if location is None:
                    building, floor, room = row.place
                    location = Location(
                        school=context.school, building=building, floor=floor, room=room
                    )
                    session.add(location)
                    places[row.place] = location
            create_asset(
                session,
                school=context.school,
                kind=row.kind,
                code=row.code,
                name=row.name,
                location=location,
                responsible=row.responsible,
                attributes=row.attributes,
                now=context.now,
                flush=False,
            )


ASSET_IMPORT = register_import_kind(
    ImportKind(
        key="assets",
        label=N_("Assets"),
        columns=ASSET_COLUMNS,
        check_row=check_asset_row,
        save_row=save_asset_row,
        save_rows=save_asset_rows,
    )
)


# --- people -----------------------------------------------------------------------------

ROLE_ALIASES: dict[str, Role] = aliases(
    {
        "食堂从业人员": Role.CANTEEN_STAFF,
        "食堂员工": Role.CANTEEN_STAFF,
        "食堂人员": Role.CANTEEN_STAFF,
        "宿舍管理员": Role.DORM_STAFF,
        "宿管": Role.DORM_STAFF,
        "教师": Role.TEACHER,
        "老师": Role.TEACHER,
        "校车工作人员": Role.BUS_STAFF,
        "校车驾驶员": Role.BUS_STAFF,
        "司机": Role.BUS_STAFF,
        "照管员": Role.BUS_STAFF,
        "安全检查员": Role.INSPECTOR,
        "检查员": Role.INSPECTOR,
        "学校管理员": Role.SCHOOL_ADMIN,
        "区级管理员": Role.DISTRICT_ADMIN,
        **{role.value: role for role in Role},
        **{label: role for role, label in ROLE_LABELS.items()},
    }
)

PEOPLE_COLUMNS = (
    Column(
        "username",
        ("用户名", "username"),
        required=True,
        example="zhangsan",
        note="字母或数字，无空格，不重复",
    ),
    Column("display_name", ("姓名", "name", "display_name"), required=True, example="张三"),
    Column(
        "phone",
        ("手机", "phone", "手机号", "电话"),
        example="13800000000",
        note="可用来登录，不重复",
    ),
    Column(
        "role",
        ("角色", "role"),
        required=True,
        example="教师",
        choices=("食堂从业人员", "宿舍管理员", "教师", "校车工作人员", "安全检查员", "学校管理员"),
    ),
    Column(
        "password",
        ("初始密码", "password", "密码"),
        note="可不填：导入后打印一次性登录码；填写的初始密码只能用一次，登录后须改为自己的密码",
    ),
)


def check_person_row(
    session: Session, context: ImportContext, row: int, values: Row
) -> admin.NewPerson:
    """One person row: a new username and phone, a role the importer may grant, and a
    password or none (they get a one-time sign-in code)."""
    errors: dict[str, Message] = {}
    role_text = values.get("role", "")
    role = ROLE_ALIASES.get(header_key(role_text)) if role_text else None
    new = admin.clean_new_person(
        session,
        context.actor,
        context.school,
        errors,
        username=values.get("username", ""),
        display_name=values.get("display_name", ""),
        phone=values.get("phone", ""),
        password=values.get("password", ""),
        role=role,
        password_optional=True,
    )
    if not role_text:
        errors["role"] = Message(admin.REQUIRED)
    elif role is None:
        errors["role"] = Message(
            N_("Unknown role %(value)s. Use one of: %(choices)s."),
            {"value": role_text, "choices": alias_choices(ROLE_ALIASES)},
        )
    for column, value in (("username", new.username), ("phone", new.phone)):
        if value and column not in errors:
            repeated = context.repeated(column, value, row)
            if repeated is not None:
                errors[column] = repeated
    if errors:
        raise SubmissionInvalid(errors)
    return new


def save_person_row(session: Session, context: ImportContext, new: admin.NewPerson) -> None:
    save_person_rows(session, context, [new])


def save_person_rows(session: Session, context: ImportContext, rows: list[admin.NewPerson]) -> None:
    """Everyone with a one-time password (the file's, or a new sign-in code to hand out) and
    their role, in two bulk inserts: no slow hash and no round trip per row, so the write
    lock is held briefly."""
    school, now = context.school, context.now
    slips: list[SignInSlip] = context.cache.setdefault(SIGN_IN, [])
    people = []
    for new in rows:
        code = new.password or new_sign_in_code()
        people.append(
            {
                "username": new.username,
                "phone": new.phone,
                "display_name": new.display_name,
                "created_at": now,
                "active": True,
                **one_time_password_columns(code, now=now, quick=True),
            }
        )
        if not new.password:
            slips.append(SignInSlip(new.username, new.display_name, code))
    ids = dict(session.execute(insert(Person).returning(Person.username, Person.id), people).all())
    session.execute(
        insert(RoleGrant),
        [
            {
                "person_id": ids[new.username],
                "role": new.role,
                "district_id": school.district_id,
                "school_id": None if new.role == Role.DISTRICT_ADMIN else school.id,
            }
            for new in rows
        ],
    )


PEOPLE_IMPORT = register_import_kind(
    ImportKind(
        key="people",
        label=N_("People"),
        columns=PEOPLE_COLUMNS,
        check_row=check_person_row,
        save_row=save_person_row,
        save_rows=save_person_rows,
        checking=admin.logins_read_once,
    )
)
