"""The clock's door: jobs that open a session, call the domain, commit. One process owns them."""

from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.orm import Session, sessionmaker

from houqin.config import Settings
from models.clock import Clock, SystemClock
from models.db import unit_of_work
from models.trips import sweep_trips

log = logging.getLogger(__name__)


def check_trips(factory: sessionmaker[Session], clock: Clock, within: timedelta) -> int:
    """Alarm for every bus that left and has not confirmed its arrival in time."""
    with unit_of_work(factory) as session:
        late = sweep_trips(session, now=clock.now(), within=within)
    if late:
        log.warning("%d bus trip(s) without an arrival: alerts queued", len(late))
    return len(late)


def build_scheduler(
    settings: Settings,
    factory: sessionmaker[Session],
    *,
    clock: Clock | None = None,
    blocking: bool = False,
) -> BaseScheduler:
    """The jobs, not yet started: in `houqin serve` beside the web app, or alone."""
    scheduler = BlockingScheduler() if blocking else BackgroundScheduler()
    scheduler.add_job(
        check_trips,
        "interval",
        seconds=60,
        args=[
            factory,
            clock or SystemClock(),
            timedelta(minutes=settings.trips.arrival_within_minutes),
        ],
        id="check_trips",
        max_instances=1,
        coalesce=True,
        replace_existing=True,
    )
    return scheduler
