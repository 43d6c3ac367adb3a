"""Bring a database to the newest schema with Alembic."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from models.catalogue import DEFAULT_LOCALE

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, *, default_locale: str = DEFAULT_LOCALE) -> None:
    """Migrate to the newest schema; districts made before they had a language get
    `default_locale` (the settings' i18n.default_locale)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        config.attributes["default_locale"] = default_locale
        command.upgrade(config, "head")


class SchemaOutOfDate(RuntimeError):
    """The database is older than the code; `houqin db upgrade` brings it up to date."""


def check_current(url: str) -> None:
    """Refuse to serve a database whose schema is not the newest."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from models.db import make_engine

    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
    if current != head:
        raise SchemaOutOfDate(
            f"the database is at schema {current or 'none'}, the code needs {head}: "
            "run `houqin db upgrade` first"
        )
