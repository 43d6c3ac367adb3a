"""Friendly error pages that say what to do and reveal nothing about any asset."""

from __future__ import annotations

import logging

from flask import Flask, g, redirect, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response

from models.db import mark_read_only
from webapp import drafts
from webapp.i18n import current_locale

log = logging.getLogger(__name__)
Page = tuple[str, int] | tuple[str, int, dict[str, str]]


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(OperationalError, _operational)
    app.register_error_handler(500, _unexpected)


# Seconds a phone is asked to wait before it sends again when the database was too busy.
BUSY_RETRY_AFTER = 5


def _database_busy(exc: BaseException | None) -> bool:
    """SQLite's write lock stayed taken past the busy timeout (many writers at once)."""
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


def _busy_page() -> tuple[str, int, dict[str, str]]:
    """Nothing was written (the request's work was rolled back): the same send again lands
    once, by its submission key; the phones' queue sends it again by itself after a 5xx."""
    title = gettext("Busy, nothing saved yet")
    text = gettext(
        "Many people are sending at once. Nothing was saved: "
        "wait a few seconds, then send the same form again."
    )
    headers = {"Retry-After": str(BUSY_RETRY_AFTER)}
    session = g.get("db")
    try:
        if session is not None:
            # The page's own reads (the layout's notices) wait for no writer.
            session.rollback()
            mark_read_only(session)
        page, status = _page(503, title, text)
    except Exception:
        log.exception("the busy page failed too; showing the plain one")
        page, status = _plain_page(title, text), 503
    return page, status, headers


def _operational(exc: OperationalError) -> Page:
    if _database_busy(exc):
        log.warning("database busy past its timeout: %s %s", request.method, request.path)
        return _busy_page()
    return _unexpected(InternalServerError(original_exception=exc))


def _page(status: int, title: str, text: str) -> tuple[str, int]:
    return render_template("errors/error.html", title=title, text=text, status=status), status


def _csrf_error(_exc: CSRFError) -> tuple[str, int] | Response:
    # A checklist from a page that expired: the same form again, filled in, with a fresh
    # token (and through the login first if that expired too).
    kept = drafts.back_to(request)
    if kept is not None:
        return redirect(kept, code=303)
    return _page(
        400,
        gettext("This page has expired"),
        gettext("Go back, reload the page and send it again. Nothing was saved."),
    )


def _http_error(exc: HTTPException) -> Page | HTTPException:
    status = exc.code or 500
    if status == 404 and request.path.startswith("/s/"):
        return _page(
            404,
            gettext("Nothing here"),
            gettext(
                "This label is not known, or it has been replaced. "
                "Ask your school's administrator for a new label."
            ),
        )
    if status == 404:
        # Also what a page of another school answers: nobody learns that it exists.
        return _page(
            404,
            gettext("Nothing here"),
            gettext(
                "This page does not exist, or it is not one you may open. "
                "Go back, or start again from the home page."
            ),
        )
    if status == 413:
        return _page(
            413,
            gettext("Too large"),
            gettext("The photos are too large to send. Each photo may be at most 20 MB."),
        )
    if status == 403:
        return _page(403, gettext("Not allowed"), gettext("You cannot open this page."))
    if status == 500:
        return _unexpected(exc)
    if status in (400, 405):
        return _page(
            status, gettext("Something went wrong"), gettext("Please go back and try again.")
        )
    return exc


def _unexpected(exc: HTTPException) -> Page:
    original = getattr(exc, "original_exception", None)
    if _database_busy(original):
        # The commit itself waited too long (after the view, so not a view's exception).
        log.warning("database busy past its timeout: %s %s", request.method, request.path)
        return _busy_page()
    log.error("unhandled error", exc_info=original or exc)
    title = gettext("Something went wrong")
    text = gettext("Please try again in a moment. If you were sending a form, send it again.")
    # The request's work was rolled back before this page (webapp/db.py), so the page, which
    # reads unread notices, does not trip over a failed transaction (a commit refused).
    try:
        return _page(500, title, text)
    except Exception:
        log.exception("the error page failed too; showing the plain one")
        return _plain_page(title, text), 500


def _plain_page(title: str, text: str) -> str:
    """The error page without the layout, which needs the database; still in their language."""
    return (
        f'<!doctype html><html lang="{escape(current_locale().replace("_", "-"))}">'
        '<meta charset="utf-8"><meta name="viewport" content="width=device-width">'
        f"<title>{escape(title)}</title><h1>{escape(title)}</h1><p>{escape(text)}</p>"
        f'<p><a href="/">{escape(gettext("Go to the start page"))}</a></p></html>'
    )
