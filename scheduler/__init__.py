"""The clock's door: each job is one unit of work calling the domain. One process owns them."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.orm import Session, sessionmaker

from models.audit import Origin
from models.clock import Clock, SystemClock
from models.db import write_heavily
from models.duties import DutyDefaults
from models.food_safety import remind_unsigned
from models.sweep import SweepPolicy, SweepReport, sweep
from models.trips import sweep_trips
from models.unit_of_work import unit_of_work
from settings import Settings

log = logging.getLogger(__name__)
SCHEDULER = Origin(channel="scheduler")  # where the jobs' changes come from, for the audit log


def sweep_policy(settings: Settings) -> SweepPolicy:
    schedules = settings.schedules
    return SweepPolicy(
        catch_up_after=timedelta(minutes=schedules.catch_up_after_minutes),
        digest_at=time.fromisoformat(schedules.digest_at),
        defaults=DutyDefaults(
            remind_before=schedules.remind_before_minutes,
            escalate_school_after=schedules.escalate_school_after_hours * 60,
            escalate_district_after=schedules.escalate_district_after_hours * 60,
            dispenser_every_days=schedules.dispenser_every_days,
        ),
    )


def check_trips(factory: sessionmaker[Session], clock: Clock, within: timedelta) -> int:
    """Alarm for every bus that left and has not confirmed its arrival in time."""
    with unit_of_work(factory, SCHEDULER) as session:
        late = sweep_trips(session, now=clock.now(), within=within)
    if late:
        log.warning("%d bus trip(s) without an arrival: alerts queued", len(late))
    return len(late)


def run_sweep(
    factory: sessionmaker[Session], clock: Clock, policy: SweepPolicy, at: datetime | None = None
) -> SweepReport:
    """One sweep of duties, expiries, digests and the food-safety reports to sign, committed
    as one transaction."""
    with unit_of_work(factory, SCHEDULER) as session:
        write_heavily(session)
        report = sweep(session, now=at or clock.now(), policy=policy)
        report.queued.extend(remind_unsigned(session, now=at or clock.now()))
    if report.queued or report.started:
        log.info(
            "sweep: %d task(s) started, %d closed, %d notice(s) queued",
            report.started,
            report.closed,
            len(report.queued),
        )
    return report


def build_scheduler(
    settings: Settings,
    factory: sessionmaker[Session],
    *,
    clock: Clock | None = None,
    blocking: bool = False,
) -> BaseScheduler:
    """The jobs, not yet started: in `houqin serve` beside the web app, or alone."""
    clock = clock or SystemClock()
    scheduler = BlockingScheduler() if blocking else BackgroundScheduler()
    every_minute = {"max_instances": 1, "coalesce": True, "replace_existing": True}
    scheduler.add_job(
        check_trips,
        "interval",
        seconds=60,
        args=[factory, clock, timedelta(minutes=settings.trips.arrival_within_minutes)],
        id="check_trips",
        **every_minute,
    )
    scheduler.add_job(
        run_sweep,
        "interval",
        seconds=settings.schedules.sweep_every_seconds,
        args=[factory, clock, sweep_policy(settings)],
        id="sweep",
        next_run_time=datetime.now().astimezone(),
        **every_minute,
    )
    return scheduler
