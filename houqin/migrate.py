"""Bring a database to the newest schema with Alembic."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine

from models.catalogue import DEFAULT_LOCALE

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# Called with the connection and the revision after each revision is applied or undone, inside
# the migration's transaction (the migration tests fill the tables between revisions).
AfterEach = Callable[[Connection, str], None]


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(
    engine: Engine,
    *,
    default_locale: str = DEFAULT_LOCALE,
    target: str = "head",
    after_each: AfterEach | None = None,
) -> None:
    """Migrate to the newest schema (or to `target`); districts made before they had a
    language get `default_locale` (the settings' i18n.default_locale)."""
    _migrate(engine, lambda config: command.upgrade(config, target), default_locale, after_each)


def downgrade(engine: Engine, target: str, *, after_each: AfterEach | None = None) -> None:
    """Take the schema back to `target`, as an operator undoing a release would."""
    _migrate(engine, lambda config: command.downgrade(config, target), DEFAULT_LOCALE, after_each)


def version_hooks(after_each: AfterEach | None) -> list[Callable[..., None]]:
    """`after_each` as Alembic's on_version_apply callbacks (migrations/env.py passes them)."""
    if after_each is None:
        return []

    def applied(*, ctx: Any, step: Any, **_: Any) -> None:
        after_each(ctx.connection, step.up_revision_id)

    return [applied]


def _migrate(
    engine: Engine,
    run: Callable[[Config], None],
    default_locale: str,
    after_each: AfterEach | None = None,
) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    config.attributes["on_version_apply"] = version_hooks(after_each)
    with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            # A batch migration rebuilds a table by dropping it, which SQLite's foreign keys
            # refuse while other rows point at it (Alembic's advice: switch them off for the
            # migration, outside its transaction); whether every key still holds is checked.
            _sqlite_pragma(connection, "foreign_keys=OFF")
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                config.attributes["default_locale"] = default_locale
                run(config)
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                    raise RuntimeError("a migration left rows whose foreign keys do not hold")
        finally:
            if sqlite:
                _sqlite_pragma(connection, "foreign_keys=ON")


def _sqlite_pragma(connection: Connection, pragma: str) -> None:
    """Run a PRAGMA on the driver's connection, outside any transaction SQLAlchemy begins."""
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute(f"PRAGMA {pragma}")


class SchemaOutOfDate(RuntimeError):
    """The database is older than the code; `houqin db upgrade` brings it up to date."""


def check_current(url: str) -> None:
    """Refuse to serve a database whose schema is not the newest.

    It only reads, beside the writers: a gunicorn worker started while others write (one
    replacing a worker that died) must not queue for the write lock, time out and so make
    gunicorn stop altogether ("Worker failed to boot")."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from models.db import READ_ONLY, make_engine

    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
    if current != head:
        raise SchemaOutOfDate(
            f"the database is at schema {current or 'none'}, the code needs {head}: "
            "run `houqin db upgrade` first"
        )
