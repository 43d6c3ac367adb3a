"""Languages: the reader's (people.reading_locale), the other one tap away; times in their
district's zone; domain messages translated here."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, request
from flask_babel import Babel, get_locale, get_translations
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from models import catalogue
from models.asset_attributes import CHOICE_LABELS, KIND_ATTRIBUTES
from models.assets import ATTRIBUTE_LABELS, KIND_LABELS
from models.catalogue import (
    COLON,
    LIST_SEPARATOR,
    LOCALES,
    date_range,
    in_brackets,
    join_list,
    pick_text,
    render_notice,
)
from models.extinguishers import AGENT_TYPE_LABELS, LIFE_STATUS_LABELS, life_message, life_status
from models.messages import Message
from models.notifications import Notification, unread_count
from models.people import Person, reading_locale
from models.severity import SEVERITY_LABELS
from settings import Settings

SUPPORTED = LOCALES
LANG_COOKIE = "houqin_lang"
TRANSLATIONS = catalogue.TRANSLATIONS

babel = Babel()
CHOICE_ATTRIBUTES = {a.name for specs in KIND_ATTRIBUTES.values() for a in specs if a.choices}


def init_app(app: Flask, settings: Settings) -> None:
    # What a new district gets is also what a visitor who has not logged in sees.
    app.config.update(
        BABEL_DEFAULT_LOCALE=settings.i18n.default_locale,
        BABEL_DEFAULT_TIMEZONE=settings.i18n.timezone,
        BABEL_TRANSLATION_DIRECTORIES=str(TRANSLATIONS),
    )
    babel.init_app(app, locale_selector=select_locale, timezone_selector=reader_timezone)
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda string: _page_translations().ugettext(string),
        ngettext=lambda singular, plural, n: _page_translations().ungettext(singular, plural, n),
        pgettext=lambda context, string: _page_translations().upgettext(context, string),
        npgettext=lambda context, singular, plural, n: _page_translations().unpgettext(
            context, singular, plural, n
        ),
        newstyle=True,
    )
    app.jinja_env.globals.update(
        tr=translate,
        kind_label=kind_label,
        attribute_label=attribute_label,
        current_locale=current_locale,
        other_locale=other_locale,
        severity_label=severity_label,
        event_label=event_label,
        notice_text=notice_text,
        unread_notices=unread_notices,
        attribute_value=attribute_value,
        agent_type_label=lambda kind: gettext(AGENT_TYPE_LABELS[kind]),
        life_status_label=lambda status: gettext(LIFE_STATUS_LABELS[status]),
        life_text=lambda life, today: translate(life_message(life, today)),
        life_status=life_status,
        colon=lambda: COLON[current_locale()],
        list_sep=lambda: LIST_SEPARATOR[current_locale()],
        date_range=lambda start, end: date_range(start, end, current_locale()),
    )
    app.jinja_env.filters["join_list"] = lambda items: join_list(items, current_locale())
    app.jinja_env.filters["in_brackets"] = lambda text: in_brackets(str(text), current_locale())
    app.jinja_env.filters["pick_text"] = lambda texts: pick_text(texts, current_locale())


def _page_translations() -> Any:
    """The request's translations, looked up once: Flask-Babel's own lookup resolves the
    request's globals about ten times for every string, and a page says dozens of them. The
    locale is settled at its first use in a request, by Flask-Babel as by this (so a
    `force_locale` or `refresh` inside a request would not reach these)."""
    try:
        return g._page_translations
    except AttributeError:
        g._page_translations = get_translations()
        return g._page_translations


def gettext(string: str, **variables: Any) -> str:
    """Flask-Babel's `gettext` in a request, through its translations looked up once: the
    labels of kinds, attributes and domain messages are said many times on every page."""
    translated = str(_page_translations().ugettext(string))
    return translated % variables if variables else translated


def _reader() -> Person | None:
    return current_user if current_user and current_user.is_authenticated else None


def select_locale() -> str:
    """The language just chosen on this phone, else the one the person reads."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in SUPPORTED:
        return chosen
    return reading_locale(_reader(), default=current_app.config["BABEL_DEFAULT_LOCALE"])


def reader_timezone() -> str:
    """The time zone the person reads times in (their district's)."""
    reader = _reader()
    return reader.timezone if reader is not None else current_app.config["BABEL_DEFAULT_TIMEZONE"]


def current_locale() -> str:
    """The locale key checklist texts use: zh_CN or en (Babel spells Chinese zh_Hans_CN)."""
    try:
        return str(g._page_locale)
    except AttributeError:
        locale = get_locale()
        g._page_locale = "en" if locale is not None and locale.language == "en" else "zh_CN"
        return str(g._page_locale)


def other_locale() -> tuple[str, str]:
    """The language to offer, named in that language."""
    return ("en", "English") if current_locale() == "zh_CN" else ("zh_CN", "中文")


def translate(message: Message) -> str:
    """A domain message in the reader's language; a {zh_CN, en} parameter picks theirs."""
    locale = current_locale()
    params = {
        name: pick_text(value, locale) if isinstance(value, dict) else value
        for name, value in message.params.items()
    }
    return gettext(message.msgid, **params)


def kind_label(kind: str) -> str:
    msgid = KIND_LABELS.get(kind)  # type: ignore[call-overload]
    return gettext(msgid) if msgid else kind


def attribute_label(name: str) -> str:
    msgid = ATTRIBUTE_LABELS.get(name)
    return gettext(msgid) if msgid else name


def attribute_value(name: str, value: object) -> str:
    """An attribute's value as the reader says it: a meter's type is 电 or Electricity."""
    msgid = CHOICE_LABELS.get(str(value)) if name in CHOICE_ATTRIBUTES else None
    return gettext(msgid) if msgid else str(value)


EVENT_LABELS = {
    "opened": _l("Opened"),
    "failed_again": _l("Failed again"),
    "closed": _l("Closed"),
    "reopened": _l("Reopened"),
    "photo": _l("Photo added"),
}


def severity_label(severity: str) -> str:
    msgid = SEVERITY_LABELS.get(severity)  # type: ignore[call-overload]
    return gettext(msgid) if msgid else severity


def event_label(kind: str) -> str:
    return str(EVENT_LABELS.get(kind, kind))


def notice_text(notice: Notification) -> str:
    return render_notice(notice.message, notice.params, current_locale(), reader_timezone())


def unread_notices() -> int:
    from webapp import db

    return unread_count(db.session(), current_user) if current_user.is_authenticated else 0
