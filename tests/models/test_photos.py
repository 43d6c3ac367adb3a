"""Photo evidence is small, upright, stripped of location, and refused when it is not a photo."""

from __future__ import annotations

import io
import zlib

import pytest
from PIL import Image, ImageCms

from models.photos import (
    DATE_TIME_ORIGINAL,
    EXIF_IFD,
    MAX_UPLOAD_BYTES,
    LocalPhotoStore,
    PhotoRejected,
    prepare_photo,
    process_photo,
)
from tests.factories import gps_exif, jpeg_bytes


def test_a_large_photo_is_shrunk_to_1600_px_on_its_long_side() -> None:
    processed = process_photo(jpeg_bytes((4000, 3000)))

    image = Image.open(io.BytesIO(processed.jpeg))
    assert image.format == "JPEG"
    assert image.size == (1600, 1200)
    assert (processed.width, processed.height) == (1600, 1200)


def test_the_thumbnail_is_a_few_kilobytes() -> None:
    processed = process_photo(jpeg_bytes((4000, 3000)))

    thumb = Image.open(io.BytesIO(processed.thumbnail))
    assert max(thumb.size) == 128
    assert len(processed.thumbnail) < 8 * 1024


def test_a_sideways_phone_photo_is_turned_upright() -> None:
    # Orientation 6: the camera stored it landscape, the phone was held upright.
    processed = process_photo(jpeg_bytes((2000, 1000), exif=gps_exif(orientation=6)))

    assert processed.width < processed.height


def test_location_and_other_exif_are_removed_by_default() -> None:
    processed = process_photo(jpeg_bytes(exif=gps_exif()))

    exif = Image.open(io.BytesIO(processed.jpeg)).getexif()
    assert 0x8825 not in exif
    assert 0x0110 not in exif
    assert b"Houqin Test Phone" not in processed.jpeg


def test_exif_is_kept_when_the_config_says_so() -> None:
    processed = process_photo(jpeg_bytes(exif=gps_exif(orientation=6)), keep_exif=True)

    exif = Image.open(io.BytesIO(processed.jpeg)).getexif()
    assert exif[0x0110] == "Houqin Test Phone"
    assert exif[0x0112] == 1


def test_a_png_with_transparency_becomes_a_jpeg() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (300, 200), (255, 0, 0, 0)).save(out, "PNG")

    processed = process_photo(out.getvalue())

    image = Image.open(io.BytesIO(processed.jpeg))
    assert image.format == "JPEG"
    assert all(channel > 245 for channel in image.getpixel((150, 100)))


def test_a_16_bit_grey_image_keeps_its_grey() -> None:
    out = io.BytesIO()
    Image.new("I;16", (300, 200), 32768).save(out, "PNG")

    grey = Image.open(io.BytesIO(process_photo(out.getvalue()).jpeg)).convert("L")

    assert 110 < grey.getpixel((150, 100)) < 145


def test_formats_phones_do_not_send_are_refused() -> None:
    out = io.BytesIO()
    Image.new("RGB", (300, 200), "red").save(out, "PPM")

    with pytest.raises(PhotoRejected):
        process_photo(out.getvalue())


@pytest.mark.parametrize(
    "data",
    [b"", b"hello, not an image", b"\xff\xd8\xff\xe0 truncated jpeg"],
    ids=["empty", "text", "truncated"],
)
def test_what_is_not_a_photo_is_refused(data: bytes) -> None:
    with pytest.raises(PhotoRejected):
        process_photo(data)


def test_a_file_over_20_mb_is_refused() -> None:
    with pytest.raises(PhotoRejected) as refused:
        process_photo(b"\xff" * (MAX_UPLOAD_BYTES + 1))

    assert refused.value.message.msgid == "This photo is larger than 20 MB."


def decompression_bomb_png(side: int = 20_000) -> bytes:
    """A PNG of side×side black pixels that is only a few hundred kilobytes on disk."""
    import struct

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    row = b"\x00" + b"\x00" * (side // 8)
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


def test_a_decompression_bomb_is_refused_without_being_decoded() -> None:
    bomb = decompression_bomb_png()
    assert len(bomb) < 1_000_000

    with pytest.raises(PhotoRejected) as refused:
        process_photo(bomb)

    assert refused.value.message.msgid == "This image is too large to process."


def test_the_same_photo_is_stored_once(tmp_path) -> None:
    store = LocalPhotoStore(tmp_path)
    store.put("photos/ab/abc.jpg", b"one")
    store.put("photos/ab/abc.jpg", b"two")

    assert store.read("photos/ab/abc.jpg") == b"one"
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["abc.jpg"]


def _segments(jpeg: bytes) -> list[tuple[int, bytes]]:
    """The marker segments before the image data: (marker, payload)."""
    assert jpeg[:2] == b"\xff\xd8"
    found, at = [], 2
    while jpeg[at] == 0xFF and jpeg[at + 1] != 0xDA:
        marker, length = jpeg[at + 1], int.from_bytes(jpeg[at + 2 : at + 4], "big")
        found.append((marker, jpeg[at + 4 : at + 2 + length]))
        at += 2 + length
    return found


def _phone_photo_with_every_block() -> bytes:
    """A sideways phone photo carrying EXIF (GPS, capture time), a comment, XMP, a colour
    profile and a Photoshop/IPTC block, each with a word of its own to look for."""
    exif = gps_exif(orientation=6)
    exif.get_ifd(EXIF_IFD)[DATE_TIME_ORIGINAL] = "2026:03:02 08:30:00"
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    Image.new("RGB", (2000, 1000), "orange").save(
        out,
        "JPEG",
        exif=exif,
        comment=b"COMMENT-SECRET",
        xmp=b"<x:xmpmeta>XMP-SECRET</x:xmpmeta>",
        icc_profile=srgb,
    )
    iptc = b"Photoshop 3.0\x008BIM IPTC-SECRET"
    app13 = b"\xff\xed" + (len(iptc) + 2).to_bytes(2, "big") + iptc
    data = out.getvalue()
    return data[:2] + app13 + data[2:]


def test_stored_photos_and_thumbnails_keep_no_metadata_block_of_the_source(tmp_path) -> None:
    source = _phone_photo_with_every_block()
    assert {m for m, _ in _segments(source)} >= {0xE1, 0xE2, 0xED, 0xFE}
    store = LocalPhotoStore(tmp_path)

    processed = prepare_photo(source, store)

    digest = processed.sha256
    for key in (f"photos/{digest[:2]}/{digest}.jpg", f"thumbs/{digest[:2]}/{digest}.jpg"):
        stored = store.read(key)
        image = Image.open(io.BytesIO(stored))
        assert not {"comment", "exif", "icc_profile", "xmp", "photoshop"} & set(image.info), key
        assert [m for m, _ in _segments(stored) if m == 0xFE or 0xE1 <= m <= 0xEF] == [], key
        for word in (b"SECRET", b"Houqin Test Phone", b"Photoshop", b"xmpmeta"):
            assert word not in stored, (key, word)
        assert image.width < image.height  # turned upright before the blocks went
    assert processed.taken is not None and processed.taken.isoformat() == "2026-03-02T08:30:00"
