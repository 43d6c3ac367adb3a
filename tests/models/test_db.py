"""SQLite's tuning: a transaction that writes much at once gets a large page cache, and only
it: the connection goes back to the pool with its own. Reads of plain columns see what the
session holds and has not yet written."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text
from sqlalchemy.orm import Session

from models.db import HEAVY_CACHE_SIZE, make_engine, make_session_factory, read_rows, write_heavily
from models.org import District

ROWS = [{"id": n, "text": f"{n:08}" * 40} for n in range(2_000)]


def _cache_size(session: Session) -> int:
    return int(session.connection().exec_driver_sql("PRAGMA cache_size").scalar() or 0)


def test_a_heavy_write_has_a_large_page_cache_and_its_connection_its_own_again_after(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'houqin.db'}", pool_size=1, max_overflow=0)
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("text", String))
    table.metadata.create_all(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        usual = _cache_size(session)
        session.rollback()

    with factory() as session:
        write_heavily(session)
        write_heavily(session)  # said twice: still given back as it was
        assert _cache_size(session) == HEAVY_CACHE_SIZE != usual
        session.execute(insert(table), ROWS)
        session.commit()
    with factory() as session:  # the pool's only connection, taken again
        assert _cache_size(session) == usual
        assert session.scalar(text("SELECT count(*) FROM t")) == len(ROWS)

    with factory() as session:
        write_heavily(session)
        session.execute(insert(table), [{**row, "id": row["id"] + len(ROWS)} for row in ROWS])
        session.rollback()
    with factory() as session:
        assert _cache_size(session) == usual
        assert session.scalar(text("SELECT count(*) FROM t")) == len(ROWS)
    engine.dispose()


def test_a_read_of_columns_sees_what_the_session_has_not_written_yet(session: Session) -> None:
    session.add(District(code="NEW", name="新区", timezone="Asia/Shanghai"))
    codes = read_rows(session, select(District.code).where(District.code == "NEW")).scalars()
    assert list(codes) == ["NEW"]
    session.rollback()
    assert read_rows(session, select(District.code).where(District.code == "NEW")).all() == []
