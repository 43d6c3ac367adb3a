"""SQLite's tuning: a transaction that writes much at once lets go of the write lock before
its pages are copied back from the WAL."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, event, insert

from models.db import make_engine, make_session_factory, write_heavily

ROWS = [{"id": n, "text": f"{n:08}" * 40} for n in range(20_000)]  # about 7 MB of pages


def _table() -> Table:
    return Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("text", String))


def _writer_gets_in(database: Path) -> bool:
    """Whether another process's writer could take the write lock at once."""
    other = sqlite3.connect(database, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


def test_a_heavy_transaction_copies_its_pages_back_only_after_letting_go_of_the_lock(
    tmp_path: Path,
) -> None:
    database = tmp_path / "houqin.db"
    engine = make_engine(f"sqlite:///{database}", pool_size=1, max_overflow=0)
    table = _table()
    table.metadata.create_all(engine)
    empty = database.stat().st_size
    seen: list[tuple[bool, int]] = []

    # Runs as the connection goes back to the pool, just before the copy back.
    def on_checkin(*_: Any) -> None:
        seen.append((_writer_gets_in(database), database.stat().st_size))

    event.listen(engine, "checkin", on_checkin, insert=True)
    with make_session_factory(engine)() as session:
        write_heavily(session)
        session.execute(insert(table), ROWS)
        assert not _writer_gets_in(database)
        session.commit()

    # Committed, the lock free for others, and the pages still only in the WAL; then copied.
    assert seen == [(True, empty)]
    assert database.stat().st_size > 5_000_000
    event.remove(engine, "checkin", on_checkin)
    grown = database.stat().st_size

    # The same (only) connection, taken again, checkpoints inside its commit as by default.
    with make_session_factory(engine)() as session:
        session.execute(insert(table), [{**row, "id": row["id"] + len(ROWS)} for row in ROWS])
        session.flush()
        assert session.connection().exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
        session.commit()
    assert database.stat().st_size > grown + 5_000_000
    engine.dispose()
