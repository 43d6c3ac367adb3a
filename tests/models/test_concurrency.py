"""Two phones submitting at the same moment: nothing lost, nothing doubled."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import Base
from models.assets import Asset
from models.checklists import sync_builtin_templates
from models.clock import SettableClock
from models.db import make_engine, make_session_factory
from models.people import Person
from models.photos import LocalPhotoStore, PhotoStore, prepare_photo
from models.records import Channel, Record, Submission, Upload, submit_record
from tests.factories import (
    EXTINGUISHER_OK,
    jpeg_bytes,
    make_asset,
    make_person,
    make_school,
    template_for,
)


def _at_once(jobs: list[Callable[[], Submission]]) -> list[Submission]:
    """Run the jobs on threads released together; re-raise the first error."""
    barrier = threading.Barrier(len(jobs))
    results: list[Submission | BaseException] = [None] * len(jobs)  # type: ignore[list-item]

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = jobs[index]()
        except BaseException as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]


def _job(
    factory: sessionmaker[Session],
    clock: SettableClock,
    store: PhotoStore,
    person_id: int,
    asset_id: int,
    key: str,
    photo: bytes,
) -> Callable[[], Submission]:
    def submit() -> Submission:
        with factory() as session:
            result = submit_record(
                session,
                actor=session.get(Person, person_id),
                asset=session.get(Asset, asset_id),
                template=template_for(session, "extinguisher_monthly"),
                answers=EXTINGUISHER_OK,
                uploads=[Upload("photo", photo)],
                key=key,
                channel=Channel.WEB,
                clock=clock,
                store=store,
            )
            session.commit()
            return result

    return submit


def _prepare(session: Session, clock: SettableClock) -> tuple[int, list[int]]:
    school = make_school(session)
    inspector = make_person(session, clock, school)
    assets = [make_asset(session, clock, school, code=f"MHQ-{n:03d}").id for n in range(4)]
    session.commit()
    return inspector.id, assets


def test_simultaneous_records_from_four_phones_all_land(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    store: PhotoStore,
) -> None:
    person, assets = _prepare(session, clock)
    jobs = [
        _job(session_factory, clock, store, person, asset, f"phone-{n:04d}", jpeg_bytes(color=c))
        for n, (asset, c) in enumerate(zip(assets, ["red", "green", "blue", "gray"], strict=True))
    ]

    results = _at_once(jobs)

    assert all(r.created for r in results)
    assert session.scalar(select(func.count()).select_from(Record)) == 4


def test_the_same_submission_arriving_twice_at_once_is_one_record(
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    store: PhotoStore,
) -> None:
    person, assets = _prepare(session, clock)
    photo = jpeg_bytes()
    jobs = [
        _job(session_factory, clock, store, person, assets[0], "retry-0001", photo)
        for _ in range(3)
    ]

    results = _at_once(jobs)

    assert sorted(r.created for r in results) == [False, False, True]
    assert len({r.record.id for r in results}) == 1
    assert session.scalar(select(func.count()).select_from(Record)) == 1


class _LockWatchingStore(LocalPhotoStore):
    """A photo store that, at every file it writes, tries to take SQLite's write lock from
    another connection without waiting: it succeeds only while the submission holds none."""

    def __init__(self, root: Path, database: Path) -> None:
        super().__init__(root)
        self.database = database
        self.writes_under_lock = 0
        self.writes = 0

    def put(self, key: str, data: bytes) -> None:
        if self.path(key).exists():
            return
        self.writes += 1
        other = sqlite3.connect(self.database, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.rollback()
        except sqlite3.OperationalError:
            self.writes_under_lock += 1
        finally:
            other.close()
        super().put(key, data)


def test_a_photo_prepared_by_the_door_costs_the_write_transaction_no_disk_write(
    tmp_path: Path, clock: SettableClock
) -> None:
    """As the web form and the bot do: the photo is prepared, then the record is filed."""
    path = tmp_path / "lock.db"
    engine = make_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        sync_builtin_templates(session, now=clock.now())
        person, assets = _prepare(session, clock)
    store = _LockWatchingStore(tmp_path / "data", path)
    photo = prepare_photo(jpeg_bytes(color="red"), store)
    with factory() as session:
        submit_record(
            session,
            actor=session.get(Person, person),
            asset=session.get(Asset, assets[0]),
            template=template_for(session, "extinguisher_monthly"),
            answers=EXTINGUISHER_OK,
            uploads=[Upload("photo", b"", processed=photo)],
            key="lock-0001",
            channel=Channel.WEB,
            clock=clock,
            store=store,
        )
        session.commit()
    engine.dispose()

    assert store.writes == 2  # the photo and its thumbnail
    assert store.writes_under_lock == 0
