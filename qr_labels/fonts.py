"""Locating a font that can draw Chinese on printed labels."""

from __future__ import annotations

import logging
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

logger = logging.getLogger(__name__)

DEBIAN_FONT_PACKAGE = "fonts-wqy-microhei"

KNOWN_FONT_PATHS: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)
"""Where Debian's CJK font packages put their fonts, most preferred first."""

_FONT_SUFFIXES = frozenset({".ttf", ".ttc", ".otf", ".otc"})
_NON_REGULAR_WEIGHTS = ("bold", "black", "heavy", "medium", "light", "thin")
_FC_LIST_TIMEOUT_S = 10


class FontMissing(RuntimeError):
    """No usable font that can draw Chinese text was found."""


def _install_hint() -> str:
    """Return the bilingual advice on how to get a CJK font onto the machine."""
    return (
        f"Install Debian's package {DEBIAN_FONT_PACKAGE} "
        f"(apt-get install {DEBIAN_FONT_PACKAGE}). "
        f"请安装 Debian 软件包 {DEBIAN_FONT_PACKAGE}（apt-get install {DEBIAN_FONT_PACKAGE}）。"
    )


def _loads(path: Path) -> bool:
    """Tell whether Pillow can open path as a font."""
    try:
        ImageFont.truetype(str(path), 12)
    except OSError:
        return False
    return True


def parse_fc_list(output: str) -> list[Path]:
    """Return the font files listed by ``fc-list ... file``, regular weights first."""
    paths = {Path(line.strip().removesuffix(":")) for line in output.splitlines() if line.strip()}
    usable = [path for path in paths if path.suffix.lower() in _FONT_SUFFIXES]
    return sorted(
        usable,
        key=lambda path: (any(w in path.name.lower() for w in _NON_REGULAR_WEIGHTS), str(path)),
    )


def _fc_list_fonts() -> list[Path]:
    """Return the CJK font files fontconfig knows of, or none if fc-list is unavailable."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    try:
        result = subprocess.run(
            [fc_list, ":lang=zh", "file"],
            capture_output=True,
            text=True,
            timeout=_FC_LIST_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        logger.warning("fc-list failed: %s", error)
        return []
    return parse_fc_list(result.stdout)


def find_cjk_font(configured: str | None = None) -> Path:
    """Return the path of a font that renders Chinese, or raise FontMissing."""
    if configured is not None:
        path = Path(configured)
        if not path.is_file():
            raise FontMissing(
                f"Configured label font {path} does not exist. 配置的标签字体 {path} 不存在。 "
                + _install_hint()
            )
        if not _loads(path):
            raise FontMissing(
                f"Configured label font {path} cannot be loaded. 无法加载配置的标签字体 {path}。 "
                + _install_hint()
            )
        return path
    for path in KNOWN_FONT_PATHS:
        if path.is_file() and _loads(path):
            return path
    for path in _fc_list_fonts():
        if path.is_file() and _loads(path):
            logger.info("using CJK font %s found by fc-list", path)
            return path
    raise FontMissing("No CJK (Chinese) font was found. 未找到中文字体。 " + _install_hint())


@lru_cache(maxsize=64)
def load_font(path: Path, size_px: int) -> ImageFont.FreeTypeFont:
    """Return the font at path sized size_px pixels, cached across labels."""
    return ImageFont.truetype(str(path), size_px)
