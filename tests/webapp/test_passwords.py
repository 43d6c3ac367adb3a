"""Passwords are hashed before the write lock is taken; the password page is throttled too."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

import models.people
from models.clock import SettableClock
from models.db import READ_ONLY
from models.org import School
from models.people import Person, Role
from tests.conftest import Auth, csrf_token
from tests.factories import PASSWORD, make_person, make_school

OTHER_ADDRESS = {"REMOTE_ADDR": "172.16.5.1"}


class HashWatcher:
    """At every password hash, looks whether a write transaction is open: on any backend,
    whether a connection began one; on SQLite also whether another connection can take
    the write lock without waiting."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.writing: set[object] = set()
        self.hashes = 0
        self.under_lock = 0

    def begin(self, connection: Any) -> None:
        if not connection.get_execution_options().get(READ_ONLY):
            self.writing.add(connection)

    def end(self, connection: Any) -> None:
        self.writing.discard(connection)

    def look(self) -> None:
        self.hashes += 1
        locked = bool(self.writing)
        if self.engine.dialect.name == "sqlite":
            other = sqlite3.connect(str(self.engine.url.database), timeout=0)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.rollback()
            except sqlite3.OperationalError:
                locked = True
            finally:
                other.close()
        self.under_lock += locked

    def wrap(self, hashing: Callable[..., Any]) -> Callable[..., Any]:
        def watched(*args: Any, **kwargs: Any) -> Any:
            self.look()
            return hashing(*args, **kwargs)

        return watched


@pytest.fixture
def school(session: Session, clock: SettableClock) -> School:
    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    make_person(session, clock, school, Role.TEACHER, "teacher")
    session.commit()
    return school


@pytest.fixture
def watch(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], HashWatcher]]:
    """Starts watching when called, after the test's own rows (hashed by the factories)."""
    listening: list[HashWatcher] = []

    def start() -> HashWatcher:
        watcher = HashWatcher(engine)
        event.listen(engine, "begin", watcher.begin)
        event.listen(engine, "commit", watcher.end)
        event.listen(engine, "rollback", watcher.end)
        for name in ("generate_password_hash", "check_password_hash"):
            monkeypatch.setattr(models.people, name, watcher.wrap(getattr(models.people, name)))
        listening.append(watcher)
        return watcher

    yield start
    for watcher in listening:
        event.remove(engine, "begin", watcher.begin)
        event.remove(engine, "commit", watcher.end)
        event.remove(engine, "rollback", watcher.end)


def _post(client: FlaskClient, url: str, data: dict[str, Any]) -> TestResponse:
    page = client.get(url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token(page), **data})


def _login(
    client: FlaskClient, login: str, password: str, environ: dict[str, str] | None = None
) -> TestResponse:
    environ = environ or {}
    page = client.get("/login", environ_base=environ).get_data(as_text=True)
    return client.post(
        "/login",
        data={"csrf_token": csrf_token(page), "login": login, "password": password, "next": ""},
        environ_base=environ,
    )


def _person_id(session: Session, username: str) -> int:
    person_id = session.scalar(select(Person.id).where(Person.username == username))
    session.commit()
    assert person_id is not None
    return person_id


def test_choosing_ones_own_password_hashes_outside_the_write_lock(
    client: FlaskClient, app: Any, auth: Auth, school: School, watch: Callable[[], HashWatcher]
) -> None:
    auth.login("teacher")
    watcher = watch()

    changed = _post(
        client, "/password", {"current": PASSWORD, "new": "my-own-pass", "repeat": "my-own-pass"}
    )

    assert changed.status_code == 302
    assert watcher.hashes >= 2  # the current one compared, the new one hashed
    assert watcher.under_lock == 0
    assert _login(app.test_client(), "teacher", "my-own-pass").status_code == 302


def test_an_admin_sets_one_time_passwords_and_sign_in_codes_outside_the_write_lock(
    client: FlaskClient,
    app: Any,
    auth: Auth,
    session: Session,
    school: School,
    watch: Callable[[], HashWatcher],
) -> None:
    url = f"/admin/S1/people/{_person_id(session, 'teacher')}"
    auth.login("admin")
    watcher = watch()

    assert _post(client, url, {"do": "password", "password": "tell-you-once"}).status_code == 302
    sheet = _post(client, url, {"do": "code"}).get_data(as_text=True)

    assert watcher.hashes == 2
    assert watcher.under_lock == 0
    code = re.search(r'<span class="code">([0-9A-Z]{8})</span>', sheet)
    assert code is not None
    assert _login(app.test_client(), "teacher", code.group(1)).status_code == 302


def test_adding_a_person_with_a_password_hashes_outside_the_write_lock(
    client: FlaskClient, app: Any, auth: Auth, school: School, watch: Callable[[], HashWatcher]
) -> None:
    auth.login("admin")
    watcher = watch()

    added = _post(
        client,
        "/admin/S1/people/new",
        {
            "username": "newcomer",
            "display_name": "新同事",
            "phone": "",
            "password": "initial-pass",
            "role": "teacher",
        },
    )

    assert added.status_code == 302
    assert watcher.hashes == 1
    assert watcher.under_lock == 0
    assert _login(app.test_client(), "newcomer", "initial-pass").status_code == 302


def test_guessing_the_current_password_on_the_password_page_is_throttled(
    client: FlaskClient, app: Any, auth: Auth, school: School
) -> None:
    auth.login("teacher")
    for _ in range(5):
        wrong = _post(
            client,
            "/password",
            {"current": "guess-123", "new": "taken-over", "repeat": "taken-over"},
        )
        assert wrong.status_code == 422

    locked = _post(
        client, "/password", {"current": PASSWORD, "new": "taken-over", "repeat": "taken-over"}
    )

    assert locked.status_code == 429
    assert "15 分钟后再试" in locked.get_data(as_text=True)
    # The same lock as the login's: the password is unchanged, and the owner elsewhere logs in.
    assert _login(app.test_client(), "teacher", PASSWORD, OTHER_ADDRESS).status_code == 302
    elsewhere = _login(app.test_client(), "teacher", "taken-over", OTHER_ADDRESS)
    assert elsewhere.status_code == 401
