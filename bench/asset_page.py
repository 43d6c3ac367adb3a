"""Serves the asset page (what a phone opens when it scans a label) under gunicorn with 2
workers beside a bare Flask "hello" under gunicorn with 2 workers, in the same run, and loads
each with 16 concurrent connections for a fixed time.

The district is the demo's (houqin.demo), on SQLite in WAL mode in a temporary folder; the
asset is an extinguisher of 实验小学 with its history, scanned by its inspector (the staff
view) and by someone without an account (the public view).

The load comes from a small asyncio HTTP/1.1 client in a process of its own (no wrk or oha on
the machine, and no new dependency): one connection per request, as gunicorn's sync workers
close each. It costs the same per request for both servers, so the ratio is fair, but on a
machine of 2 cores it takes CPU from the servers: the absolute figures are floors.

Prints `asset_page_rps`, `bare_flask_rps`, `asset_page_ratio_to_bare_flask` (goal 0.25),
`asset_page_p99_ms` (goal 50) and `asset_page_queries_per_view`, each also with `_public`.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, select

from houqin.cli import prepare_database
from houqin.demo import DEMO_PASSWORD, seed_demo
from models.assets import Asset, AssetKind
from models.db import make_engine, make_session_factory
from models.org import School
from models.unit_of_work import unit_of_work
from settings import Settings

CONNECTIONS = 16
WORKERS = 2
SECONDS = float(os.environ.get("BENCH_ASSET_PAGE_SECONDS", "8"))
WARMUP_SECONDS = 1.0
RATIO_GOAL = 0.25
P99_GOAL_MS = 50
# A phone's browser; the login and the load send the same (Flask-Login checks it).
PHONE = "Mozilla/5.0 (Linux; Android 14) Mobile Safari/537.36"
STAFF = "inspector1"  # files the extinguishers' monthly check at 实验小学
BARE_FLASK = """
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "hello"
"""


def _settings(base: Path) -> Settings:
    settings = Settings()
    settings.server.secret_key = "bench-asset-page"
    settings.server.base_url = "http://127.0.0.1"
    settings.database.url = f"sqlite:///{base / 'houqin.db'}"
    settings.storage.data_dir = str(base / "data")
    return settings


def build_district(base: Path) -> tuple[Settings, str]:
    """The demo district in `base`; the label token of an extinguisher with records."""
    settings = _settings(base)
    prepare_database(settings)
    engine = make_engine(settings.database.url)
    cwd = Path.cwd()
    os.chdir(base)  # the demo writes its label sheet under ./var/
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            seed_demo(session, settings)
            asset = session.scalars(
                select(Asset)
                .join(School)
                .where(
                    School.code == "SY01",
                    Asset.kind == AssetKind.EXTINGUISHER,
                    Asset.retired_at.is_(None),
                )
                .order_by(Asset.id)
            ).first()
            assert asset is not None and asset.current_label is not None
            token = asset.current_label.token
    finally:
        os.chdir(cwd)
        engine.dispose()
    return settings, token


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert found is not None, "no CSRF token on the login page"
    return found.group(1)


def queries_per_view(settings: Settings, token: str) -> tuple[int, int, str]:
    """Statements one staff view and one public view of the asset page run, counted on the
    app's own engine in this process; and the staff view's session cookie to send."""
    from settings import database_engine
    from webapp import create_app

    engine = database_engine(settings.database)
    app = create_app(settings, session_factory=make_session_factory(engine))
    counted: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: counted.append(args[2]))
    anonymous = app.test_client()
    anonymous.get(f"/s/{token}")  # templates compiled, connection opened
    counted.clear()
    assert anonymous.get(f"/s/{token}").status_code == 200
    public = len(counted)
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = PHONE
    csrf = _csrf(client.get("/login").get_data(as_text=True))
    login = {"csrf_token": csrf, "login": STAFF, "password": DEMO_PASSWORD}
    assert client.post("/login", data=login).status_code == 302
    client.get(f"/s/{token}")
    counted.clear()
    page = client.get(f"/s/{token}")
    assert page.status_code == 200 and "/record/" in page.get_data(as_text=True)
    staff = len(counted)
    cookie = client.get_cookie("session")
    assert cookie is not None
    engine.dispose()
    return staff, public, f"session={cookie.value}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def gunicorn(app: str, env: dict[str, str], cwd: Path) -> Iterator[int]:
    """`app` served by gunicorn with 2 sync workers on a free port, until the block ends."""
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(WORKERS),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app,
        ],
        cwd=cwd,
        env={**os.environ, **env},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn {app} did not start") from None
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


async def _one(port: int, request: bytes) -> tuple[float, bool]:
    start = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    answer = await reader.read()
    writer.close()
    return time.perf_counter() - start, answer.startswith(b"HTTP/1.1 200")


async def _load(port: int, request: bytes, seconds: float) -> tuple[list[float], int]:
    latencies: list[float] = []
    failures = 0

    async def connection(until: float, keep: bool) -> None:
        nonlocal failures
        while time.perf_counter() < until:
            took, ok = await _one(port, request)
            if keep:
                latencies.append(took)
                failures += not ok

    warm = time.perf_counter() + WARMUP_SECONDS
    await asyncio.gather(*(connection(warm, False) for _ in range(CONNECTIONS)))
    end = time.perf_counter() + seconds
    await asyncio.gather(*(connection(end, True) for _ in range(CONNECTIONS)))
    return latencies, failures


def _measure(port: int, path: str, cookie: str, seconds: float, out: multiprocessing.Queue) -> None:
    headers = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: br, gzip\r\n"
    headers += f"Accept-Language: zh-CN\r\nUser-Agent: {PHONE}\r\nConnection: close\r\n"
    if cookie:
        headers += f"Cookie: {cookie}\r\n"
    latencies, failures = asyncio.run(_load(port, (headers + "\r\n").encode(), seconds))
    out.put((latencies, failures))


def load(port: int, path: str, cookie: str = "") -> tuple[float, float]:
    """Requests a second and the 99th percentile latency in ms, from a process of its own."""
    out: multiprocessing.Queue = multiprocessing.Queue()
    process = multiprocessing.Process(target=_measure, args=(port, path, cookie, SECONDS, out))
    process.start()
    latencies, failures = out.get()
    process.join()
    if failures:
        raise RuntimeError(f"{failures} of {len(latencies)} requests to {path} were not 200")
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return len(latencies) / SECONDS, p99 * 1000


def run(root: Path | None = None) -> list[str]:
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        base = Path(tmp)
        settings, token = build_district(base)
        staff_queries, public_queries, cookie = queries_per_view(settings, token)
        (base / "bare_flask.py").write_text(BARE_FLASK)
        env = {
            "HOUQIN_DATABASE_URL": settings.database.url,
            "HOUQIN_SECRET_KEY": settings.server.secret_key,
            "HOUQIN_BASE_URL": settings.server.base_url,
            "HOUQIN_DATA_DIR": settings.storage.data_dir,
            "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent.parent), str(base)]),
        }
        with gunicorn("bare_flask:app", env, base) as port:
            bare_rps, bare_p99 = load(port, "/")
        with gunicorn("houqin.wsgi:create()", env, base) as port:
            staff_rps, staff_p99 = load(port, f"/s/{token}", cookie)
            public_rps, public_p99 = load(port, f"/s/{token}")
    return [
        f"bare_flask_rps: {bare_rps:.0f}",
        f"bare_flask_p99_ms: {bare_p99:.1f}",
        f"asset_page_rps: {staff_rps:.0f}",
        f"asset_page_ratio_to_bare_flask: {staff_rps / bare_rps:.3f} (goal {RATIO_GOAL})",
        f"asset_page_p99_ms: {staff_p99:.1f} (goal {P99_GOAL_MS})",
        f"asset_page_queries_per_view: {staff_queries}",
        f"asset_page_public_rps: {public_rps:.0f}",
        f"asset_page_public_ratio_to_bare_flask: {public_rps / bare_rps:.3f} (goal {RATIO_GOAL})",
        f"asset_page_public_p99_ms: {public_p99:.1f} (goal {P99_GOAL_MS})",
        f"asset_page_public_queries_per_view: {public_queries}",
    ]


def main() -> None:
    for line in run():
        print(line, flush=True)


if __name__ == "__main__":
    main()
