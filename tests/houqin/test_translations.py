"""Every text a person sees has its Chinese translation: nothing English leaks into zh-CN."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from models.catalogue import translate

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "houqin" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"


def _extract(tmp_path: Path) -> set[str]:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "N_",
            "-k",
            "lazy_gettext",
            "--no-location",
            "-o",
            str(pot),
            "models",
            "webapp",
            "houqin",
            "bot",
            "scheduler",
            "qr_labels",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as fh:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}


def test_every_message_in_the_code_has_a_chinese_translation(tmp_path: Path) -> None:
    in_code = _extract(tmp_path)
    with CATALOGUE.open("rb") as fh:
        catalogue = read_po(fh)
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]
        for m in catalogue
        if m.id and (m.string if isinstance(m.string, str) else all(m.string)) and not m.fuzzy
    }

    missing = sorted(in_code - translated)
    assert missing == [], f"untranslated (run make extract-messages, then translate): {missing}"


def test_the_catalogue_serves_the_command_line_and_the_bot_too() -> None:
    assert translate("zh_CN", "Fire extinguisher") == "灭火器"
    assert translate("en", "Fire extinguisher") == "Fire extinguisher"
