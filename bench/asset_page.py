"""Serves the asset page (what a phone opens when it scans a label) under gunicorn with 2
workers beside a bare Flask "hello" under gunicorn with 2 workers, both up at once, and loads
each with 16 concurrent connections: 2 s each in turn, 4 rounds after a warm-up one, so a
change in the machine's other load falls on both alike.

The district is the demo's (houqin.demo), on SQLite in WAL mode in a temporary folder; the
asset is an extinguisher of 实验小学 with its history, scanned by its inspector (the staff
view, with the session cookie of a login made through the form) and by someone without an
account (the public view).

The load comes from a small asyncio HTTP/1.1 client in a process of its own (no wrk or oha on
the machine, and no new dependency): a connection per request, as gunicorn's sync workers
close each. It costs the same per request for both servers, so the ratio is fair, but on a
machine of 2 shared cores it takes CPU from them: the absolute figures are floors. The CPU
the servers spent per request (their processes' user and system time) is printed beside, a
figure the machine's other load changes less.

Prints `asset_page_rps`, `bare_flask_rps`, `asset_page_ratio_to_bare_flask` (goal 0.25),
`asset_page_p99_ms` (goal 50), `asset_page_queries_per_view` (statements reading a table,
counted in one view through the test client) and `asset_page_server_cpu_ms_per_view`; the
same with `_public` for the view without an account.

Beside them, as the floor the staff view stands on, `signed_in_frame_ratio_to_bare_flask`
and `signed_in_frame_server_cpu_ms_per_view`: the smallest page a person logged in is
served (等待发送, /pending: the frame of every page, the login and the unread count, with
nothing of its own), loaded with the same cookie in the same rounds.
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
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import event, select

import webapp
from houqin.cli import prepare_database
from houqin.demo import DEMO_PASSWORD, seed_demo
from models.assets import Asset, AssetKind
from models.db import make_engine, make_session_factory
from models.org import School
from models.unit_of_work import unit_of_work
from settings import Settings

CONNECTIONS = 16
WORKERS = 2
# Each page is loaded ROUNDS times for ROUND_SECONDS, in turn with the others.
ROUNDS = int(os.environ.get("BENCH_ASSET_PAGE_ROUNDS", "4"))
ROUND_SECONDS = 2.0
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

    # Statements that read or write a table (not the transaction's BEGIN).
    def queries() -> int:
        return sum(s.lstrip().split(None, 1)[0].upper() != "BEGIN" for s in counted)

    anonymous = app.test_client()
    anonymous.get(f"/s/{token}")  # templates compiled, connection opened
    counted.clear()
    assert anonymous.get(f"/s/{token}").status_code == 200
    public = queries()
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = PHONE
    csrf = _csrf(client.get("/login").get_data(as_text=True))
    login = {"csrf_token": csrf, "login": STAFF, "password": DEMO_PASSWORD}
    assert client.post("/login", data=login).status_code == 302
    client.get(f"/s/{token}")
    counted.clear()
    page = client.get(f"/s/{token}")
    assert page.status_code == 200 and "/record/" in page.get_data(as_text=True)
    staff = queries()
    # The frame measured beside it is the signed-in one (its log-out button), not a visitor's.
    assert 'action="/logout"' in client.get("/pending").get_data(as_text=True)
    cookie = client.get_cookie("session")
    assert cookie is not None
    engine.dispose()
    return staff, public, f"session={cookie.value}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A gunicorn serving one app: its port and its master's process id."""

    port: int
    pid: int

    def cpu_seconds(self) -> float:
        """CPU time (user and system) of the master and its workers so far."""
        ticks = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid, ppid = int(stat.parent.name), int(fields[1])
            if self.pid in (pid, ppid):
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")


@contextmanager
def gunicorn(app: str, env: dict[str, str], cwd: Path) -> Iterator[Server]:
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
        yield Server(port, process.pid)
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

    async def connection(until: float) -> None:
        nonlocal failures
        while time.perf_counter() < until:
            took, ok = await _one(port, request)
            latencies.append(took)
            failures += not ok

    end = time.perf_counter() + seconds
    await asyncio.gather(*(connection(end) for _ in range(CONNECTIONS)))
    return latencies, failures


def _request(path: str, cookie: str) -> bytes:
    lines = [
        f"GET {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "Accept-Encoding: br, gzip",
        "Accept-Language: zh-CN",
        f"User-Agent: {PHONE}",
        "Connection: close",
    ]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _client(jobs: multiprocessing.Queue, out: multiprocessing.Queue) -> None:
    """The load generator's process: runs each (port, request, seconds) it is handed."""
    while (job := jobs.get()) is not None:
        port, request, seconds = job
        out.put(asyncio.run(_load(port, request, seconds)))


@dataclass
class Load:
    """What one page answered under load, over every round."""

    seconds: float = 0.0
    cpu_seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds

    @property
    def p99_ms(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000

    @property
    def cpu_ms_per_request(self) -> float:
        return self.cpu_seconds / len(self.latencies) * 1000


def measure(pages: dict[str, tuple[Server, bytes]]) -> dict[str, Load]:
    """Each page loaded in turn for `ROUND_SECONDS`, round after round, so a change in the
    machine's other load falls on all of them alike; a warm-up round is not counted."""
    jobs: multiprocessing.Queue = multiprocessing.Queue()
    out: multiprocessing.Queue = multiprocessing.Queue()
    client = multiprocessing.Process(target=_client, args=(jobs, out))
    client.start()
    loads = {name: Load() for name in pages}
    try:
        for round_ in range(ROUNDS + 1):
            for name, (server, request) in pages.items():
                cpu = server.cpu_seconds()
                jobs.put((server.port, request, ROUND_SECONDS))
                latencies, failures = out.get()
                if failures:
                    raise RuntimeError(f"{failures} of {len(latencies)} {name} requests failed")
                if round_:
                    loads[name].seconds += ROUND_SECONDS
                    loads[name].cpu_seconds += server.cpu_seconds() - cpu
                    loads[name].latencies += latencies
    finally:
        jobs.put(None)
        client.join()
    return loads


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
            # The code this bench imported, and the bare app's folder.
            "PYTHONPATH": os.pathsep.join([str(Path(webapp.__file__).parent.parent), str(base)]),
        }
        page = f"/s/{token}"
        with (
            gunicorn("bare_flask:app", env, base) as bare,
            gunicorn("houqin.wsgi:create()", env, base) as houqin,
        ):
            loads = measure(
                {
                    "bare": (bare, _request("/", "")),
                    "staff": (houqin, _request(page, cookie)),
                    "public": (houqin, _request(page, "")),
                    "frame": (houqin, _request("/pending", cookie)),
                }
            )
    bare_load, staff, public = loads["bare"], loads["staff"], loads["public"]
    frame = loads["frame"]
    lines = [
        f"bare_flask_rps: {bare_load.rps:.0f}",
        f"bare_flask_p99_ms: {bare_load.p99_ms:.1f}",
        f"bare_flask_server_cpu_ms_per_request: {bare_load.cpu_ms_per_request:.2f}",
    ]
    for name, load, queries in (("", staff, staff_queries), ("_public", public, public_queries)):
        lines += [
            f"asset_page{name}_rps: {load.rps:.0f}",
            f"asset_page{name}_ratio_to_bare_flask: {load.rps / bare_load.rps:.3f}"
            f" (goal {RATIO_GOAL})",
            f"asset_page{name}_p99_ms: {load.p99_ms:.1f} (goal {P99_GOAL_MS})",
            f"asset_page{name}_queries_per_view: {queries}",
            f"asset_page{name}_server_cpu_ms_per_view: {load.cpu_ms_per_request:.2f}",
        ]
    lines += [
        f"signed_in_frame_ratio_to_bare_flask: {frame.rps / bare_load.rps:.3f}",
        f"signed_in_frame_server_cpu_ms_per_view: {frame.cpu_ms_per_request:.2f}",
    ]
    return lines


def main() -> None:
    for line in run():
        print(line, flush=True)


if __name__ == "__main__":
    main()
