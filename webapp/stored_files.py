"""A stored photo or document sent to a reader the view has already authorized: streamed by
the app, or (storage.serve = "signed_url") a redirect to a short-lived signed address in the
object store, answered there with the same Content-Type and Content-Disposition."""

from __future__ import annotations

import io

from flask import abort, redirect, send_file
from werkzeug.wrappers import Response

from webapp import db

# Named by their content, stored files never change: a reader's browser keeps them a month.
KEPT_SECONDS = 86400 * 30


def stored_file_response(
    key: str,
    *,
    content_type: str,
    etag: str,
    download_name: str | None = None,
    as_attachment: bool = False,
) -> Response:
    store, storage = db.photo_store(), db.settings().storage
    if storage.serve == "signed_url":
        disposition = "attachment" if as_attachment else "inline"
        if download_name:
            disposition += f'; filename="{download_name}"'  # ours, ASCII: document-7.pdf
        url = store.signed_url(
            key,
            seconds=storage.signed_url_seconds,
            content_type=content_type,
            disposition=disposition,
        )
        response = redirect(url, code=302)
        # The browser may reuse the redirect while the address it names still works.
        response.cache_control.max_age = storage.signed_url_seconds // 2
    else:
        try:
            data = store.read(key)
        except FileNotFoundError:
            abort(404)
        response = send_file(
            io.BytesIO(data),
            mimetype=content_type,
            etag=etag,
            max_age=KEPT_SECONDS,
            download_name=download_name,
            as_attachment=as_attachment,
        )
    response.cache_control.private = True
    response.cache_control.public = False
    return response
