"""Engines and sessions: SQLite in WAL mode by default, PostgreSQL for larger districts."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from typing import Any

from sqlalchemy import CursorResult, Engine, Executable, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)


def make_engine(url: str, **kwargs: Any) -> Engine:
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _tune_sqlite(engine)
    return engine


def _tune_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, a busy timeout, and transactions SQLite runs one writer at a time."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "checkin")
    def on_checkin(dbapi_connection: Any, record: Any) -> None:
        cache_size = record.info.pop(CACHE_SIZE_BEFORE, None)
        if cache_size is not None and dbapi_connection is not None:
            # Back in the pool: the connection keeps only its usual page cache.
            try:
                dbapi_connection.execute(f"PRAGMA cache_size={int(cache_size)}")
            except sqlite3.Error:
                log.warning("a heavy write's connection could not be reset", exc_info=True)
                record.invalidate()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front: a transaction that read first and wrote
        # later would otherwise fail with "database is locked" when another write got in
        # between. Writers queue behind each other for up to busy_timeout instead; work
        # that only reads says so and runs alongside them.
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


READ_ONLY = "houqin_read_only"
CACHE_SIZE_BEFORE = "houqin_cache_size_before"
HEAVY_CACHE_SIZE = -65536  # KiB: 64 MB, for one transaction that rewrites much of the task table


def write_heavily(session: Session) -> None:
    """Say this transaction writes much at once (the sweep's year-end minute rolls every task
    of a district). On SQLite it reads and writes through a 64 MB page cache instead of 2 MB,
    about a tenth less time; its connection has its own cache again once back in the pool."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    if CACHE_SIZE_BEFORE not in connection.info:
        before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
        connection.info[CACHE_SIZE_BEFORE] = before
    connection.exec_driver_sql(f"PRAGMA cache_size={HEAVY_CACHE_SIZE}")


def read_rows(
    session: Session, statement: Executable, values: Mapping[str, Any] | None = None
) -> CursorResult[*tuple[Any, ...]]:
    """Columns, not entities, read on the session's connection in its transaction: a third of
    what `Session.execute` costs, for the reads every scan of a label makes (what is pending
    is flushed first, as the session would)."""
    session.flush()
    return session.connection().execute(statement, values)


def mark_read_only(session: Session) -> None:
    """Promise the session will only read, so on SQLite it does not queue behind writers."""
    session.connection(execution_options={READ_ONLY: True})


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
