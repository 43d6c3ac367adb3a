"""Fixtures shared by the whole suite: a database per test on SQLite, and on PostgreSQL when
HOUQIN_TEST_DATABASE_URL is set; a settable clock; the web app and its test client."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from models import Base
from models.checklists import sync_builtin_templates
from models.clock import SettableClock
from models.db import make_engine, make_session_factory
from models.photos import PhotoStore
from settings import Settings
from webapp import create_app

PG_URL = os.environ.get("HOUQIN_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]
START = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai, a Monday


@contextmanager
def pg_schema(name: str) -> Iterator[Engine]:
    """An engine confined to a schema of its own, so two test runs never share tables."""
    admin = make_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{name}"'))
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={name}"})
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_engine() -> Iterator[Engine]:
    with pg_schema(f"houqin_test_{os.getpid()}") as engine:
        Base.metadata.create_all(engine)
        yield engine


def _truncate(engine: Engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def sqlite_schema(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite database with every table, built once; each test gets a copy of the file."""
    path = tmp_path_factory.mktemp("schema") / "houqin.db"
    engine = make_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    engine.dispose()
    return path


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh, empty schema for each test."""
    if request.param == "sqlite":
        path = tmp_path / "houqin.db"
        shutil.copyfile(request.getfixturevalue("sqlite_schema"), path)
        engine = make_engine(f"sqlite:///{path}")
        yield engine
        engine.dispose()
    else:
        engine = request.getfixturevalue("pg_engine")
        yield engine
        _truncate(engine)


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(START)


@pytest.fixture
def session(session_factory: sessionmaker[Session], clock: SettableClock) -> Iterator[Session]:
    """A session with the built-in checklists loaded; tests commit when a door must see rows."""
    with session_factory() as session:
        sync_builtin_templates(session, now=clock.now())
        session.commit()
        yield session
        session.rollback()


@pytest.fixture
def store(tmp_path: Path) -> PhotoStore:
    return PhotoStore(tmp_path / "data")


@pytest.fixture
def settings(tmp_path: Path, engine: Engine) -> Settings:
    settings = Settings()
    settings.server.secret_key = "test-secret-key"
    settings.server.base_url = "http://houqin.test"
    settings.database.url = engine.url.render_as_string(hide_password=False)
    settings.storage.data_dir = str(tmp_path / "data")
    return settings


@pytest.fixture
def app(
    settings: Settings,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    session: Session,
) -> Flask:
    app = create_app(settings, session_factory=session_factory, clock=clock)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


CSRF_RE = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1) or match.group(2)


class Auth:
    """Logs a test client in the way a person does: through the login form."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, login: str, password: str = "secret-pass", next_url: str = "") -> None:
        page = self.client.get("/login").get_data(as_text=True)
        response = self.client.post(
            "/login",
            data={
                "csrf_token": csrf_token(page),
                "login": login,
                "password": password,
                "next": next_url,
            },
        )
        assert response.status_code == 302, response.get_data(as_text=True)


@pytest.fixture
def auth(client: FlaskClient) -> Auth:
    return Auth(client)
