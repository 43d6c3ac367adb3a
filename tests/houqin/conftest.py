"""The demo district, seeded once per worker and database engine: each test reads it in a
session that is rolled back, so no test sees another's changes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from houqin.demo import seed_demo
from models import Base
from models.checklists import sync_builtin_templates
from models.db import make_engine, make_session_factory
from settings import Settings
from tests.conftest import BACKENDS, pg_schema

# 08:30 in Shanghai on a Wednesday: early enough that a history filed "this morning" from
# 09:00 on would lie in the future.
DEMO_NOW = datetime(2026, 12, 2, 0, 30, tzinfo=UTC)


@dataclass(frozen=True)
class SeededDemo:
    engine: Engine
    settings: Settings
    root: Path  # the directory the demo ran in: its label sheet is under var/


def _seeded(engine: Engine, root: Path) -> SeededDemo:
    Base.metadata.create_all(engine)
    settings = Settings()
    settings.server.secret_key = "test-secret-key"
    settings.server.base_url = "http://houqin.test"
    settings.database.url = engine.url.render_as_string(hide_password=False)
    settings.storage.data_dir = str(root / "data")
    with pytest.MonkeyPatch.context() as patch, make_session_factory(engine)() as session:
        patch.chdir(root)  # the label sheet goes to ./var/
        sync_builtin_templates(session, now=DEMO_NOW)
        seed_demo(session, settings, now=DEMO_NOW)
        session.commit()
    return SeededDemo(engine, settings, root)


@pytest.fixture(scope="session", params=BACKENDS)
def seeded_demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SeededDemo]:
    root = tmp_path_factory.mktemp(f"demo-{request.param}")
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{root / 'houqin.db'}")
        yield _seeded(engine, root)
        engine.dispose()
    else:
        with pg_schema(f"houqin_demo_{os.getpid()}") as engine:
            yield _seeded(engine, root)


@pytest.fixture
def demo(seeded_demo: SeededDemo) -> Iterator[Session]:
    """A session on the seeded demo; whatever a test changes is rolled back."""
    with make_session_factory(seeded_demo.engine)() as session:
        yield session
        session.rollback()
