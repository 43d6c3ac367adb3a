"""The one message catalogue, for doors that are not Flask (the CLI, the bot)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations

TRANSLATIONS = Path(__file__).resolve().parent / "translations"


@cache
def translations(locale: str) -> NullTranslations:
    return Translations.load(str(TRANSLATIONS), [locale], domain="messages")


def translate(locale: str, msgid: str, **params: object) -> str:
    """A catalogue message in the given locale, for doors without Flask-Babel."""
    text = translations(locale).gettext(msgid)
    return text % params if params else text
