"""The links around every page, rendered once per language and kind of reader for each app.

They are the same for everyone alike, and every page built them anew: a dozen translations
and URL lookups for the header and footer of each view of a label. What is the person's own
(the unread count, the form tokens, the page to come back to) stays in base.html.
"""

from __future__ import annotations

from flask import Flask, current_app, render_template, request
from flask_login import current_user
from markupsafe import Markup

from models.dashboard import reads_dashboard
from webapp.i18n import current_locale


def init_app(app: Flask) -> None:
    app.extensions["houqin.chrome"] = {}
    app.jinja_env.globals["chrome"] = chrome


def chrome(part: str) -> Markup:
    """One part of the page's frame (templates/chrome/: top, nav, footer) for this reader,
    from the app's store once made."""
    signed_in = bool(current_user.is_authenticated)
    # Only the header's links differ for those who administer a school or the district.
    administers = part == "nav" and signed_in and reads_dashboard(current_user)
    key = (part, current_locale(), signed_in, administers, request.script_root)
    kept: dict[tuple[object, ...], Markup] = current_app.extensions["houqin.chrome"]
    found = kept.get(key)
    if found is None:
        found = Markup(render_template(f"chrome/{part}.html", administers=administers))
        # Templates being edited (debug) are read again, and so is their frame.
        if not current_app.jinja_env.auto_reload:
            kept[key] = found
    return found
