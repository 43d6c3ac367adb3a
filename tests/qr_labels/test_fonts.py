import os
import stat
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from qr_labels import FontMissing, find_cjk_font, fonts
from qr_labels.fonts import parse_fc_list


def _draw(font_path: Path, text: str) -> bytes:
    image = Image.new("L", (200, 60), 255)
    ImageDraw.Draw(image).text((4, 4), text, fill=0, font=ImageFont.truetype(str(font_path), 40))
    return image.tobytes()


def test_found_font_draws_distinct_chinese_glyphs_not_tofu() -> None:
    path = find_cjk_font()

    assert _draw(path, "灭火器") != _draw(path, "饮水机")
    assert _draw(path, "校车") != _draw(path, "　　")


def test_configured_font_that_exists_is_used(tmp_path: Path) -> None:
    copy = tmp_path / "school-font.ttc"
    copy.write_bytes(find_cjk_font().read_bytes())

    assert find_cjk_font(str(copy)) == copy


def test_configured_font_that_is_missing_names_the_path_and_the_debian_package(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "nope.ttc"

    with pytest.raises(FontMissing) as caught:
        find_cjk_font(str(missing))

    assert str(missing) in str(caught.value)
    assert "fonts-wqy-microhei" in str(caught.value)


def test_configured_file_that_is_not_a_font_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "font.ttc"
    junk.write_text("not a font")

    with pytest.raises(FontMissing, match="fonts-wqy-microhei"):
        find_cjk_font(str(junk))


def test_no_font_anywhere_says_how_to_install_one_in_english_and_chinese(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fonts, "KNOWN_FONT_PATHS", (tmp_path / "absent.ttc",))
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(FontMissing) as caught:
        find_cjk_font()

    message = str(caught.value)
    assert "apt-get install fonts-wqy-microhei" in message
    assert "No CJK" in message
    assert "中文字体" in message


def test_falls_back_to_fontconfig_when_no_known_path_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    font = tmp_path / "fonts" / "some cjk font.ttc"
    font.parent.mkdir()
    font.write_bytes(find_cjk_font().read_bytes())
    fc_list = tmp_path / "bin" / "fc-list"
    fc_list.parent.mkdir()
    fc_list.write_text(f"#!/bin/sh\necho '{font}: '\necho '/gone/Missing.ttf: '\n")
    fc_list.chmod(fc_list.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(fonts, "KNOWN_FONT_PATHS", (tmp_path / "absent.ttc",))
    monkeypatch.setenv("PATH", f"{fc_list.parent}{os.pathsep}{os.environ['PATH']}")

    assert find_cjk_font() == font


def test_parse_fc_list_keeps_font_files_and_prefers_regular_weights() -> None:
    output = (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc: \n"
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc: \n"
        "/usr/share/fonts/X11/misc/wenquanyi.pcf.gz: \n"
        "\n"
    )

    assert parse_fc_list(output) == [
        Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
        Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
    ]
