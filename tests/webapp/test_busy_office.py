"""A large import beside the day's work: every submission, login and sweep lands, none waits."""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from models.clock import SettableClock
from models.people import Person, Role
from models.records import Record
from scheduler import run_sweep, sweep_policy
from settings import Settings
from tests.conftest import csrf_token
from tests.factories import (
    EXTINGUISHER_OK,
    PASSWORD,
    jpeg_bytes,
    make_asset,
    make_person,
    make_school,
)
from tests.webapp.helpers import open_form, submit_form

PEOPLE = 2000
SUBMISSIONS = 6
# About a second (three threads share one interpreter here; gunicorn workers do not), with
# room for a machine shared by other work. Before, a submission waited 21 s and failed.
LONGEST_WAIT = 3.0


def _people_csv(count: int) -> bytes:
    rows = ["用户名,姓名,手机,角色"]
    rows += [f"staff{n:04d},员工{n:04d},1390000{n:04d},教师" for n in range(count)]
    return "\n".join(rows).encode()


def _login(client: FlaskClient, login: str) -> int:
    page = client.get("/login").get_data(as_text=True)
    return client.post(
        "/login",
        data={"csrf_token": csrf_token(page), "login": login, "password": PASSWORD, "next": ""},
    ).status_code


def _import(client: FlaskClient, content: bytes) -> tuple[int, str]:
    page = client.get("/admin/S1/import").get_data(as_text=True)
    boundary, body = encode_multipart(
        {
            "csrf_token": csrf_token(page),
            "kind": "people",
            "file": FileStorage(io.BytesIO(content), "people.csv"),
        }
    )
    preview = client.post(
        "/admin/S1/import/preview",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    ).get_data(as_text=True)
    fields = dict(re.findall(r'name="(kind|sha256)" type="hidden" value="([^"]*)"', preview))
    done = client.post(
        "/admin/S1/import/confirm", data={"csrf_token": csrf_token(preview), **fields}
    )
    return done.status_code, done.get_data(as_text=True)


def _timed(
    waits: list[tuple[float, str]],
    errors: list[BaseException],
    what: str,
    job: Callable[[], object],
) -> None:
    start = time.perf_counter()
    try:
        job()
    except BaseException as exc:
        errors.append(exc)
    waits.append((round(time.perf_counter() - start, 3), what))


def test_an_import_of_2000_people_beside_submissions_logins_and_sweeps(
    app: Flask,
    session: Session,
    session_factory: sessionmaker[Session],
    clock: SettableClock,
    settings: Settings,
) -> None:
    school = make_school(session)
    make_person(session, clock, school, Role.SCHOOL_ADMIN, "admin")
    inspector = make_person(session, clock, school, Role.INSPECTOR, "inspector")
    tokens = [
        make_asset(
            session, clock, school, code=f"MHQ-{n:03d}", responsible=inspector
        ).current_label.token
        for n in range(SUBMISSIONS)
    ]
    session.commit()
    admin, staff = app.test_client(), app.test_client()
    assert _login(admin, "admin") == 302
    assert _login(staff, "inspector") == 302
    forms = [open_form(staff, token, "extinguisher_monthly") for token in tokens]
    photo = {"photo": jpeg_bytes()}
    waits: list[tuple[float, str]] = []
    errors: list[BaseException] = []
    results: dict[str, Any] = {}
    importing = threading.Event()

    def run_import() -> None:
        importing.set()
        results["import"] = _import(admin, _people_csv(PEOPLE))

    def file_records() -> None:
        importing.wait()
        for token, form in zip(tokens, forms, strict=True):
            _timed(
                waits,
                errors,
                "submission",
                lambda t=token, f=form: results.setdefault("filed", []).append(
                    submit_form(staff, t, "extinguisher_monthly", EXTINGUISHER_OK, photo, f)
                ),
            )

    def log_in_and_sweep() -> None:
        importing.wait()
        for _ in range(3):
            _timed(
                waits,
                errors,
                "login",
                lambda: results.setdefault("logins", []).append(
                    _login(app.test_client(), "inspector")
                ),
            )
            _timed(
                waits,
                errors,
                "sweep",
                lambda: run_sweep(session_factory, clock, sweep_policy(settings)),
            )

    threads = [threading.Thread(target=job) for job in (run_import, file_records, log_in_and_sweep)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    status, page = results["import"]
    assert status == 200, page
    assert [r.status_code for r in results["filed"]] == [302] * SUBMISSIONS
    assert results["logins"] == [302] * 3
    assert max(waits)[0] < LONGEST_WAIT, sorted(waits)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Record)) == SUBMISSIONS
    people = session.scalar(select(func.count()).select_from(Person))
    session.rollback()
    assert people == PEOPLE + 2
    assert page.count('class="code"') == PEOPLE
