import re
from pathlib import Path

import pytest
from PIL import Image, ImageFilter

from qr_labels import (
    DEFAULT_LAYOUT,
    LAYOUTS,
    LabelInfo,
    SheetLayout,
    find_cjk_font,
    label_url,
    new_token,
    qr_image,
    render_label,
    render_sheets,
    write_label_pngs,
    write_sheet_pdf,
)
from qr_labels.sheet import (
    ELLIPSIS,
    LABEL_MARGIN_MM,
    label_geometry,
    mm_to_px,
    safe_filename_stem,
    wrap_text,
)
from tests.qr_reading import read_qr_codes

BASE_URL = "https://houqin.example.edu.cn"
LONG_NAME = "第二教学楼三层西侧走廊尽头靠近楼梯口的干粉灭火器（四公斤装）" * 3
A4_POINTS = (595.28, 841.89)


@pytest.fixture(scope="module")
def font_path() -> Path:
    return find_cjk_font()


def _label(number: int, name: str = "教学楼一层东侧灭火器", code: str | None = None) -> LabelInfo:
    return LabelInfo(
        url=label_url(BASE_URL, new_token()),
        name=name,
        code=code or f"EXT-{number:03d}",
        school="实验小学",
        kind="灭火器",
        call="扫码登记 / Scan to record",
    )


def _decode(image: Image.Image) -> list[str]:
    return read_qr_codes(image)


def _text_area(label: Image.Image, info: LabelInfo, layout: SheetLayout) -> Image.Image:
    """The text column beside the QR code, kind band included."""
    geometry = label_geometry(info.url, layout)
    return label.crop(geometry.text_box[:3] + geometry.band_box[3:])


def _blurred_at_150_dpi(image: Image.Image) -> Image.Image:
    """The print as a worn label photographed badly: rasterised at 150 dpi, then blurred."""
    half = image.convert("L").resize((image.width // 2, image.height // 2), Image.Resampling.BOX)
    return half.filter(ImageFilter.GaussianBlur(1))


@pytest.mark.parametrize(("layout_name", "height_px"), [("3x8", 400), ("3x7", 450)])
def test_label_scans_to_its_url_and_is_label_sized_at_300_dpi(
    font_path: Path, layout_name: str, height_px: int
) -> None:
    layout = LAYOUTS[layout_name]
    info = _label(1)

    label = render_label(info, layout, font_path)

    assert label.size == (750, height_px)
    assert height_px == round(layout.label_height_mm / 25.4 * 300)
    assert _decode(label) == [info.url]


def test_qr_on_label_uses_whole_pixel_modules_and_fills_the_label_height(font_path: Path) -> None:
    info = _label(1)
    geometry = label_geometry(info.url, DEFAULT_LAYOUT)

    label = render_label(info, DEFAULT_LAYOUT, font_path)

    qr = qr_image(info.url, geometry.module_px).convert("L")
    assert label.crop(geometry.qr_box).tobytes() == qr.tobytes()
    usable_height = label.height - 2 * mm_to_px(LABEL_MARGIN_MM)
    modules = qr.height // geometry.module_px
    assert usable_height - geometry.module_px * modules < modules
    assert qr.height > usable_height - modules


def test_default_layout_is_24_per_sheet_3x8() -> None:
    assert DEFAULT_LAYOUT is LAYOUTS["3x8"]
    assert (DEFAULT_LAYOUT.columns, DEFAULT_LAYOUT.rows) == (3, 8)
    assert DEFAULT_LAYOUT.labels_per_page == 24
    assert (DEFAULT_LAYOUT.label_width_mm, DEFAULT_LAYOUT.label_height_mm) == (63.5, 33.9)


def test_chinese_name_is_drawn_and_different_names_look_different(font_path: Path) -> None:
    first = _label(1, name="教学楼一层东侧灭火器")
    second = LabelInfo(first.url, "学生宿舍二楼饮水机", first.code, first.school, first.kind)

    text_first = _text_area(render_label(first, DEFAULT_LAYOUT, font_path), first, DEFAULT_LAYOUT)
    text_second = _text_area(
        render_label(second, DEFAULT_LAYOUT, font_path), second, DEFAULT_LAYOUT
    )

    assert text_first.getextrema()[0] == 0
    assert text_first.tobytes() != text_second.tobytes()


def test_code_school_and_kind_each_change_the_printed_text(font_path: Path) -> None:
    base = _label(1)
    variants = [
        LabelInfo(base.url, base.name, "EXT-002", base.school, base.kind),
        LabelInfo(base.url, base.name, base.code, "第二中学", base.kind),
        LabelInfo(base.url, base.name, base.code, base.school, "饮水机"),
    ]

    printed = {
        _text_area(render_label(info, DEFAULT_LAYOUT, font_path), info, DEFAULT_LAYOUT).tobytes()
        for info in [base, *variants]
    }

    assert len(printed) == 4


@pytest.mark.parametrize("layout_name", sorted(LAYOUTS))
@pytest.mark.parametrize(
    ("name", "code"),
    [
        (LONG_NAME, "EXT-001"),
        ("School bus number three, the yellow one parked behind the gymnasium " * 3, "BUS-03"),
        ("饮水机", "WATER-DISPENSER-BUILDING-7-FLOOR-3-ROOM-12"),
        ("灭" * 200, "EXT-" + "9" * 60),
    ],
)
def test_long_text_stays_inside_its_area_and_is_not_cut_off(
    font_path: Path, layout_name: str, name: str, code: str
) -> None:
    layout = LAYOUTS[layout_name]
    info = _label(1, name=name, code=code)
    geometry = label_geometry(info.url, layout)

    label = render_label(info, layout, font_path)

    assert _decode(label) == [info.url]
    outside = label.copy()
    outside.paste(255, geometry.qr_box)
    outside.paste(255, geometry.text_box)
    outside.paste(255, geometry.band_box)
    assert outside.getextrema() == (255, 255)
    text = label.crop(geometry.text_box)
    _, _, right, bottom = text.point(lambda value: 255 - value).getbbox()
    assert right < text.width
    assert bottom < text.height


def test_long_name_wraps_to_at_most_three_lines_ending_in_an_ellipsis() -> None:
    def measure(text: str) -> int:
        return len(text) * 40

    lines = wrap_text(LONG_NAME, 360, 3, measure)

    assert len(lines) == 3
    assert all(measure(line) <= 360 for line in lines)
    assert lines[-1].endswith(ELLIPSIS)
    assert "".join(lines).removesuffix(ELLIPSIS) in LONG_NAME


def test_chinese_wraps_per_character_and_english_between_words() -> None:
    assert wrap_text("教学楼一层东侧灭火器", 4, 5, len) == ["教学楼一", "层东侧灭", "火器"]
    assert wrap_text("yellow school bus", 10, 5, len) == ["yellow", "school bus"]
    assert wrap_text("abcdefghijkl", 5, 5, len) == ["abcde", "fghij", "kl"]


def test_closing_punctuation_never_starts_a_line() -> None:
    lines = wrap_text("一二三四，五六", 4, 5, len)

    assert lines == ["一二三", "四，五六"]


def test_short_text_is_not_ellipsized() -> None:
    assert wrap_text("灭火器", 10, 1, len) == ["灭火器"]


@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=list(LAYOUTS))
def test_every_layout_fits_on_its_page(layout: SheetLayout) -> None:
    if layout.labels_per_page > 1:
        assert (layout.page_width_mm, layout.page_height_mm) == (210.0, 297.0)
    else:
        assert (layout.page_width_mm, layout.page_height_mm) == (
            layout.label_width_mm,
            layout.label_height_mm,
        )
    rects = layout.label_rects_mm()
    assert len(rects) == layout.columns * layout.rows
    for rect in rects:
        assert rect.left >= 0
        assert rect.top >= 0
        assert rect.right <= layout.page_width_mm + 1e-9
        assert rect.bottom <= layout.page_height_mm + 1e-9
    width, height = layout.page_size_px
    for left, top, right, bottom in layout.label_boxes_px():
        assert 0 <= left < right <= width
        assert 0 <= top < bottom <= height


def test_3x7_layout_holds_21_labels_of_63_5_by_38_1_mm() -> None:
    layout = LAYOUTS["3x7"]

    assert layout.labels_per_page == 21
    assert (layout.label_width_mm, layout.label_height_mm) == (63.5, 38.1)


def test_eight_rows_of_38_1_mm_labels_are_refused_because_they_do_not_fit_a4() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        SheetLayout(
            name="3x8 tall",
            columns=3,
            rows=8,
            label_width_mm=63.5,
            label_height_mm=38.1,
            top_margin_mm=0,
            left_margin_mm=7.25,
            horizontal_pitch_mm=66.0,
            vertical_pitch_mm=38.1,
        )


def test_overlapping_labels_are_refused() -> None:
    with pytest.raises(ValueError, match="overlapping"):
        SheetLayout(
            name="overlap",
            columns=3,
            rows=1,
            label_width_mm=70,
            label_height_mm=30,
            top_margin_mm=0,
            left_margin_mm=0,
            horizontal_pitch_mm=66.0,
            vertical_pitch_mm=30,
        )


@pytest.fixture(scope="module")
def thirty_labels() -> list[LabelInfo]:
    return [_label(number) for number in range(1, 31)]


def test_pdf_of_30_labels_has_two_a4_pages(
    font_path: Path, thirty_labels: list[LabelInfo], tmp_path: Path
) -> None:
    path = tmp_path / "labels.pdf"

    pages = write_sheet_pdf(thirty_labels, path, font_path=font_path)

    data = path.read_bytes()
    assert pages == 2
    assert data.startswith(b"%PDF")
    boxes = re.findall(rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    assert len(boxes) == 2
    assert len(re.findall(rb"/Width 2480\b", data)) == 2
    assert len(re.findall(rb"/Height 3508\b", data)) == 2
    for box in boxes:
        x0, y0, x1, y1 = (float(value) for value in box)
        assert (x0, y0) == (0, 0)
        assert x1 == pytest.approx(A4_POINTS[0], abs=0.5)
        assert y1 == pytest.approx(A4_POINTS[1], abs=0.5)


def test_first_sheet_scans_as_24_labels_in_reading_order(
    font_path: Path, thirty_labels: list[LabelInfo]
) -> None:
    pages = render_sheets(thirty_labels[:25], DEFAULT_LAYOUT, font_path)

    assert len(pages) == 2
    assert all(page.size == (2480, 3508) for page in pages)
    first = pages[0]
    cells = [_decode(first.crop(box)) for box in DEFAULT_LAYOUT.label_boxes_px()]
    assert cells == [[info.url] for info in thirty_labels[:24]]
    assert set(_decode(first)) == {info.url for info in thirty_labels[:24]}
    assert _decode(pages[1]) == [thirty_labels[24].url]


def test_3x7_sheet_puts_21_labels_on_a_page(
    font_path: Path, thirty_labels: list[LabelInfo]
) -> None:
    layout = LAYOUTS["3x7"]

    pages = render_sheets(thirty_labels[:22], layout, font_path)

    assert len(pages) == 2
    assert len(set(_decode(pages[0]))) == 21
    last_box = layout.label_boxes_px()[0]
    assert _decode(pages[1].crop(last_box)) == [thirty_labels[21].url]


def test_pdf_of_no_labels_is_refused(font_path: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no labels"):
        write_sheet_pdf([], tmp_path / "empty.pdf", font_path=font_path)

    assert not (tmp_path / "empty.pdf").exists()


def test_label_pngs_are_named_by_code_at_300_dpi_and_scan(font_path: Path, tmp_path: Path) -> None:
    labels = [
        _label(1, code="EXT-001"),
        _label(2, code="BUS/02 后门"),
        _label(3, code="EXT-001"),
        _label(4, code="../../etc/passwd"),
    ]
    directory = tmp_path / "png"

    paths = write_label_pngs(labels, directory, font_path=font_path)

    assert [path.name for path in paths] == [
        "EXT-001.png",
        "BUS_02_后门.png",
        "EXT-001-2.png",
        "etc_passwd.png",
    ]
    assert sorted(directory.iterdir()) == sorted(paths)
    for info, path in zip(labels, paths, strict=True):
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
            assert image.size == DEFAULT_LAYOUT.label_size_px
            assert _decode(image) == [info.url]


@pytest.mark.parametrize(
    ("code", "stem"),
    [("EXT-001", "EXT-001"), ("CON", "_CON"), ("nul", "_nul"), ("", "label"), ("///", "label")],
)
def test_file_names_from_codes_are_safe_on_every_desktop(code: str, stem: str) -> None:
    assert safe_filename_stem(code) == stem


def test_the_kind_band_changes_with_the_kind_and_is_printed_white_on_black(
    font_path: Path,
) -> None:
    extinguisher = _label(1)
    bus = LabelInfo(extinguisher.url, "一号校车", "BUS-01", "实验小学", "校车", extinguisher.call)
    geometry = label_geometry(extinguisher.url, DEFAULT_LAYOUT)

    bands = [
        render_label(info, DEFAULT_LAYOUT, font_path).crop(geometry.band_box)
        for info in (extinguisher, bus)
    ]

    assert bands[0].tobytes() != bands[1].tobytes()
    for band in bands:
        assert band.getextrema() == (0, 255)
        assert band.histogram()[0] > band.width * band.height // 2


def test_the_call_to_scan_is_printed_on_every_layout(font_path: Path) -> None:
    with_call = _label(1)
    without = LabelInfo(
        with_call.url, with_call.name, with_call.code, with_call.school, with_call.kind
    )

    for layout in LAYOUTS.values():
        printed = [
            _text_area(render_label(info, layout, font_path), info, layout).tobytes()
            for info in (with_call, without)
        ]
        assert printed[0] != printed[1], layout.name


@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=list(LAYOUTS))
def test_every_qr_of_every_layout_decodes_to_its_url_also_blurred_at_150_dpi(
    font_path: Path, layout: SheetLayout
) -> None:
    count = min(layout.labels_per_page, 6) if layout.labels_per_page > 1 else 2
    labels = [_label(number, code=f"MHQ-{number:03d}") for number in range(1, count + 1)]

    pages = render_sheets(labels, layout, font_path)

    cells = [
        (page, box)
        for page in pages
        for box in layout.label_boxes_px()[: min(len(labels), layout.labels_per_page)]
    ][: len(labels)]
    sharp = [_decode(page.crop(box)) for page, box in cells]
    blurred = [_decode(_blurred_at_150_dpi(page.crop(box))) for page, box in cells]
    assert sharp == [[info.url] for info in labels]
    assert blurred == [[info.url] for info in labels]
    whole = {url for page in pages for url in _decode(_blurred_at_150_dpi(page))}
    assert whole == {info.url for info in labels}


@pytest.mark.parametrize(
    ("name", "points"), [("50x30mm", (141.73, 85.04)), ("40x30mm", (113.39, 85.04))]
)
def test_a_thermal_label_is_one_pdf_page_of_its_own_size(
    font_path: Path, tmp_path: Path, name: str, points: tuple[float, float]
) -> None:
    path = tmp_path / "thermal.pdf"

    pages = write_sheet_pdf([_label(1), _label(2), _label(3)], path, LAYOUTS[name], font_path)

    boxes = re.findall(
        rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]",
        path.read_bytes(),
    )
    assert pages == 3
    assert len(boxes) == 3
    for box in boxes:
        assert float(box[2]) == pytest.approx(points[0], abs=0.5)
        assert float(box[3]) == pytest.approx(points[1], abs=0.5)


def test_the_large_sheet_holds_ten_labels_for_buses_and_canteens(font_path: Path) -> None:
    layout = LAYOUTS["2x5"]
    labels = [_label(number) for number in range(1, 12)]

    pages = render_sheets(labels, layout, font_path)

    assert layout.labels_per_page == 10
    assert len(pages) == 2
    assert len(set(_decode(pages[0]))) == 10


def test_progress_is_told_once_per_label_drawn(font_path: Path, tmp_path: Path) -> None:
    told: list[int] = []

    write_sheet_pdf(
        [_label(n) for n in range(1, 6)],
        tmp_path / "p.pdf",
        font_path=font_path,
        progress=told.append,
    )

    assert told == [1] * 5


def test_pages_drawn_in_two_processes_are_the_pages_drawn_in_one() -> None:
    labels = [_label(number) for number in range(30)]  # two 3x8 pages
    font = find_cjk_font()

    alone = render_sheets(labels, DEFAULT_LAYOUT, font)
    shared = render_sheets(labels, DEFAULT_LAYOUT, font, workers=2)

    assert len(alone) == len(shared) == 2
    assert [page.tobytes() for page in alone] == [page.tobytes() for page in shared]
    assert len(read_qr_codes(shared[1].convert("L"))) == 6
