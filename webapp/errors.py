"""Friendly error pages that say what to do and reveal nothing about any asset."""

from __future__ import annotations

import logging

from flask import Flask, redirect, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from webapp import drafts
from webapp.i18n import current_locale

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(500, _unexpected)


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


def _http_error(exc: HTTPException) -> tuple[str, int] | HTTPException:
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


def _unexpected(exc: HTTPException) -> tuple[str, int]:
    log.error("unhandled error", exc_info=getattr(exc, "original_exception", exc))
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
