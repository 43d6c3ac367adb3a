"""Times one audit entry written (`models.audit.audit` and its flush) on a SQLite file beside
the floor: the same row as one bare Core INSERT. Counts the statements an entry costs, which
should be one INSERT and nothing else (no read of the actor, the target or the district).

Prints `audit_entry_ms:`, `audit_floor_ms:`, `audit_ratio_to_floor:` and
`audit_statements_per_entry:`."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert

from models import Base
from models.audit import AuditEntry, Origin, audit, set_origin
from models.db import make_engine, make_session_factory
from models.org import District, School
from models.people import Person, Role, create_person, grant_role

COUNT = 500
NOW = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)


def run() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        Base.metadata.create_all(engine)
        factory = make_session_factory(engine)
        statements: list[str] = []

        def count(*args: Any) -> None:
            statements.append(str(args[2]).split()[0])

        with factory() as session:
            school = School(district=District(code="D1", name="示范区"), code="S1", name="实验小学")
            person = create_person(
                session, username="admin", display_name="管理员", password="x" * 12, now=NOW
            )
            grant_role(session, person, Role.SCHOOL_ADMIN, school)
            session.commit()
            set_origin(session, Origin(channel="web", address="10.0.0.1", agent="Firefox"))
            actor = session.get(Person, person.id)
            assert actor is not None
            assert actor.grants  # loaded, as a request's current user is
            entry_ms, floor_ms = [], []
            event.listen(engine, "before_cursor_execute", count)
            for n in range(COUNT):
                start = time.perf_counter()
                audit(session, actor, "person.edited", actor, {"n": n}, {"n": n + 1}, now=NOW)
                session.flush()
                entry_ms.append((time.perf_counter() - start) * 1000)
            event.remove(engine, "before_cursor_execute", count)
            row = {
                "district_id": school.district_id,
                "actor_id": actor.id,
                "actor_label": "管理员",
                "at": NOW,
                "channel": "web",
                "address": "10.0.0.1",
                "agent": "Firefox",
                "action": "person.edited",
                "target_kind": "person",
                "target_id": actor.id,
                "target_label": "管理员",
                "before": {"n": 0},
                "after": {"n": 1},
            }
            for _ in range(COUNT):
                start = time.perf_counter()
                session.execute(insert(AuditEntry).values(row))
                floor_ms.append((time.perf_counter() - start) * 1000)
            session.rollback()
        engine.dispose()
    entry, floor = statistics.median(entry_ms), statistics.median(floor_ms)
    yield f"audit_entry_ms: {entry:.3f}"
    yield f"audit_floor_ms: {floor:.3f}"
    yield f"audit_ratio_to_floor: {entry / floor:.2f}"
    yield f"audit_statements_per_entry: {len(statements) / COUNT:.2f}"
    yield f"audit_inserts_per_entry: {statements.count('INSERT') / COUNT:.2f}"


def main() -> None:
    for line in run():
        print(line, flush=True)


if __name__ == "__main__":
    main()
