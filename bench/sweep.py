"""Times one sweep of a district of 200 schools x 100 assets on SQLite, with 1 and 3 years of
history behind it; the 3-year sweep should cost what the 1-year one does.

The world: one district (Asia/Shanghai), 200 schools, each with a school administrator and five
staff who are responsible for its 100 assets (40 extinguishers, 20 water dispensers, 25 dorm
rooms, 2 canteens, 3 buses, 5 meters, 2 broadcast sets, 3 logistics offices), and the district's
built-in duties: 151 (duty, asset) pairs a school, 30,200 in all. The history is what a running
system would have left: about one record per asset per occurrence of each duty (monthly
extinguisher checks, weekly dorm disinfection, daily canteen and bus checks on weekdays, a
dispenser every 7 days, ...; one occurrence in 20 missed, without a record) and a past task for
each occurrence, done or missed, no longer current: about 1 million records and as many tasks a
year. The rows are generated inside SQLite (INSERT ... SELECT over the windows the real calendar
cuts), and the two worlds are built side by side, in about a minute and a half. One sweep at
23:50 on Friday 31 December 2027 then starts the current task of every pair (done when its
record is there), as a running system would have them.

`sweep_seconds_*` time an ordinary school night: the sweep at 00:00:20 on Tuesday 4 January
2028, after Monday was swept hour by hour, when the day's canteen and bus checks close and the
next ones start (and the dispensers due roll on). `sweep_year_end_*` time the heaviest minute
of the year, 00:00:20 on Saturday 1 January 2028, Shanghai time: the end of a Friday, a month,
a quarter and a year, so every calendar task of the district closes and the next one starts
(monthly, quarterly and yearly checklists, Friday's canteen and bus checks, the weekly dorm
disinfection), 30,800 in all; an ordinary month end on a weekday closes a little under half as
many. The goal for it is under a second (YEAR_END_GOAL_SECONDS), printed beside the figure; as
the machine may be shared, the CPU seconds of the same runs are printed too. Each timed sweep
(sweep() and its commit, as scheduler.run_sweep runs them: a heavy write, models.db) runs on a
fresh copy of the prepared database file, written out to disk before the clock starts (a
running system's file is not a gigabyte just copied, which SQLite's sync after the commit
would otherwise wait for), through one long-lived engine as in the scheduler's process; the
median of 3 runs is printed. The commit includes SQLite's automatic checkpoint
(the WAL copied back into the file), which runs once the write lock is released. Also timed:
the quiet minute (23:55 on 31 December, nothing due), which is what every other minute costs,
and the digest minute (07:30:20 on 1 January, after the heavy one, on the same copy), when each
school's administrators and the district's get the summary.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from models import Base
from models.assets import Asset, AssetKind
from models.base import UTCDateTime
from models.checklists import latest_template, sync_builtin_templates
from models.db import make_engine, make_session_factory, write_heavily
from models.duties import Duty, Task, TaskState, district_calendar, ensure_builtin_duties
from models.org import District, School
from models.people import Person, Role, RoleGrant
from models.records import Record
from models.recurrence import Frequency, Window
from models.sweep import SweepPolicy, SweepReport, sweep
from models.window_rolls import TASK_COLUMNS_SET_BY_SELECT

SCHOOLS = 200
MIX = {
    AssetKind.EXTINGUISHER: 40,
    AssetKind.WATER_DISPENSER: 20,
    AssetKind.DORM_ROOM: 25,
    AssetKind.CANTEEN: 2,
    AssetKind.BUS: 3,
    AssetKind.METER: 5,
    AssetKind.BROADCAST: 2,
    AssetKind.SCHOOL_OFFICE: 3,
}
STAFF = (Role.INSPECTOR, Role.DORM_STAFF, Role.CANTEEN_STAFF, Role.TEACHER, Role.INSPECTOR)
# Which of a school's five staff looks after each kind of asset.
RESPONSIBLE = {
    AssetKind.EXTINGUISHER: 0,
    AssetKind.METER: 0,
    AssetKind.BROADCAST: 0,
    AssetKind.DORM_ROOM: 1,
    AssetKind.CANTEEN: 2,
    AssetKind.WATER_DISPENSER: 3,
    AssetKind.BUS: 4,
    AssetKind.SCHOOL_OFFICE: 4,
}
ZONE = ZoneInfo("Asia/Shanghai")
MOMENT = datetime(2028, 1, 1, 0, 0, 20, tzinfo=ZONE).astimezone(UTC)
WARM_UP = datetime(2027, 12, 31, 23, 50, tzinfo=ZONE).astimezone(UTC)
QUIET = datetime(2027, 12, 31, 23, 55, tzinfo=ZONE).astimezone(UTC)
DIGEST = datetime(2028, 1, 1, 7, 30, 20, tzinfo=ZONE).astimezone(UTC)
# An ordinary school night: Monday 3 January 2028 has been swept hour by hour (untimed), and
# the sweep just after midnight rolls the day's canteen and bus checks into Tuesday's.
ORDINARY = datetime(2028, 1, 4, 0, 0, 20, tzinfo=ZONE).astimezone(UTC)
MISSED_ONE_IN = 20
FILED_AT = clock_time(10, 0)  # every-N-days duties are done at 10:00
JITTER_MINUTES = 30  # records of one occurrence spread over half an hour, by asset
ID_STRIDE = 100_000  # record id = occurrence * stride + asset id: unique, in time order
REPEAT = 3
YEAR_END_GOAL_SECONDS = 1.0

# The occurrences the history is made of, one row per (duty, window); joined to the assets
# of the duty's kind inside SQLite to make the records and past tasks.
_occurrences = Table(
    "bench_occurrence",
    MetaData(),
    Column("seq", Integer, primary_key=True),
    Column("duty_id", Integer),
    Column("template_id", Integer),
    Column("template_key", String(64)),
    Column("asset_kind", String(32)),
    # Every N days: only the assets whose id % 7 is this phase; None for calendar duties.
    Column("phase", Integer),
    Column("opens_at", UTCDateTime()),
    Column("due_at", UTCDateTime()),
    Column("closes_at", UTCDateTime()),
    Column("submitted_at", UTCDateTime()),
    Column("every_n", Boolean),  # never missed, filed at submitted_at exactly
    Column("filed", Boolean),  # its records exist (filed before the warm-up sweep)
    Column("past", Boolean),  # its window closed before the warm-up sweep: a past task
    prefixes=["TEMPORARY"],
)


@dataclass
class World:
    path: Path
    years: int
    records: int
    tasks: int
    seconds: float


def build_world(path: Path, years: int) -> World:
    """The district with `years` of history ending at MOMENT, its current tasks started."""
    started = time.perf_counter()
    for stale in _files(path):
        stale.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    since = datetime(MOMENT.astimezone(ZONE).year - years, 1, 1, tzinfo=ZONE).astimezone(UTC)
    with make_session_factory(engine)() as session:
        session.execute(text("PRAGMA cache_size=-1000000"))  # setup only: 1 GB of page cache
        sync_builtin_templates(session, now=since)
        _people_and_assets(session, since)
        district = session.get_one(District, 1)
        ensure_builtin_duties(session, district, now=since, policy=SweepPolicy().defaults)
        session.commit()
        _history(session, since)
        sweep(session, now=WARM_UP, policy=SweepPolicy())
        session.commit()
        records = session.scalar(select(func.count()).select_from(Record)) or 0
        tasks = session.scalar(select(func.count()).select_from(Task)) or 0
    raw = engine.raw_connection()  # outside any transaction, so the whole WAL goes in
    raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw.close()
    engine.dispose()
    return World(path, years, records, tasks, time.perf_counter() - started)


def _people_and_assets(session: Session, now: datetime) -> None:
    """One district administrator; a school administrator and five staff a school; 100
    assets a school, each looked after by one of its staff. Ids are given, not read back."""
    session.execute(
        insert(District.__table__),
        [{"id": 1, "code": "BENCH", "name": "示范区", "timezone": ZONE.key}],
    )
    session.execute(
        insert(School.__table__),
        [
            {"id": s, "district_id": 1, "code": f"S{s:03d}", "name": f"第{s}学校"}
            for s in range(1, SCHOOLS + 1)
        ],
    )
    people = [_person(1, "district-admin", now)]
    grants = [{"person_id": 1, "role": Role.DISTRICT_ADMIN, "district_id": 1, "school_id": None}]
    assets = []
    for s in range(1, SCHOOLS + 1):
        admin = _person_id(s, 0)
        people.append(_person(admin, f"s{s:03d}-admin", now))
        grants.append(
            {"person_id": admin, "role": Role.SCHOOL_ADMIN, "district_id": 1, "school_id": s}
        )
        for n, role in enumerate(STAFF, start=1):
            people.append(_person(_person_id(s, n), f"s{s:03d}-staff{n}", now))
            grants.append(
                {"person_id": _person_id(s, n), "role": role, "district_id": 1, "school_id": s}
            )
        number = 0
        for kind, count in MIX.items():
            for k in range(1, count + 1):
                number += 1
                assets.append(
                    {
                        "id": (s - 1) * sum(MIX.values()) + number,
                        "school_id": s,
                        "location_id": None,
                        "kind": kind,
                        "code": f"{kind.value[:3].upper()}-{k:03d}",
                        "name": f"{kind.value} {k}",
                        "attributes": {},
                        "responsible_id": _person_id(s, RESPONSIBLE[kind] + 1),
                        "created_at": now,
                    }
                )
    session.execute(insert(Person.__table__), people)
    session.execute(insert(RoleGrant.__table__), grants)
    session.execute(insert(Asset.__table__), assets)


def _person_id(school: int, n: int) -> int:
    return 1 + (school - 1) * (1 + len(STAFF)) + n + 1


def _person(person_id: int, username: str, now: datetime) -> dict[str, object]:
    return {
        "id": person_id,
        "username": username,
        "phone": None,
        "display_name": username,
        "password_hash": "bench",
        "locale": None,
        "active": True,
        "must_change_password": False,
        "password_expires_at": None,
        "created_at": now,
    }


def _history(session: Session, since: datetime) -> None:
    """Records and past tasks from `since` to the warm-up sweep, one duty at a time."""
    occurrences = sorted(
        _occurrence_rows(session, since), key=lambda r: (r["submitted_at"], r["duty_id"])
    )
    for seq, row in enumerate(occurrences, start=1):
        row["seq"] = seq
    _occurrences.create(session.connection())
    session.execute(insert(_occurrences), occurrences)
    occ, asset = _occurrences.c, Asset.__table__.c
    pairs = (
        select()
        .select_from(_occurrences)
        .join(
            Asset.__table__,
            and_(
                asset.kind == occ.asset_kind,
                or_(occ.phase.is_(None), asset.id % 7 == occ.phase),
            ),
        )
    )
    record_id = occ.seq * ID_STRIDE + asset.id
    missed = and_(~occ.every_n, (asset.id + occ.seq) % MISSED_ONE_IN == 0)
    filed_at = case(
        (occ.every_n, occ.submitted_at),
        # SQLite's datetime() drops the microseconds SQLAlchemy's format keeps.
        else_=func.datetime(
            occ.submitted_at,
            "-" + (asset.id % JITTER_MINUTES).cast(String) + " minutes",
            type_=String,
        )
        + ".000000",
    )
    duty_ids = session.scalars(select(Duty.id).order_by(Duty.id)).all()
    for duty_id in duty_ids:
        records = (
            pairs.add_columns(
                record_id,
                asset.id,
                asset.school_id,
                asset.kind,
                occ.template_id,
                literal("{}"),
                literal("[]"),
                literal("pass"),
                asset.responsible_id,
                filed_at,
                literal("web"),
                "bench-" + record_id.cast(String),
            )
            .where(occ.duty_id == duty_id, occ.filed, ~missed)
            .order_by(occ.seq, asset.id)
        )
        session.execute(
            insert(Record.__table__).from_select(
                [
                    "id",
                    "asset_id",
                    "school_id",
                    "asset_kind",
                    "template_id",
                    "answers",
                    "failed_items",
                    "result",
                    "submitted_by_id",
                    "submitted_at",
                    "channel",
                    "idempotency_key",
                ],
                records,
            )
        )
        tasks = (
            pairs.add_columns(
                occ.duty_id,
                asset.id,
                asset.school_id,
                occ.template_key,
                occ.opens_at,
                occ.due_at,
                occ.closes_at,
                case(
                    (missed, literal(TaskState.MISSED.value)), else_=literal(TaskState.DONE.value)
                ),
                literal(False),
                case((missed, null()), else_=record_id),
                case((missed, null()), else_=filed_at),
                null(),
            )
            .where(occ.duty_id == duty_id, occ.past)
            .order_by(occ.seq, asset.id)
        )
        session.execute(insert(Task.__table__).from_select(list(TASK_COLUMNS_SET_BY_SELECT), tasks))
        session.commit()
    _occurrences.drop(session.connection())
    session.commit()


def _occurrence_rows(session: Session, since: datetime) -> Iterator[dict[str, object]]:
    """Each duty's windows from `since` up to the warm-up sweep, as the real calendar cuts
    them; every-N-days duties get one chain of windows per phase of the asset id."""
    calendar = district_calendar(session, session.get_one(District, 1))
    for duty in session.scalars(select(Duty).order_by(Duty.id)):
        rule = duty.recurrence
        template = latest_template(session, duty.template_key, district_id=duty.district_id)
        assert template is not None
        common = {
            "duty_id": duty.id,
            "template_id": template.id,
            "template_key": duty.template_key,
            "asset_kind": duty.asset_kind,
        }
        if rule.frequency == Frequency.EVERY_N_DAYS:
            assert rule.every_days == 7  # the phases are asset id % 7
            for phase in range(7):
                day = since.astimezone(ZONE).date() + timedelta(days=phase)
                previous = None
                while (done := calendar.at(day, FILED_AT)) < WARM_UP:
                    opens = previous or done - timedelta(days=rule.every_days)
                    window = calendar.window_since(rule, opens)
                    yield common | {
                        "phase": phase,
                        "opens_at": opens,
                        "due_at": window.due_at,
                        "closes_at": done,  # mark_done closes an every-N-days window
                        "submitted_at": done,
                        "every_n": True,
                        "filed": True,
                        "past": True,
                    }
                    previous, day = done, day + timedelta(days=rule.every_days)
            continue
        window: Window | None = calendar.window_at(rule, since)
        while window is not None and window.opens_at < WARM_UP:
            submitted = window.due_at - timedelta(minutes=JITTER_MINUTES)
            if submitted >= since:
                yield common | {
                    "phase": None,
                    "opens_at": window.opens_at,
                    "due_at": window.due_at,
                    "closes_at": window.closes_at,
                    "submitted_at": submitted,
                    "every_n": False,
                    "filed": submitted < WARM_UP,
                    "past": window.closes_at <= WARM_UP,
                }
            window = calendar.window_after(rule, window)


# --- timing ------------------------------------------------------------------------------------


def _files(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def _fresh_copy(engine: Engine, prepared: Path, live: Path) -> None:
    engine.dispose()
    for stale in _files(live):
        stale.unlink(missing_ok=True)
    shutil.copyfile(prepared, live)
    # On disk before the clock starts, as a running system's file is: else the checkpoint's
    # sync would also wait for the whole copy to be written out.
    descriptor = os.open(live, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@dataclass
class Run:
    seconds: float
    cpu_seconds: float
    report: SweepReport


def _timed_sweep(engine: Engine, now: datetime) -> Run:
    """One sweep as the scheduler runs it (scheduler.run_sweep: a heavy write, models.db),
    until its commit has returned (SQLite's copy of the WAL back into the file included)."""
    with make_session_factory(engine)() as session:
        start, cpu = time.perf_counter(), time.process_time()
        write_heavily(session)
        report = sweep(session, now=now, policy=SweepPolicy())
        session.commit()
        return Run(time.perf_counter() - start, time.process_time() - cpu, report)


def _median(runs: list[Run]) -> Run:
    return sorted(runs, key=lambda run: run.seconds)[len(runs) // 2]


@dataclass
class Timings:
    heavy: Run
    quiet: Run
    digest: Run
    ordinary: Run


def _measure(engine: Engine, prepared: Path, live: Path) -> Timings:
    """Medians of REPEAT runs: the quiet minute (which changes nothing) on one copy; the
    heavy minute on a fresh copy each time, followed on that copy by the digest minute."""
    _fresh_copy(engine, prepared, live)
    quiet = [_timed_sweep(engine, QUIET) for _ in range(REPEAT)]
    for run in quiet:
        assert run.report.started == run.report.closed == len(run.report.queued) == 0, run
    heavy, digest, ordinary = [], [], []
    for _ in range(REPEAT):
        _fresh_copy(engine, prepared, live)
        heavy.append(_timed_sweep(engine, MOMENT))
        digest.append(_timed_sweep(engine, DIGEST))
        moment = DIGEST
        while moment < ORDINARY - timedelta(hours=1):
            moment += timedelta(hours=1)
            _timed_sweep(engine, moment)  # the scheduler kept running: untimed
        ordinary.append(_timed_sweep(engine, ORDINARY))
    return Timings(_median(heavy), _median(quiet), _median(digest), _median(ordinary))


def run(root: Path | None = None) -> list[str]:
    """Build both worlds (side by side, one process each), time the sweeps, return the
    `name: value` lines."""
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        base = Path(tmp)
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
            builds = {y: pool.submit(build_world, base / f"sweep-{y}y.db", y) for y in (3, 1)}
            worlds = {years: builds[years].result() for years in (1, 3)}
        return time_worlds(worlds, base / "sweep-live.db")


def time_worlds(worlds: dict[int, World], live: Path) -> list[str]:
    # One engine for every run, as the scheduler keeps one: its statement cache stays warm.
    engine = make_engine(f"sqlite:///{live}")
    try:
        # Untimed sweeps first, so the first timed ones do not pay for compiling statements.
        _fresh_copy(engine, worlds[1].path, live)
        _timed_sweep(engine, MOMENT)
        _timed_sweep(engine, DIGEST)
        timings = {years: _measure(engine, world.path, live) for years, world in worlds.items()}
    finally:
        engine.dispose()
        for stale in _files(live):
            stale.unlink(missing_ok=True)
    one, three = timings[1], timings[3]
    heavy = one.heavy.report
    goal = f"(goal {YEAR_END_GOAL_SECONDS})"
    return [
        f"sweep_seconds_200x100_1y: {one.ordinary.seconds:.3f}",
        f"sweep_seconds_200x100_3y: {three.ordinary.seconds:.3f}",
        f"sweep_history_ratio_3y_1y: {three.ordinary.seconds / one.ordinary.seconds:.2f}",
        f"sweep_ordinary_night_work: started={one.ordinary.report.started}, "
        f"closed={one.ordinary.report.closed}, queued={len(one.ordinary.report.queued)}",
        f"sweep_year_end_seconds_200x100_1y: {one.heavy.seconds:.3f} {goal}",
        f"sweep_year_end_seconds_200x100_3y: {three.heavy.seconds:.3f} {goal}",
        f"sweep_year_end_history_ratio_3y_1y: {three.heavy.seconds / one.heavy.seconds:.2f}",
        f"sweep_year_end_cpu_seconds_200x100: 1y={one.heavy.cpu_seconds:.3f}, "
        f"3y={three.heavy.cpu_seconds:.3f}",
        f"sweep_quiet_minute_seconds_200x100_1y: {one.quiet.seconds:.3f}",
        f"sweep_quiet_minute_seconds_200x100_3y: {three.quiet.seconds:.3f}",
        f"sweep_digest_minute_seconds_200x100_1y: {one.digest.seconds:.3f}",
        f"sweep_digest_minute_seconds_200x100_3y: {three.digest.seconds:.3f}",
        f"sweep_year_end_work_200x100: started={heavy.started}, closed={heavy.closed}, "
        f"queued={len(heavy.queued)}; digest minute queued={len(one.digest.report.queued)}",
        "sweep_history_rows: "
        + ", ".join(f"{y}y={w.records} records+{w.tasks} tasks" for y, w in worlds.items()),
        "sweep_setup_seconds: "
        + ", ".join(f"{y}y={w.seconds:.0f}" for y, w in worlds.items())
        + " (built side by side)",
    ]


def main() -> None:
    for line in run():
        print(line, flush=True)


if __name__ == "__main__":
    main()
