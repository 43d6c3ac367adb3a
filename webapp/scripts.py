"""The app's own scripts (webapp/js/), read once and served from memory: compressed like the
pages, and named by their content so a phone caches each version for good."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, Response, abort, url_for

FOLDER = Path(__file__).parent / "js"
SCRIPTS = ("photos.js", "offline.js", "queue.js")
# The service worker: at the root, for the scope "/", and checked anew on each visit.
WORKER = "sw.js"


def init_app(app: Flask) -> None:
    """Serve /js/<name> and give templates `script_url(name)`, versioned by content."""
    files = {name: (FOLDER / name).read_bytes() for name in SCRIPTS}
    versions = {name: hashlib.sha256(data).hexdigest()[:12] for name, data in files.items()}

    def serve_script(name: str) -> Response:
        """One script; the version in the URL changes with its content, so it is immutable."""
        if name not in files:
            abort(404)
        response = Response(files[name], mimetype="text/javascript")
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response

    def script_url(name: str) -> str:
        return url_for("serve_script", name=name, v=versions[name])

    worker = (FOLDER / WORKER).read_bytes()

    def serve_worker() -> Response:
        """/sw.js (webapp/js/sw.js), never cached for long: a new one takes over at once."""
        response = Response(worker, mimetype="text/javascript")
        response.headers["Cache-Control"] = "no-cache"
        return response

    app.add_url_rule("/js/<name>", "serve_script", serve_script)
    app.add_url_rule("/sw.js", "serve_worker", serve_worker)
    app.jinja_env.globals["script_url"] = script_url
