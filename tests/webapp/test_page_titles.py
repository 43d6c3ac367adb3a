"""Every page's <title> is a short line of text: no markup of the page leaks into the tab."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "webapp"


def test_every_title_block_holds_only_its_title() -> None:
    leaking = []
    for path in TEMPLATES.rglob("*.html"):
        for title in re.findall(r"{% block title %}(.*?){% endblock %}", path.read_text(), re.S):
            if "<" in title or "\n" in title:
                leaking.append(path.relative_to(TEMPLATES).as_posix())
    assert leaking == []
