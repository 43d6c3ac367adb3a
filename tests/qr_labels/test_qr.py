import io

import pytest
import qrcode
import zxingcpp
from PIL import Image

from qr_labels import label_url, new_token, qr_image, qr_modules, qr_png
from qr_labels.qr import QUIET_ZONE_MODULES, qr_matrix

URL = label_url("https://houqin.example.edu.cn", new_token())


def test_qr_png_decodes_back_to_exactly_the_url() -> None:
    image = Image.open(io.BytesIO(qr_png(URL)))

    assert [barcode.text for barcode in zxingcpp.read_barcodes(image)] == [URL]


def test_qr_code_uses_error_correction_q_so_a_scuffed_label_still_scans() -> None:
    (barcode,) = zxingcpp.read_barcodes(qr_image(URL, 4))

    assert barcode.format == zxingcpp.BarcodeFormat.QRCode
    assert barcode.ec_level == "Q"


@pytest.mark.parametrize("module_px", [1, 3, 8])
def test_each_module_is_exactly_module_px_pixels(module_px: int) -> None:
    matrix = qr_matrix(URL)
    image = qr_image(URL, module_px).convert("L")

    assert image.size == (len(matrix) * module_px, len(matrix) * module_px)
    for row, cells in enumerate(matrix):
        for column, dark in enumerate(cells):
            left, top = column * module_px, row * module_px
            cell = image.crop((left, top, left + module_px, top + module_px))
            assert cell.getextrema() == ((0, 0) if dark else (255, 255))


def test_module_count_matches_the_code_a_decoder_sees() -> None:
    (barcode,) = zxingcpp.read_barcodes(qr_image(URL, 3))
    corner = barcode.position.top_left

    assert qr_modules(URL) == len(qr_matrix(URL))
    assert corner.x == pytest.approx(QUIET_ZONE_MODULES * 3, abs=1)
    assert corner.y == pytest.approx(QUIET_ZONE_MODULES * 3, abs=1)
    code_right = (qr_modules(URL) - QUIET_ZONE_MODULES) * 3
    assert barcode.position.top_right.x == pytest.approx(code_right, abs=1)


def test_quiet_zone_is_four_white_modules_and_the_code_starts_right_after() -> None:
    module_px = 5
    image = qr_image(URL, module_px).convert("L")
    quiet = QUIET_ZONE_MODULES * module_px

    assert quiet == 20
    assert image.crop((0, 0, image.width, quiet)).getextrema() == (255, 255)
    assert image.crop((0, 0, quiet, image.height)).getextrema() == (255, 255)
    assert image.getpixel((quiet, quiet)) == 0


def test_longer_payload_needs_more_modules() -> None:
    assert qr_modules("https://a.cn/s/x") < qr_modules(URL + "?" + "x" * 100)


def test_module_size_below_one_pixel_is_refused() -> None:
    with pytest.raises(ValueError, match="module_px"):
        qr_image(URL, 0)


def test_the_fast_mask_choice_prints_the_code_qrcode_itself_would() -> None:
    """Each code keeps the standard's best-scanning mask, the one qrcode's slower search picks."""
    for number in range(20):
        payload = f"https://houqin.example.edu.cn/l/{number:02d}ABCdef-ghiJKL_mno{number}"
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, border=4)
        code.add_data(payload)
        code.make(fit=True)
        assert qr_matrix(payload) == tuple(tuple(bool(c) for c in row) for row in code.get_matrix())
