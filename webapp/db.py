"""One database session per request, committed at the edge when the response is a success."""

from __future__ import annotations

from flask import Flask, Response, current_app, g, request
from sqlalchemy.orm import Session, sessionmaker

from houqin.config import Settings
from models.clock import Clock
from models.db import mark_read_only
from models.photos import PhotoStore


def init_app(app: Flask, factory: sessionmaker[Session]) -> None:
    app.extensions["houqin.sessions"] = factory
    app.after_request(_commit_on_success)
    app.teardown_appcontext(_close)


def session() -> Session:
    if "db" not in g:
        g.db = current_app.extensions["houqin.sessions"]()
        if request.method in ("GET", "HEAD"):
            mark_read_only(g.db)
    return g.db


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
