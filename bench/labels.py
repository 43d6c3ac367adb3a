"""Times 1,000 labels drawn to one PDF (the default A4 sheet) beside the floor: the bare
qrcode + Pillow work for the same labels in the same run (each QR code made at level Q and
pasted onto A4 pages at 300 dpi, saved as the same bilevel PDF), with no text at all.

Prints `labels_per_s:`, `labels_floor_per_s:` and `labels_ratio_to_floor:` (Houqin's labels
per second over the floor's; the goal is 1,000 labels in under 20 s, `labels_1000_s:`)."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator

import qrcode
from PIL import Image

from qr_labels import DEFAULT_LAYOUT, LabelInfo, find_cjk_font, label_url, new_token
from qr_labels.qr import qr_matrix
from qr_labels.sheet import write_sheet_pdf

COUNT = 1_000


def _labels() -> list[LabelInfo]:
    return [
        LabelInfo(
            url=label_url("https://houqin.example.edu.cn", new_token()),
            name=f"教学楼{n % 5 + 1}层东侧走廊灭火器",
            code=f"MHQ-{n:04d}",
            school="实验小学",
            kind="灭火器",
            call="扫码登记 / Scan to record",
        )
        for n in range(COUNT)
    ]


def _floor(labels: list[LabelInfo]) -> None:
    """The same QR codes with qrcode's own image, pasted onto A4 pages, saved as a PDF."""
    boxes = DEFAULT_LAYOUT.label_boxes_px()
    pages = []
    for start in range(0, len(labels), len(boxes)):
        page = Image.new("1", DEFAULT_LAYOUT.page_size_px, 1)
        for info, box in zip(labels[start : start + len(boxes)], boxes, strict=False):
            code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, box_size=7)
            code.add_data(info.url)
            page.paste(code.make_image().get_image(), box[:2])
        pages.append(page)
    pages[0].save(io.BytesIO(), "PDF", save_all=True, append_images=pages[1:], resolution=300.0)


def run() -> Iterator[str]:
    font = find_cjk_font()
    labels = _labels()
    start = time.perf_counter()
    _floor(labels)
    floor_s = time.perf_counter() - start
    qr_matrix.cache_clear()
    start = time.perf_counter()
    write_sheet_pdf(labels, io.BytesIO(), DEFAULT_LAYOUT, font)
    houqin_s = time.perf_counter() - start
    qr_matrix.cache_clear()
    cores = os.cpu_count() or 1
    start = time.perf_counter()
    write_sheet_pdf(labels, io.BytesIO(), DEFAULT_LAYOUT, font, workers=cores)
    shell_s = time.perf_counter() - start
    # What `houqin labels` takes (its pages drawn on every core), then one core's rate beside
    # the floor's, which is one core's too.
    yield f"labels_1000_s: {shell_s:.1f}"
    yield "labels_1000_goal_s: 20"
    yield f"labels_processes: {cores}"
    yield f"labels_1000_one_process_s: {houqin_s:.1f}"
    yield f"labels_per_s: {COUNT / houqin_s:.1f}"
    yield f"labels_floor_per_s: {COUNT / floor_s:.1f}"
    yield f"labels_ratio_to_floor: {(COUNT / houqin_s) / (COUNT / floor_s):.2f}"


def main() -> None:
    for line in run():
        print(line, flush=True)


if __name__ == "__main__":
    main()
