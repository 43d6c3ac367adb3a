"""One database session per request, committed at the edge when the response is a success.

A GET only reads. A POST takes the write lock with its first query (on SQLite, BEGIN
IMMEDIATE), unless its view is marked `@reads_first`: then it reads without the lock while
it does its slow part (a password hash, photos, a spreadsheet) and calls `begin_writing()`
just before it writes, so the lock is held only for the writes themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Response, current_app, g, request
from sqlalchemy.orm import Session, sessionmaker

from models.clock import Clock
from models.db import mark_read_only
from models.photos import PhotoStore
from settings import Settings


def init_app(app: Flask, factory: sessionmaker[Session]) -> None:
    app.extensions["houqin.sessions"] = factory
    app.after_request(_commit_on_success)
    app.teardown_appcontext(_close)


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


def settings() -> Settings:
    return current_app.extensions["houqin.settings"]


def clock() -> Clock:
    return current_app.extensions["houqin.clock"]


def photo_store() -> PhotoStore:
    return current_app.extensions["houqin.photos"]


def _commit_on_success(response: Response) -> Response:
    db = g.get("db")
    if db is not None:
        if response.status_code < 400:
            db.commit()
        else:
            db.rollback()
    return response


def _close(_exc: BaseException | None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.rollback()
        db.close()
