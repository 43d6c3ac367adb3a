"""QR code bitmaps: pure functions from a payload string to pixels."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise

import qrcode
from PIL import Image
from qrcode.util import mask_func

QUIET_ZONE_MODULES = 4
"""White border around the code, in modules, as the QR standard requires."""
ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_Q
"""Level Q: a quarter of the code may be scratched, stained or sun-bleached and still scan."""

Matrix = tuple[tuple[bool, ...], ...]

_LONG_RUN_RE = re.compile(r"0{5,}|1{5,}")
_FINDER_LIKE_RE = re.compile(r"(?=10111010000|00001011101)")


def _penalty(modules: Sequence[Sequence[bool | None]]) -> int:
    """Score a masked matrix by the standard's four penalty rules (lower scans better), with
    regular expressions and bit operations instead of qrcode's module-by-module loops."""
    side = len(modules)
    rows = ["".join("1" if cell else "0" for cell in row) for row in modules]
    columns = ["".join(column) for column in zip(*rows, strict=True)]
    lines = rows + columns
    runs = sum(len(run) - 2 for line in lines for run in _LONG_RUN_RE.findall(line))
    finder_like = 40 * sum(len(_FINDER_LIKE_RE.findall(line)) for line in lines)
    bits = [int(row, 2) for row in rows]
    inner = (1 << (side - 1)) - 1
    blocks = 0
    for upper, lower in pairwise(bits):
        same = ~(upper ^ lower)
        blocks += (same & (same >> 1) & ~(upper ^ (upper >> 1)) & inner).bit_count()
    dark = sum(row.count("1") for row in rows)
    balance = 10 * (abs(100 * dark // (side * side) - 50) // 5)
    return runs + 3 * blocks + finder_like + balance


def _best_mask(code: qrcode.QRCode) -> int:
    """Return the mask pattern with the lowest penalty for code's data: the data is laid out
    once and each mask XORed onto it, where qrcode lays the data out again per mask."""
    code.makeImpl(True, 0)
    data_cells = _data_cells(code)
    first = mask_func(0)
    unmasked = {(r, c): bool(code.modules[r][c]) ^ first(r, c) for r, c in data_cells}
    scores = []
    for mask in range(1, 8):
        pattern = mask_func(mask)
        for (r, c), dark in unmasked.items():
            code.modules[r][c] = dark ^ pattern(r, c)
        code.setup_type_info(True, mask)
        scores.append((_penalty(code.modules), mask))
    code.makeImpl(True, 0)
    scores.append((_penalty(code.modules), 0))
    return min(scores)[1]


def _data_cells(code: qrcode.QRCode) -> list[tuple[int, int]]:
    """Return the cells map_data fills: those left empty by the function patterns."""
    blank = qrcode.QRCode(version=code.version, error_correction=code.error_correction)
    blank.modules_count = code.modules_count
    blank.modules = [[None] * code.modules_count for _ in range(code.modules_count)]
    blank.setup_position_probe_pattern(0, 0)
    blank.setup_position_probe_pattern(code.modules_count - 7, 0)
    blank.setup_position_probe_pattern(0, code.modules_count - 7)
    blank.setup_position_adjust_pattern()
    blank.setup_timing_pattern()
    blank.setup_type_info(True, 0)
    if code.version >= 7:
        blank.setup_type_number(True)
    return [
        (r, c) for r, row in enumerate(blank.modules) for c, cell in enumerate(row) if cell is None
    ]


@lru_cache(maxsize=512)
def qr_matrix(payload: str) -> Matrix:
    """Return the QR code's dark modules (quiet zone included), error correction level Q."""
    code = qrcode.QRCode(
        error_correction=ERROR_CORRECTION,
        border=QUIET_ZONE_MODULES,
    )
    code.add_data(payload)
    code.best_fit()
    code.makeImpl(False, _best_mask(code))
    return tuple(tuple(bool(cell) for cell in row) for row in code.get_matrix())


def qr_modules(payload: str) -> int:
    """Return the number of modules per side of payload's QR code, quiet zone included."""
    return len(qr_matrix(payload))


def qr_image(payload: str, module_px: int) -> Image.Image:
    """Return payload's QR code as a mode "1" image with each module exactly module_px pixels."""
    if module_px < 1:
        raise ValueError(f"module_px must be at least 1, got {module_px}")
    matrix = qr_matrix(payload)
    side = len(matrix)
    small = Image.new("L", (side, side))
    small.putdata([0 if dark else 255 for row in matrix for dark in row])
    scaled = small.resize((side * module_px, side * module_px), Image.Resampling.NEAREST)
    return scaled.convert("1", dither=Image.Dither.NONE)


def qr_png(payload: str, module_px: int = 10) -> bytes:
    """Return payload's QR code as PNG bytes."""
    buffer = io.BytesIO()
    qr_image(payload, module_px).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
