"""On SQLite, many phones writing at once can keep the write lock longer than a request waits
for it: the phone is told the server was busy and that nothing was saved, never shown an
error, and the same form sent again lands once."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

from models.clock import SettableClock
from models.db import make_engine, make_session_factory
from models.people import Role
from models.records import Record
from settings import Settings
from tests.factories import EXTINGUISHER_OK, jpeg_bytes, make_asset, make_person, make_school
from tests.webapp.helpers import open_form, submit_form
from tests.webapp.test_busy_office import _login
from webapp import create_app


def test_a_form_sent_while_the_lock_stays_taken_is_refused_as_busy_and_lands_once_sent_again(
    tmp_path: Path, sqlite_schema: Path, clock: SettableClock
) -> None:
    path = tmp_path / "houqin.db"
    shutil.copyfile(sqlite_schema, path)
    engine = make_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def wait_briefly(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=50")  # not 10 s: the test waits it out

    factory = make_session_factory(engine)
    with factory() as session:
        school = make_school(session)
        inspector = make_person(session, clock, school, Role.INSPECTOR, "inspector")
        token = make_asset(session, clock, school, responsible=inspector).current_label.token
        session.commit()
    settings = Settings()
    settings.server.secret_key = "test-secret-key"
    settings.database.url = f"sqlite:///{path}"
    settings.storage.data_dir = str(tmp_path / "data")
    client = create_app(settings, session_factory=factory, clock=clock).test_client()
    assert _login(client, "inspector") == 302
    form = open_form(client, token, "extinguisher_monthly")
    photo = {"photo": jpeg_bytes()}

    other_writer = sqlite3.connect(path, isolation_level=None)
    other_writer.execute("BEGIN IMMEDIATE")
    try:
        busy = submit_form(client, token, "extinguisher_monthly", EXTINGUISHER_OK, photo, form)
    finally:
        other_writer.rollback()
        other_writer.close()
    again = submit_form(client, token, "extinguisher_monthly", EXTINGUISHER_OK, photo, form)

    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "5"
    page = busy.get_data(as_text=True)
    assert "没有保存" in page and "再发送一次" in page
    assert again.status_code == 302
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Record)) == 1
    engine.dispose()
