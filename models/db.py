"""Engines and sessions: SQLite in WAL mode by default, PostgreSQL for larger districts."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from sqlalchemy import Engine, create_engine, event
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
        if record.info.pop(CHECKPOINT_ON_CHECKIN, False) and dbapi_connection is not None:
            # The write lock is free again: the WAL goes back into the database file now,
            # beside other writers (PASSIVE waits for none), and the connection is as before.
            try:
                dbapi_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
                dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
                dbapi_connection.execute(f"PRAGMA cache_size={DEFAULT_CACHE_SIZE}")
            except sqlite3.Error:
                # The work is committed; a failing disk shows in the next transaction. The
                # connection is not handed out again with the heavy settings.
                log.warning("the WAL could not be copied back after a heavy write", exc_info=True)
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
CHECKPOINT_ON_CHECKIN = "houqin_checkpoint_on_checkin"
WAL_AUTOCHECKPOINT_PAGES = 1000  # SQLite's default
DEFAULT_CACHE_SIZE = -2000  # SQLite's default: 2 MB
HEAVY_CACHE_SIZE = -65536  # 64 MB, for one transaction that rewrites much of the task table


def write_heavily(session: Session) -> None:
    """Say this transaction writes much at once (the sweep's year-end minute rolls every task
    of a district). On SQLite its commit then copies nothing back from the WAL while it holds
    the write lock, which took most of that minute and made staff's submissions wait: that
    happens once its connection is back in the pool, beside other writers. It also reads with
    a larger page cache meanwhile."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    connection.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
    connection.exec_driver_sql(f"PRAGMA cache_size={HEAVY_CACHE_SIZE}")
    connection.info[CHECKPOINT_ON_CHECKIN] = True


def mark_read_only(session: Session) -> None:
    """Promise the session will only read, so on SQLite it does not queue behind writers."""
    session.connection(execution_options={READ_ONLY: True})


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
