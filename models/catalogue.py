"""The one message catalogue, read without Flask: for queued notices, the CLI and the bot.

The catalogue files live with the composition root (houqin/translations); the web app reads
the same ones through Flask-Babel.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.support import NullTranslations, Translations

from models.messages import N_

TRANSLATIONS = Path(__file__).resolve().parent.parent / "houqin" / "translations"
LOCALES = ("zh_CN", "en")
# The language of a district that names none (settings choose it for new ones), and the one
# every {zh_CN, en} text is written in first, so a missing translation falls back to it.
DEFAULT_LOCALE = LOCALES[0]
# How each language writes "a: b", "a, b, c" and "a: 1, 2; b: 3" (Chinese full-width,
# English with a space).
COLON = {"zh_CN": "：", "en": ": "}
LIST_SEPARATOR = {"zh_CN": "、", "en": ", "}
GROUP_SEPARATOR = {"zh_CN": "；", "en": "; "}
BRACKETS = {"zh_CN": ("（", "）"), "en": (" (", ")")}


def in_brackets(text: str, locale: str) -> str:
    """An aside in the reader's brackets: （…） in Chinese, " (…)" in English."""
    opening, closing = BRACKETS.get(locale, BRACKETS["en"])
    return f"{opening}{text}{closing}"


def pick_text(texts: Mapping[str, str], locale: str) -> str:
    """The reader's text from a {zh_CN, en} dict (a checklist's title, an action's "what"),
    else the one it was written in first."""
    return texts.get(locale) or texts.get(locale.split("_")[0]) or texts.get(DEFAULT_LOCALE) or ""


def locale_named(wanted: str | None) -> str | None:
    """The locale a language tag names ("en", "en-GB", "zh", "zh-hans", "zh_CN"), if any."""
    asked = (wanted or "").lower().replace("-", "_")
    if asked.startswith("en"):
        return "en"
    if asked.startswith("zh"):
        return "zh_CN"
    return None


# A span of days, one form in every language's pages: 2026-03-02 至 2026-03-08.
DATE_RANGE = N_("%(start)s – %(end)s")


def date_range(start: object, end: object, locale: str) -> str:
    """A span of days as the reader writes it: "a 至 b" in Chinese, "a – b" in English."""
    return translate(locale, DATE_RANGE, start=str(start), end=str(end))


def join_list(items: Iterable[object], locale: str) -> str:
    """Items as a list in the reader's language: 甲、乙 or a, b."""
    return LIST_SEPARATOR.get(locale, ", ").join(str(i) for i in items)


@cache
def translations(locale: str) -> NullTranslations:
    return Translations.load(str(TRANSLATIONS), [locale], domain="messages")


def translate(locale: str, msgid: str, **params: object) -> str:
    """A catalogue message in the given locale, for doors without Flask-Babel."""
    text = translations(locale).gettext(msgid)
    return text % params if params else text


def render_notice(message: str, params: dict[str, Any], locale: str, timezone: str) -> str:
    """A queued notice in the reader's language: {zh_CN, en} texts pick theirs, a {msgid}
    is looked up in the catalogue, times go local."""
    zone = ZoneInfo(timezone)
    shown: dict[str, object] = {}
    for name, value in params.items():
        if isinstance(value, dict) and "msgid" in value:
            shown[name] = translate(locale, value["msgid"])
        elif isinstance(value, dict):
            shown[name] = pick_text(value, locale)
        elif name in TIME_PARAMS and isinstance(value, str):
            shown[name] = datetime.fromisoformat(value).astimezone(zone).strftime("%m-%d %H:%M")
        else:
            shown[name] = value
    return translate(locale, message, **shown)


TIME_PARAMS = ("due", "at", "since")
