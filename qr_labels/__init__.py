"""QR labels for school assets: tokens, QR codes and printable A4 label sheets."""

from qr_labels.fonts import FontMissing, find_cjk_font
from qr_labels.qr import qr_image, qr_modules, qr_png
from qr_labels.sheet import (
    DEFAULT_LAYOUT,
    DPI,
    LAYOUTS,
    LabelInfo,
    SheetLayout,
    render_label,
    render_sheets,
    write_label_pngs,
    write_sheet_pdf,
)
from qr_labels.tokens import label_url, looks_like_token, new_token

__all__ = [
    "DEFAULT_LAYOUT",
    "DPI",
    "LAYOUTS",
    "FontMissing",
    "LabelInfo",
    "SheetLayout",
    "find_cjk_font",
    "label_url",
    "looks_like_token",
    "new_token",
    "qr_image",
    "qr_modules",
    "qr_png",
    "render_label",
    "render_sheets",
    "write_label_pngs",
    "write_sheet_pdf",
]
