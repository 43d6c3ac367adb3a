"""A robot post's piece as markdown: the text as it was written, and its link as a tap-able
"在后勤系统中打开" that opens in the chat app's own browser.

What people wrote (an anonymous report's description, an asset's name) must never become
markdown of its own: a stranger's "[点此](http://…)" would be a link in the staff's group. So
every character markdown reads is replaced by its full-width form, which reads the same."""

from __future__ import annotations

from models.catalogue import translate
from models.messages import N_

OPEN = N_("Open in Houqin")
# What WeCom's and DingTalk's markdown read, each turned into the full-width character.
NEUTRAL = str.maketrans(
    {
        "[": "［",
        "]": "］",
        "(": "（",
        ")": "）",
        "<": "＜",
        ">": "＞",
        "*": "＊",
        "_": "＿",
        "`": "｀",
        "#": "＃",
        "~": "～",
        "|": "｜",
        "!": "！",
    }
)


def split_link(piece: str, link: str | None) -> tuple[str, str | None]:
    """The piece's text and the full address of its link, when its last line is the link
    (the sender writes it under every piece of a notice that has one)."""
    if not link:
        return piece, None
    text, _, last = piece.rpartition("\n")
    if last.startswith(("http://", "https://")) and last.endswith(link):
        return text, last
    return piece, None


def markdown_piece(piece: str, link: str | None, locale: str, line_break: str = "\n") -> str:
    """The piece in markdown: its lines neutralised and joined by `line_break`, then its link
    as "[在后勤系统中打开](address)" in the reader's language."""
    text, address = split_link(piece, link)
    lines = [line.translate(NEUTRAL) for line in text.split("\n")]
    if address is not None:
        lines.append(f"[{translate(locale, OPEN)}]({address})")
    return line_break.join(lines)
