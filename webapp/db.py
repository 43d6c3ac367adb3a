"""One database session per request, under the rule of every door (models/unit_of_work.py).

The request's work is committed once its response is made, unless an exception escaped the
view: then it is rolled back before any error page is drawn, so an `abort(404)`, a refused
CSRF token or a bug commits nothing the view had flushed. A form shown again with what the
domain refused (a 422 next to the field) is an answer, not an escape: it is committed, with
whatever the refusal meant to keep (an overloaded bus's alert, a wrong password's count).
Nothing else commits: no view calls `commit()`.

A GET only reads. A POST takes the write lock with its first query (on SQLite, BEGIN
IMMEDIATE), unless its view is marked `@reads_first`: then it reads without the lock while
it does its slow part (a password hash, photos, a spreadsheet) and calls `begin_writing()`
just before it writes, so the lock is held only for the writes themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from flask import Flask, Response, current_app, g, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.exceptions import HTTPException

from models.audit import Origin, set_origin
from models.clock import Clock
from models.db import mark_read_only
from models.photos import PhotoStore
from models.public_reports import ReportLimits
from settings import Settings


class App(Flask):
    """Flask, with the request's work rolled back as soon as an exception escapes a view."""

    def handle_user_exception(self, e: Exception) -> HTTPException | ResponseReturnValue:
        _discard()
        return super().handle_user_exception(e)

    def handle_exception(self, e: Exception) -> Response:
        _discard()
        return super().handle_exception(e)


def init_app(app: App, factory: sessionmaker[Session]) -> None:
    app.extensions["houqin.sessions"] = factory
    app.after_request(_commit)
    app.teardown_appcontext(_close)


log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., object])
READS_FIRST = "houqin_reads_first"


def reads_first(view: F) -> F:
    """Mark a view that reads (and does slow work) before it calls `begin_writing()`."""
    setattr(view, READS_FIRST, True)
    return view


def _reads_first() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, READS_FIRST, False))


def session() -> Session:
    if "db" not in g:
        g.db = current_app.extensions["houqin.sessions"]()
        set_origin(
            g.db,
            Origin(
                channel="web",
                address=request.remote_addr or "",
                agent=request.user_agent.string,
            ),
        )
        g.db_reading = request.method in ("GET", "HEAD") or _reads_first()
        if g.db_reading:
            mark_read_only(g.db)
    return g.db


def begin_writing() -> Session:
    """End the request's reading part and start its write transaction.

    What was read is reloaded on its next use, inside the write transaction, so nothing
    decided on stale rows is written: the domain's checks run again on current data.
    """
    db = session()
    if g.get("db_reading"):
        db.rollback()
        g.db_reading = False
    return db


def write_after_commit(work: Callable[[Session], None]) -> None:
    """Bookkeeping (a login seen) written in a short transaction of its own once the
    request's work is committed: a page that only reads writes it without holding a lock
    while it reads, and a failure to write it never fails the page."""
    g.setdefault("db_after_commit", []).append(work)


def settings() -> Settings:
    return current_app.extensions["houqin.settings"]


def implausible_within() -> timedelta:
    """How soon after their last record, at another asset, a person's record looks
    implausible (config ledgers.implausible_within_seconds)."""
    return timedelta(seconds=settings().ledgers.implausible_within_seconds)


def photo_older_than() -> timedelta:
    """How long before its record a photo may have been captured before the record looks
    implausible (config ledgers.photo_older_than_minutes; 0: never)."""
    return timedelta(minutes=settings().ledgers.photo_older_than_minutes)


def report_limits() -> ReportLimits:
    """How many reports without an account are taken (config [reports])."""
    reports = settings().reports
    return ReportLimits(
        per_label_per_hour=reports.public_per_label_per_hour,
        per_address_per_day=reports.public_per_address_per_day,
    )


def clock() -> Clock:
    return current_app.extensions["houqin.clock"]


def photo_store() -> PhotoStore:
    return current_app.extensions["houqin.photos"]


def _discard() -> None:
    """An exception escaped: the request's work is undone, and its error page commits nothing."""
    g.db_discarded = True
    db = g.get("db")
    if db is not None:
        db.rollback()


def _commit(response: Response) -> Response:
    db = g.get("db")
    if db is not None:
        if g.get("db_discarded"):
            db.rollback()
        else:
            db.commit()
    for work in g.pop("db_after_commit", []):
        try:
            with current_app.extensions["houqin.sessions"]() as own:
                work(own)
                own.commit()
        except SQLAlchemyError:
            log.warning("bookkeeping after %s %s not written", request.method, request.path)
    return response


def _close(_exc: BaseException | None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.rollback()
        db.close()
