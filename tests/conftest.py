"""Fixtures shared by the whole suite: a database per test on SQLite, and on PostgreSQL when
HOUQIN_TEST_DATABASE_URL is set; a settable clock; the web app and its test client."""

from __future__ import annotations

import os
import re
import shutil
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.routing import Rule

import models.people
from models import Base
from models.checklists import sync_builtin_templates
from models.clock import SettableClock
from models.db import make_engine, make_session_factory
from models.object_store import ObjectStoreAddress
from models.photos import LocalPhotoStore
from settings import Settings
from webapp import create_app

PG_URL = os.environ.get("HOUQIN_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]
START = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai, a Monday


# Scrypt at n = 128: a login costs microseconds instead of 80 ms (the shipped cost is checked
# once, in tests/models/test_people.py).
TEST_PASSWORD_HASH = "scrypt:128:8:1"


@pytest.fixture(scope="session", autouse=True)
def shipped_password_hash() -> Iterator[str]:
    """The password hash Houqin ships with; every other test hashes cheaply."""
    shipped = models.people.PASSWORD_HASH_METHOD
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(models.people, "PASSWORD_HASH_METHOD", TEST_PASSWORD_HASH)
        yield shipped


@pytest.fixture(scope="session", autouse=True)
def url_builders_compiled_once() -> Iterator[None]:
    """Every test's app would compile its routes' URL builders anew, 85 ms an app: they are
    compiled once per test process. A builder reads its rule's converters only when called, so
    one serves the same rule in every app."""
    compile_builder = Rule._compile_builder
    built: dict[tuple[object, ...], Any] = {}

    def compiled_once(rule: Rule, append_unknown: bool = True) -> Any:
        defaults = tuple(sorted((k, repr(v)) for k, v in (rule.defaults or {}).items()))
        key = (rule.rule, append_unknown, tuple(rule._trace), defaults)
        if key not in built:
            built[key] = compile_builder(rule, append_unknown)
        return built[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Rule, "_compile_builder", compiled_once)
        yield


class CompiledTemplates(BytecodeCache):
    """Templates compiled once per test process, not once per test's app."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = CompiledTemplates()


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


def _seed(engine: Engine) -> None:
    """What every test starts from: the tables, and the built-in checklists as at START."""
    Base.metadata.create_all(engine)
    with make_session_factory(engine)() as session:
        sync_builtin_templates(session, now=START)
        session.commit()


SEED_PREFIX = "seed__"


def _pg_reset_sql(engine: Engine) -> str:
    """One script that puts the seeded schema back as it was after `_seed`: every table
    emptied with its foreign keys' triggers off (a DELETE of a test's few rows is far quicker
    than a TRUNCATE of every table), the seeded rows copied back from a snapshot kept beside
    them, and each id sequence set to follow them, as RESTART IDENTITY would."""
    tables = [t.name for t in Base.metadata.sorted_tables]
    with engine.begin() as connection:
        seeded = [
            name
            for name in tables
            if connection.execute(text(f'SELECT EXISTS (SELECT 1 FROM "{name}")')).scalar()
        ]
        for name in seeded:
            connection.execute(text(f'CREATE TABLE "{SEED_PREFIX}{name}" AS TABLE "{name}"'))
        sequences = connection.execute(
            text(
                "SELECT c.relname, a.attname, pg_get_serial_sequence("
                "quote_ident(c.relname), a.attname) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "JOIN pg_attribute a ON a.attrelid = c.oid "
                "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND a.attnum > 0 "
                "AND NOT a.attisdropped "
                "AND pg_get_serial_sequence(quote_ident(c.relname), a.attname) IS NOT NULL"
            )
        ).all()
        following = {
            sequence: (
                connection.execute(
                    text(f'SELECT COALESCE(MAX("{column}"), 0) + 1 FROM "{table}"')
                ).scalar()
                if table in seeded
                else 1
            )
            for table, column, sequence in sequences
            if table in tables
        }
    return "\n".join(
        [
            "SET LOCAL session_replication_role = replica;",
            *(f'DELETE FROM "{name}";' for name in reversed(tables)),
            *(f'INSERT INTO "{name}" SELECT * FROM "{SEED_PREFIX}{name}";' for name in seeded),
            "SELECT "
            + ", ".join(f"setval('{seq}', {value}, false)" for seq, value in following.items())
            + ";",
        ]
    )


@dataclass
class SeededPostgres:
    engine: Engine
    reset_sql: str

    def reset(self) -> None:
        with self.engine.begin() as connection:
            connection.exec_driver_sql(self.reset_sql)


@pytest.fixture(scope="session")
def pg_seeded() -> Iterator[SeededPostgres]:
    with pg_schema(f"houqin_test_{os.getpid()}") as engine:
        _seed(engine)
        yield SeededPostgres(engine, _pg_reset_sql(engine))


@pytest.fixture(scope="session")
def sqlite_schema(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded SQLite database, built once; each test gets a copy of the file."""
    path = tmp_path_factory.mktemp("schema") / "houqin.db"
    engine = make_engine(f"sqlite:///{path}")
    _seed(engine)
    engine.dispose()
    return path


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A schema for each test, as `_seed` left it: the tables and the built-in checklists."""
    if request.param == "sqlite":
        path = tmp_path / "houqin.db"
        shutil.copyfile(request.getfixturevalue("sqlite_schema"), path)
        engine = make_engine(f"sqlite:///{path}")
        yield engine
        engine.dispose()
    else:
        seeded: SeededPostgres = request.getfixturevalue("pg_seeded")
        yield seeded.engine
        seeded.reset()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(START)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session with the built-in checklists loaded (the seeded schema has them); tests
    commit when a door must see rows."""
    with session_factory() as session:
        yield session
        session.rollback()


@pytest.fixture
def store(tmp_path: Path) -> LocalPhotoStore:
    return LocalPhotoStore(tmp_path / "data")


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A local S3-compatible server (moto's), one per test process, on a free port."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_address(s3_endpoint: str) -> ObjectStoreAddress:
    """A new, empty bucket in the local object store, as a district's config would name it."""
    import boto3

    address = ObjectStoreAddress(
        bucket=f"houqin-{uuid.uuid4().hex[:12]}",
        endpoint_url=s3_endpoint,
        region="us-east-1",
        access_key_id="test-key",
        secret_access_key="test-secret",
        prefix="houqin",
        addressing_style="path",
    )
    boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name=address.region,
        aws_access_key_id=address.access_key_id,
        aws_secret_access_key=address.secret_access_key,
    ).create_bucket(Bucket=address.bucket)
    return address


@pytest.fixture
def s3_settings(settings: Settings, s3_address: ObjectStoreAddress) -> Settings:
    """The test settings with photos and documents in the local object store."""
    storage = settings.storage
    storage.kind = "s3"
    storage.s3_endpoint_url = s3_address.endpoint_url
    storage.s3_bucket = s3_address.bucket
    storage.s3_region = s3_address.region
    storage.s3_access_key_id = s3_address.access_key_id
    storage.s3_secret_access_key = s3_address.secret_access_key
    storage.s3_prefix = s3_address.prefix
    storage.s3_addressing_style = s3_address.addressing_style
    return settings


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
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
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
