"""Times importing 2,000 people, then 2,000 extinguishers, through the web (upload and
check, then confirm) on SQLite, or on the database in HOUQIN_BENCH_DATABASE_URL, and how long
the write lock is held.

`python -m bench.imports` prints `name: value` lines.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from models import Base
from models.clock import SettableClock
from models.db import make_engine, make_session_factory
from models.org import District, School
from models.people import Role, create_person, grant_role
from settings import Settings
from webapp import create_app

PEOPLE = 2000
LOCK_BUDGET_S = 1.0  # the longest a submission, a login or a sweep may wait behind it
TOKEN_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
FIELD_RE = re.compile(r'name="(kind|sha256)" type="hidden" value="([^"]*)"')


def _csrf(html: str) -> str:
    match = TOKEN_RE.search(html)
    assert match, "no CSRF token"
    return match.group(1)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = Settings()
        settings.server.secret_key = "bench"
        settings.database.url = os.environ.get(
            "HOUQIN_BENCH_DATABASE_URL", f"sqlite:///{root / 'imports.db'}"
        )
        settings.storage.data_dir = str(root / "data")
        engine = make_engine(settings.database.url)
        Base.metadata.drop_all(engine)
        Base.metadata.create_all(engine)
        writes: list[float] = []

        @event.listens_for(engine, "begin")
        def began(connection: object) -> None:
            writes.append(time.perf_counter())

        @event.listens_for(engine, "commit")
        def committed(connection: object) -> None:
            writes.append(-(time.perf_counter() - writes.pop()))

        clock = SettableClock(datetime(2026, 3, 2, tzinfo=UTC))
        factory = make_session_factory(engine)
        with factory() as session:
            school = School(district=District(code="D", name="区"), code="S1", name="实验小学")
            admin = create_person(
                session,
                username="admin",
                display_name="李校长",
                password="pw-bench",
                now=clock.now(),
            )
            grant_role(session, admin, Role.SCHOOL_ADMIN, school)
            session.commit()
        app = create_app(settings, session_factory=factory, clock=clock)
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        client.post(
            "/login", data={"csrf_token": _csrf(page), "login": "admin", "password": "pw-bench"}
        )
        people = ["用户名,姓名,手机,角色"]
        people += [f"staff{n:04d},员工{n:04d},1390000{n:04d},教师" for n in range(PEOPLE)]
        assets = ["编号,名称,类型,楼栋,楼层,房间,灭火剂,容量(千克)"]
        assets += [
            f"MHQ-{n:04d},灭火器{n},灭火器,教学楼,{n % 5 + 1},{n},干粉,4" for n in range(PEOPLE)
        ]
        for kind, rows in (("people", people), ("assets", assets)):
            data = "\n".join(rows).encode()
            start = time.perf_counter()
            page = client.get("/admin/S1/import").get_data(as_text=True)
            upload = FileStorage(io.BytesIO(data), f"{kind}.csv")
            boundary, body = encode_multipart(
                {"csrf_token": _csrf(page), "kind": kind, "file": upload}
            )
            preview = client.post(
                "/admin/S1/import/preview",
                data=body,
                content_type=f"multipart/form-data; boundary={boundary}",
            ).get_data(as_text=True)
            checked = time.perf_counter()
            fields = dict(
                re.findall(r'name="(kind|sha256)" type="hidden" value="([^"]*)"', preview)
            )
            writes.clear()
            done = client.post(
                "/admin/S1/import/confirm", data={"csrf_token": _csrf(preview), **fields}
            )
            finished = time.perf_counter()
            assert done.status_code in (200, 302), done.status_code
            name = f"import_{kind}_{PEOPLE}"
            print(f"{name}_upload_and_check_s: {checked - start:.2f}")
            print(f"{name}_confirm_s: {finished - checked:.2f}")
            print(f"{name}_wall_s: {finished - start:.2f}")
            longest = max((-w for w in writes if w < 0), default=0.0)
            print(f"{name}_longest_transaction_s: {longest:.2f}")
            # A staff member's submission waits at most this long behind the import (issue 9).
            print(f"{name}_longest_transaction_budget_s: {LOCK_BUDGET_S:.2f}")
            print(f"{name}_longest_transaction_share_of_budget: {longest / LOCK_BUDGET_S:.2f}")
        engine.dispose()


if __name__ == "__main__":
    main()
