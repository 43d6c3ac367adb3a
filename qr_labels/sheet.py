"""Printable QR labels: one label per asset, on A4 label stock or one per page for a thermal
label printer, at 300 dpi."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import IO, NamedTuple

from PIL import Image, ImageDraw, ImageFont

from qr_labels.fonts import find_cjk_font, load_font
from qr_labels.qr import qr_image, qr_modules

DPI = 300
MM_PER_INCH = 25.4
LABEL_MARGIN_MM = 1.5
"""White border kept free on every label edge, to survive printer misregistration."""
MIN_MODULE_PX = 4
"""Smallest QR module (about 0.34 mm at 300 dpi) that phone cameras still read reliably."""
ELLIPSIS = "…"
MAX_NAME_LINES = 3
NAME_SIZE = 0.105
CODE_SIZE = 0.15
SMALL_SIZE = 0.08
SECTION_GAP = 0.03
BAND_SIZE = 0.13
"""Text sizes, the gap between text sections and the kind band's height, as fractions of the
label height."""

_GEOMETRY_EPS_MM = 1e-6
_CLOSING_PUNCTUATION = "，。、；：！？）》」』】”’,.;:!?)]}%"
_TEXT_UNIT_RE = re.compile(
    rf"[0-9A-Za-z_#&@+\-/.]+[{re.escape(_CLOSING_PUNCTUATION)}]*"
    rf"|\s+"
    rf"|.[{re.escape(_CLOSING_PUNCTUATION)}]*",
    re.DOTALL,
)
_UNSAFE_FILENAME_RE = re.compile(r"[^\w.-]+")
_MAX_FILENAME_STEM = 100
_WINDOWS_RESERVED_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
)

Box = tuple[int, int, int, int]
"""A pixel rectangle as (left, top, right, bottom), right and bottom exclusive, as Pillow uses."""


def mm_to_px(mm: float) -> int:
    """Convert millimetres to whole pixels at DPI."""
    return round(mm * DPI / MM_PER_INCH)


@dataclass(frozen=True)
class LabelInfo:
    """What one printed label shows: the scan URL and the asset's display strings."""

    url: str
    name: str
    code: str
    school: str
    kind: str
    call: str = ""
    """What to do with the label, e.g. "扫码登记 / Scan to record"."""


Progress = Callable[[int], None]
"""Told how many more labels were drawn, after each one."""


class RectMM(NamedTuple):
    """A rectangle on the page in millimetres from the top-left corner."""

    left: float
    top: float
    right: float
    bottom: float


@dataclass(frozen=True, kw_only=True)
class SheetLayout:
    """Geometry of a sheet of pre-cut labels; slots are filled row by row, left to right."""

    name: str
    page_width_mm: float = 210.0
    page_height_mm: float = 297.0
    columns: int
    rows: int
    label_width_mm: float
    label_height_mm: float
    top_margin_mm: float
    left_margin_mm: float
    horizontal_pitch_mm: float
    vertical_pitch_mm: float
    qr_width_share: float = 1.0
    """The most of the label's width (inside its margins) the QR code may take, leaving the
    rest to the text on a narrow label."""

    def __post_init__(self) -> None:
        """Reject geometry whose labels overlap or leave the page."""
        if self.columns < 1 or self.rows < 1:
            raise ValueError(f"layout {self.name!r} needs at least one row and one column")
        if min(self.label_width_mm, self.label_height_mm) <= 0:
            raise ValueError(f"layout {self.name!r} has a label without area")
        if min(self.top_margin_mm, self.left_margin_mm) < 0:
            raise ValueError(f"layout {self.name!r} has a negative margin")
        if (
            self.horizontal_pitch_mm < self.label_width_mm - _GEOMETRY_EPS_MM
            or self.vertical_pitch_mm < self.label_height_mm - _GEOMETRY_EPS_MM
        ):
            raise ValueError(f"layout {self.name!r} has overlapping labels")
        if not 0 < self.qr_width_share <= 1:
            raise ValueError(f"layout {self.name!r} needs a QR width share in (0, 1]")
        last = self.label_rects_mm()[-1]
        if (
            last.right > self.page_width_mm + _GEOMETRY_EPS_MM
            or last.bottom > self.page_height_mm + _GEOMETRY_EPS_MM
        ):
            raise ValueError(
                f"layout {self.name!r} does not fit on a "
                f"{self.page_width_mm} x {self.page_height_mm} mm page"
            )

    @property
    def labels_per_page(self) -> int:
        """Return how many labels one sheet holds."""
        return self.columns * self.rows

    @property
    def label_size_px(self) -> tuple[int, int]:
        """Return one label's (width, height) in pixels at DPI."""
        return mm_to_px(self.label_width_mm), mm_to_px(self.label_height_mm)

    @property
    def page_size_px(self) -> tuple[int, int]:
        """Return the page's (width, height) in pixels at DPI."""
        return mm_to_px(self.page_width_mm), mm_to_px(self.page_height_mm)

    def label_rects_mm(self) -> list[RectMM]:
        """Return every label slot's rectangle on the page, in filling order."""
        rects = []
        for row in range(self.rows):
            top = self.top_margin_mm + row * self.vertical_pitch_mm
            for column in range(self.columns):
                left = self.left_margin_mm + column * self.horizontal_pitch_mm
                rects.append(
                    RectMM(left, top, left + self.label_width_mm, top + self.label_height_mm)
                )
        return rects

    def label_boxes_px(self) -> list[Box]:
        """Return every label slot's pixel box on the page at DPI, in filling order."""
        width, height = self.label_size_px
        boxes = []
        for rect in self.label_rects_mm():
            left, top = mm_to_px(rect.left), mm_to_px(rect.top)
            boxes.append((left, top, left + width, top + height))
        return boxes


def single_label(width_mm: float, height_mm: float, **kwargs: float) -> SheetLayout:
    """A thermal printer's roll: one label per page, the page the label's own size."""
    return SheetLayout(
        name=f"{width_mm:g}x{height_mm:g}mm",
        page_width_mm=width_mm,
        page_height_mm=height_mm,
        columns=1,
        rows=1,
        label_width_mm=width_mm,
        label_height_mm=height_mm,
        top_margin_mm=0,
        left_margin_mm=0,
        horizontal_pitch_mm=width_mm,
        vertical_pitch_mm=height_mm,
        **kwargs,
    )


LAYOUTS: dict[str, SheetLayout] = {
    "3x8": SheetLayout(
        name="3x8",
        columns=3,
        rows=8,
        label_width_mm=63.5,
        label_height_mm=33.9,
        top_margin_mm=12.9,
        left_margin_mm=7.25,
        horizontal_pitch_mm=66.0,
        vertical_pitch_mm=33.9,
    ),
    "3x7": SheetLayout(
        name="3x7",
        columns=3,
        rows=7,
        label_width_mm=63.5,
        label_height_mm=38.1,
        top_margin_mm=15.15,
        left_margin_mm=7.25,
        horizontal_pitch_mm=66.0,
        vertical_pitch_mm=38.1,
    ),
    "2x5": SheetLayout(
        name="2x5",
        columns=2,
        rows=5,
        label_width_mm=99.1,
        label_height_mm=57.0,
        top_margin_mm=6.0,
        left_margin_mm=4.65,
        horizontal_pitch_mm=101.6,
        vertical_pitch_mm=57.0,
    ),
    "50x30mm": single_label(50, 30),
    "40x30mm": single_label(40, 30, qr_width_share=0.6),
}
"""Built-in label stocks: A4 sheets and single labels for thermal printers.

"3x8" (the default) is 24 labels of 63.5 x 33.9 mm, Avery L7159 geometry. It was asked for as
3 x 8 labels of 63.5 x 38.1 mm, but 8 x 38.1 mm = 304.8 mm does not fit on A4's 297 mm height;
stock with 24 labels per A4 sheet is 63.5 x 33.9 mm. "3x7" is 21 labels of 63.5 x 38.1 mm,
Avery L7160 geometry. "2x5" is 10 large labels of 99.1 x 57 mm (Avery L7173) for buses and
canteens, read from a few metres away. "50x30mm" and "40x30mm" are thermal printers' rolls, one
label per PDF page of that size; on the narrower one the QR code leaves room for the text (its
modules stay at least 0.4 mm, 3 dots of a 203 dpi print head).
"""
DEFAULT_LAYOUT = LAYOUTS["3x8"]


class LabelGeometry(NamedTuple):
    """Where a label's QR code (quiet zone included), its text and its kind band go, in label
    pixels."""

    qr_box: Box
    text_box: Box
    module_px: int
    band_box: Box


@dataclass(frozen=True)
class _Line:
    """One line of label text with its font size, stroke and top edge inside the text box."""

    text: str
    size_px: int
    stroke_px: int
    top: int = 0


Measure = Callable[[str], int]


def label_geometry(url: str, layout: SheetLayout) -> LabelGeometry:
    """Return where the QR code and the text go on a label of layout for url."""
    width, height = layout.label_size_px
    margin = mm_to_px(LABEL_MARGIN_MM)
    modules = qr_modules(url)
    widest = int((width - 2 * margin) * layout.qr_width_share)
    module_px = min(height - 2 * margin, widest) // modules
    if module_px < MIN_MODULE_PX:
        raise ValueError(
            f"URL too long for layout {layout.name!r}: its {modules}-module QR code "
            f"would need modules under {MIN_MODULE_PX} px"
        )
    side = modules * module_px
    top = (height - side) // 2
    qr_box = (margin, top, margin + side, top + side)
    band_top = height - margin - round(height * BAND_SIZE)
    band_box = (margin + side, band_top, width - margin, height - margin)
    text_box = (margin + side, margin, width - margin, band_top - round(height * SECTION_GAP))
    if text_box[2] <= text_box[0]:
        raise ValueError(f"layout {layout.name!r} leaves no room for text beside the QR code")
    return LabelGeometry(qr_box, text_box, module_px, band_box)


def _ink_span(font: ImageFont.FreeTypeFont, text: str, stroke_px: int) -> tuple[int, int]:
    """Return the horizontal (left, right) ink extent of text drawn at x = 0."""
    left, _, right, _ = font.getbbox(text, stroke_width=stroke_px, anchor="ls")
    return int(left), int(right)


def _text_width(font: ImageFont.FreeTypeFont, text: str, stroke_px: int) -> int:
    """Return how many pixels text needs when drawn so its ink starts at x >= 0."""
    left, right = _ink_span(font, text, stroke_px)
    return right - min(left, 0)


def _line_height(font: ImageFont.FreeTypeFont, stroke_px: int) -> int:
    """Return the height of one line of text in font."""
    ascent, descent = font.getmetrics()
    return ascent + descent + 2 * stroke_px


def ellipsize(text: str, max_width: int, measure: Measure, *, force: bool = False) -> str:
    """Shorten text with a trailing ellipsis until it fits; force adds one even if it fits."""
    if not force and measure(text) <= max_width:
        return text
    kept = text.rstrip()
    while kept and measure(kept + ELLIPSIS) > max_width:
        kept = kept[:-1].rstrip()
    return kept + ELLIPSIS


def _text_units(text: str, max_width: int, measure: Measure) -> list[str]:
    """Split text into unbreakable units: words, single CJK characters, runs of space."""
    units = []
    for unit in _TEXT_UNIT_RE.findall(text):
        if not unit.isspace() and measure(unit) > max_width:
            units.extend(unit)
        else:
            units.append(unit)
    return units


def wrap_text(text: str, max_width: int, max_lines: int, measure: Measure) -> list[str]:
    """Wrap text into at most max_lines lines no wider than max_width, with an ellipsis if cut."""
    if max_lines < 1:
        raise ValueError(f"max_lines must be at least 1, got {max_lines}")
    lines: list[str] = []
    current = ""
    for unit in _text_units(" ".join(text.split()), max_width, measure):
        candidate = current + unit
        if measure(candidate.rstrip()) <= max_width:
            current = candidate
            continue
        if current.strip():
            lines.append(current.rstrip())
        current = "" if unit.isspace() else unit
    if current.strip():
        lines.append(current.rstrip())
    if len(lines) <= max_lines:
        return lines
    kept = lines[:max_lines]
    kept[-1] = ellipsize(kept[-1], max_width, measure, force=True)
    return kept


@lru_cache(maxsize=65536)
def _cached_width(font_path: Path, size_px: int, stroke_px: int, text: str) -> int:
    """Return text's width in the font: a batch measures the same school and words again."""
    return _text_width(load_font(font_path, size_px), text, stroke_px)


def _measure(font_path: Path, size_px: int, stroke_px: int) -> Measure:
    """Return a text-width function for the font at font_path and size_px."""
    return lambda text: _cached_width(font_path, size_px, stroke_px, text)


def _stroke_for(size_px: int) -> int:
    """Return the stroke that makes text of size_px look bold."""
    return max(1, size_px // 36)


def _code_line(
    code: str, max_width: int, size_px: int, min_size_px: int, font_path: Path, *, bold: bool = True
) -> _Line:
    """Return the asset code (or other one-line text) shrunk (down to min_size_px) or cut to fit."""
    size = size_px
    while True:
        stroke = _stroke_for(size) if bold else 0
        measure = _measure(font_path, size, stroke)
        if measure(code) <= max_width or size <= min_size_px:
            return _Line(ellipsize(code, max_width, measure), size, stroke)
        size = max(min_size_px, size * 9 // 10)


def _height(line: _Line, font_path: Path) -> int:
    """Return the pixel height line takes up."""
    return _line_height(load_font(font_path, line.size_px), line.stroke_px)


def _sections(
    info: LabelInfo, box_width: int, box_height: int, label_height: int, font_path: Path
) -> list[list[_Line]]:
    """Return the label's text as sections (name, code, school, call) of lines that fit."""
    name_size = round(label_height * NAME_SIZE)
    small_size = round(label_height * SMALL_SIZE)
    gap = round(label_height * SECTION_GAP)
    small = [
        [
            _Line(
                ellipsize(info.school, box_width, _measure(font_path, small_size, 0)), small_size, 0
            )
        ]
    ]
    if not info.school.strip():
        small = []
    if info.call.strip():
        min_size = max(1, small_size * 2 // 3)
        small.append(
            [_code_line(info.call.strip(), box_width, small_size, min_size, font_path, bold=False)]
        )
    code = info.code.strip()
    rest = small
    if code:
        code_size = round(label_height * CODE_SIZE)
        rest = [[_code_line(code, box_width, code_size, small_size, font_path)], *small]
    name_stroke = _stroke_for(name_size)
    name_line_height = _line_height(load_font(font_path, name_size), name_stroke)
    used = sum(_height(line, font_path) for section in rest for line in section)
    free = box_height - used - gap * len(rest)
    name_lines = min(MAX_NAME_LINES, max(1, free // name_line_height))
    measure = _measure(font_path, name_size, name_stroke)
    name = [
        _Line(text, name_size, name_stroke)
        for text in wrap_text(info.name, box_width, name_lines, measure)
    ]
    return [section for section in (name, *rest) if section]


def _place_lines(
    sections: list[list[_Line]], box_height: int, gap: int, font_path: Path
) -> list[_Line]:
    """Stack sections top to bottom, drop the lines that do not fit, and centre the rest."""
    placed: list[_Line] = []
    y = 0
    for index, section in enumerate(sections):
        for number, line in enumerate(section):
            top = y + (gap if index and not number else 0)
            bottom = top + _height(line, font_path)
            if bottom > box_height:
                return _centred(placed, box_height - y)
            placed.append(_Line(line.text, line.size_px, line.stroke_px, top))
            y = bottom
    return _centred(placed, box_height - y)


def _centred(lines: list[_Line], spare: int) -> list[_Line]:
    """Move lines down by half of the spare height below them."""
    offset = max(0, spare // 2)
    return [_Line(line.text, line.size_px, line.stroke_px, line.top + offset) for line in lines]


def _text_image(
    info: LabelInfo, size: tuple[int, int], label_height: int, font_path: Path
) -> Image.Image:
    """Render the label's text block; anything outside size is clipped, never spilled."""
    width, height = size
    gap = round(label_height * SECTION_GAP)
    sections = _sections(info, width, height, label_height, font_path)
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    for line in _place_lines(sections, height, gap, font_path):
        font = load_font(font_path, line.size_px)
        left, _ = _ink_span(font, line.text, line.stroke_px)
        ascent, _ = font.getmetrics()
        draw.text(
            (-min(left, 0), line.top + line.stroke_px + ascent),
            line.text,
            fill=0,
            font=font,
            anchor="ls",
            stroke_width=line.stroke_px,
            stroke_fill=0,
        )
    return image


def _band_image(kind: str, size: tuple[int, int], font_path: Path) -> Image.Image:
    """Render the kind band: the kind's name in white on black, seen from across a room (and
    printed alike by a laser, an inkjet and a thermal head)."""
    width, height = size
    band = Image.new("L", size, 0)
    inset = max(1, height // 6)
    line = _code_line(kind.strip(), width - 2 * inset, height * 3 // 4, height // 3, font_path)
    font = load_font(font_path, line.size_px)
    left, _ = _ink_span(font, line.text, line.stroke_px)
    ImageDraw.Draw(band).text(
        (inset - min(left, 0), height // 2),
        line.text,
        fill=255,
        font=font,
        anchor="lm",
        stroke_width=line.stroke_px,
        stroke_fill=255,
    )
    return band


def render_label(info: LabelInfo, layout: SheetLayout, font_path: Path) -> Image.Image:
    """Render one label at DPI as a mode "L" image: QR code on the left, text on the right
    above the kind band."""
    geometry = label_geometry(info.url, layout)
    label = Image.new("L", layout.label_size_px, 255)
    label.paste(qr_image(info.url, geometry.module_px), geometry.qr_box[:2])
    left, top, right, bottom = geometry.text_box
    _, label_height = layout.label_size_px
    text = _text_image(info, (right - left, bottom - top), label_height, font_path)
    label.paste(text, (left, top))
    if info.kind.strip():
        left, top, right, bottom = geometry.band_box
        label.paste(_band_image(info.kind, (right - left, bottom - top), font_path), (left, top))
    return label


def _pages(labels: Sequence[LabelInfo], per_page: int) -> Iterator[Sequence[LabelInfo]]:
    """Yield labels in consecutive chunks of per_page."""
    for start in range(0, len(labels), per_page):
        yield labels[start : start + per_page]


def _render_page(
    chunk: Sequence[LabelInfo],
    layout: SheetLayout,
    font_path: Path,
    progress: Progress | None = None,
) -> Image.Image:
    """One page of labels, bilevel (mode "1") at DPI; progress is told of each label drawn."""
    page = Image.new("L", layout.page_size_px, 255)
    for info, box in zip(chunk, layout.label_boxes_px(), strict=False):
        page.paste(render_label(info, layout, font_path), box[:2])
        if progress is not None:
            progress(1)
    return page.convert("1", dither=Image.Dither.NONE)


def render_sheets(
    labels: Sequence[LabelInfo],
    layout: SheetLayout,
    font_path: Path,
    progress: Progress | None = None,
    workers: int = 1,
) -> list[Image.Image]:
    """Render labels onto as many pages as they need; with `workers` > 1 the pages are drawn
    in that many processes (the shell's `houqin labels`; the web app draws in its own)."""
    chunks = list(_pages(labels, layout.labels_per_page))
    if workers <= 1 or len(chunks) < 2:
        return [_render_page(chunk, layout, font_path, progress) for chunk in chunks]
    with ProcessPoolExecutor(min(workers, len(chunks))) as pool:
        futures = [pool.submit(_render_page, chunk, layout, font_path) for chunk in chunks]
        pages = []
        for chunk, future in zip(chunks, futures, strict=True):
            pages.append(future.result())
            if progress is not None:
                for _ in chunk:
                    progress(1)
        return pages


def write_sheet_pdf(
    labels: Sequence[LabelInfo],
    path: Path | IO[bytes],
    layout: SheetLayout = DEFAULT_LAYOUT,
    font_path: Path | None = None,
    progress: Progress | None = None,
    workers: int = 1,
) -> int:
    """Write labels as a multi-page PDF (pages of the layout's size, bilevel at DPI, losslessly
    compressed) and return the number of pages."""
    if not labels:
        raise ValueError("no labels to print")
    pages = render_sheets(labels, layout, font_path or find_cjk_font(), progress, workers)
    first, *rest = pages
    first.save(
        path,
        format="PDF",
        save_all=True,
        append_images=rest,
        resolution=float(DPI),
        title=f"QR labels ({layout.name})",
    )
    return len(pages)


def safe_filename_stem(code: str) -> str:
    """Turn an asset code into a file name stem that is safe on Linux, macOS and Windows."""
    stem = _UNSAFE_FILENAME_RE.sub("_", code).strip("._-")[:_MAX_FILENAME_STEM] or "label"
    return f"_{stem}" if stem.upper() in _WINDOWS_RESERVED_NAMES else stem


def _unique_stems(codes: Sequence[str]) -> list[str]:
    """Return a safe stem per code, numbering repeats (case-insensitively) -2, -3, ..."""
    seen: set[str] = set()
    stems = []
    for code in codes:
        base = safe_filename_stem(code)
        stem, number = base, 2
        while stem.casefold() in seen:
            stem, number = f"{base}-{number}", number + 1
        seen.add(stem.casefold())
        stems.append(stem)
    return stems


def write_label_pngs(
    labels: Sequence[LabelInfo],
    directory: Path,
    layout: SheetLayout = DEFAULT_LAYOUT,
    font_path: Path | None = None,
    progress: Progress | None = None,
) -> list[Path]:
    """Write one PNG per label, named after its asset code, at DPI; return the paths written."""
    if not labels:
        return []
    font = font_path or find_cjk_font()
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for info, stem in zip(labels, _unique_stems([info.code for info in labels]), strict=True):
        path = directory / f"{stem}.png"
        render_label(info, layout, font).save(path, format="PNG", dpi=(DPI, DPI))
        paths.append(path)
        if progress is not None:
            progress(1)
    return paths
