"""Reading labels back as a phone's scanner would, for QR codes only."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image


def read_qr_codes(image: Image.Image | bytes) -> list[str]:
    """The text of every QR code in the image; a label's printed text is never taken for a
    stray linear barcode (zxing-cpp once read a code line as one)."""
    if isinstance(image, bytes):
        image = Image.open(io.BytesIO(image))
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return [barcode.text for barcode in found]
