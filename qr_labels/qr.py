"""QR code bitmaps: pure functions from a payload string to pixels."""

from __future__ import annotations

import io
from functools import lru_cache

import qrcode
from PIL import Image

QUIET_ZONE_MODULES = 4
"""White border around the code, in modules, as the QR standard requires."""
ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_Q
"""Level Q: a quarter of the code may be scratched, stained or sun-bleached and still scan."""

Matrix = tuple[tuple[bool, ...], ...]


@lru_cache(maxsize=512)
def qr_matrix(payload: str) -> Matrix:
    """Return the QR code's dark modules (quiet zone included), error correction level Q."""
    code = qrcode.QRCode(
        error_correction=ERROR_CORRECTION,
        border=QUIET_ZONE_MODULES,
    )
    code.add_data(payload)
    code.make(fit=True)
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
