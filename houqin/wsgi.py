"""The entry point for gunicorn: `gunicorn 'houqin.wsgi:create()'`."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from houqin.migrate import check_current
from settings import load_settings
from webapp import create_app


def create() -> Flask:
    """The web app from houqin.toml (or HOUQIN_CONFIG) and HOUQIN_* variables."""
    configured = os.environ.get("HOUQIN_CONFIG")
    path = Path(configured) if configured else Path("houqin.toml")
    settings = load_settings(path if configured or path.is_file() else None)
    check_current(settings.database.url)
    return create_app(settings)
