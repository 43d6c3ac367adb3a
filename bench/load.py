"""Load and faults: 50 phones filing records with photos at once against gunicorn (4 threaded
workers on 127.0.0.1), with double taps and retries, while a people import runs through the
admin pages and a sweep runs in its own process, and one worker is killed with SIGKILL mid-run;
on SQLite (WAL) and, when it answers, on PostgreSQL (in a schema of its own, dropped after).

Each phone sends the browser's form, its submission key included, and resends the same one on
a connection error, a timeout or a 5xx. At the end every submission that got a success answer
must be in the database once, with its photos (rows and files, sha256 matching); those that
never got one are sent once more and must then land once. Prints, per engine, `records_lost:`
and `records_doubled:` (goal 0 and 0), `p95_submit_ms:` (successful submits, first try to
success), `submissions:`, `retries:`, `answers_5xx:` and `worker_killed:`.

`python -m bench.load [--postgres URL | --no-postgres]`; the PostgreSQL URL defaults to
HOUQIN_TEST_DATABASE_URL or the machine's own.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import openpyxl
from PIL import Image, ImageDraw
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import selectinload

from houqin.migrate import upgrade
from models.assets import AssetKind, create_asset
from models.checklists import latest_template, sync_builtin_templates
from models.db import make_engine, make_session_factory
from models.org import District, School
from models.people import Role, create_person, grant_role, hash_password
from models.photos import PhotoStore
from models.records import Record, RecordPhoto

PHONES = 50
RECORDS_PER_PHONE = 3
DOUBLE_TAP_EVERY = 5  # every 5th phone taps submit twice at once, each time
TRIES = 6  # a phone sends one submission at most this often before it gives up
RETRY_PAUSE_S = 0.5
REQUEST_TIMEOUT_S = 30.0
WORKERS, THREADS = 4, 4
IMPORT_PEOPLE = 2_000  # the most one file may hold (models/spreadsheets.py)
IMPORT_AFTER_S, SWEEP_AFTER_S = 0.5, 1.5  # after the phones start
KILL_AFTER_SHARE = 0.3  # a worker is killed once this share of the submissions were sent
LOAD_LIMIT_S = 90.0  # from the phones' start: no phone starts a new try after it
PHOTO_SIZE = (1600, 1200)  # what the page sends: scaled on the phone to 1600 px
TEMPLATE = "extinguisher_monthly"
PASSWORD = "Kq7-load-bench-2026"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
HIDDEN_RE = r'name="{}" type="hidden" value="([^"]*)"'
FORM_LINK_RE = re.compile(r'href="(/s/[^"]+/record/' + TEMPLATE + ')"')
RECORD_RE = re.compile(r"/records/(\d+)")


def _hidden(html: str, name: str) -> str:
    match = re.search(HIDDEN_RE.format(name), html)
    assert match, f"no {name} on the page"
    return match.group(1)


def _photos(count: int) -> list[bytes]:
    """Distinct JPEGs of a few hundred KB, each as a phone's page makes it before sending."""
    base = Image.merge("RGB", [Image.effect_noise((400, 300), 50) for _ in range(3)])
    base = base.resize(PHOTO_SIZE, Image.Resampling.BICUBIC)
    photos = []
    for n in range(count):
        image = base.copy()
        ImageDraw.Draw(image).rectangle(
            (n % 40 * 40, n // 40 * 40, n % 40 * 40 + 39, n // 40 * 40 + 39),
            fill=(n * 7 % 256, n * 13 % 256, n * 29 % 256),
        )
        out = io.BytesIO()
        image.save(out, "JPEG", quality=80)
        photos.append(out.getvalue())
    return photos


@dataclass
class World:
    url: str
    data_dir: Path
    tokens: list[list[str]]  # per phone, the labels it files at
    photo_item: str
    answers: dict[str, str]


def _world(url: str, data_dir: Path) -> World:
    """A district's school with one inspector per phone and an extinguisher per submission,
    migrated as `houqin db upgrade` does."""
    engine = make_engine(url)
    try:
        upgrade(engine)
        now = datetime.now(UTC) - timedelta(days=1)
        hashed = hash_password(PASSWORD)
        with make_session_factory(engine)() as session:
            sync_builtin_templates(session, now=now)
            template = latest_template(session, TEMPLATE, district_id=None)
            assert template is not None
            school = School(district=District(code="D", name="区"), code="S1", name="实验小学")
            admin = create_person(
                session,
                username="admin",
                display_name="李校长",
                password=PASSWORD,
                hashed=hashed,
                now=now,
            )
            grant_role(session, admin, Role.SCHOOL_ADMIN, school)
            tokens: list[list[str]] = []
            for phone in range(PHONES):
                person = create_person(
                    session,
                    username=f"phone{phone:02d}",
                    display_name=f"检查员{phone:02d}",
                    password=PASSWORD,
                    hashed=hashed,
                    now=now,
                )
                grant_role(session, person, Role.INSPECTOR, school)
                mine = []
                for n in range(RECORDS_PER_PHONE):
                    asset = create_asset(
                        session,
                        school=school,
                        kind=AssetKind.EXTINGUISHER,
                        code=f"MHQ-{phone:02d}-{n}",
                        name=f"教学楼{phone}号灭火器{n}",
                        now=now,
                    )
                    mine.append(asset.current_label.token)
                tokens.append(mine)
            spec = template.spec
            photo_item = next(i.key for i in spec.items if i.type == "photo")
            answers = spec.passing_answers()
            session.commit()
    finally:
        engine.dispose()
    return World(url, data_dir, tokens, photo_item, answers)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(root: Path, world: World) -> dict[str, str]:
    config = root / "houqin.toml"
    config.write_text(
        "[server]\n"
        'secret_key = "bench-load"\n'
        'base_url = "http://127.0.0.1"\n'
        "[database]\n"
        f"url = {world.url!r}\n".replace("'", '"')
        + "[storage]\n"
        f'data_dir = "{world.data_dir}"\n'
    )
    here = str(Path(__file__).resolve().parent.parent)
    # Only this config: any other HOUQIN_ variable (the tests' database) would be refused.
    own = {k: v for k, v in os.environ.items() if not k.startswith("HOUQIN_")}
    return {**own, "HOUQIN_CONFIG": str(config), "PYTHONPATH": here}


@contextmanager
def _gunicorn(root: Path, env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = _free_port()
    log = (root / "gunicorn.log").open("wb")
    command = [
        *(sys.executable, "-m", "gunicorn"),
        *("--workers", str(WORKERS), "--threads", str(THREADS)),
        *("--bind", f"127.0.0.1:{port}", "--timeout", "30", "--graceful-timeout", "5"),
        "--no-control-socket",
        "houqin.wsgi:create()",
    ]
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((root / "gunicorn.log").read_text()[-3000:])
            time.sleep(0.2)
        yield base, server
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _workers(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def _log_in(client: httpx.Client, login: str) -> None:
    page = client.get("/login").text
    answer = client.post(
        "/login",
        data={"csrf_token": _hidden(page, "csrf_token"), "login": login, "password": PASSWORD},
    )
    assert answer.status_code in (302, 303), f"login {login}: {answer.status_code}"


@dataclass
class Submission:
    """One record a phone sends: the form's key, and what became of it."""

    token: str
    form_url: str
    fields: dict[str, str]
    photo: bytes
    started: float = 0.0
    succeeded: float | None = None
    record_id: int | None = None
    tries: int = 0
    taps: int = 1
    answers: Counter[int] = field(default_factory=Counter)

    @property
    def key(self) -> str:
        return self.fields["submission_key"]


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    submissions: list[Submission] = field(default_factory=list)
    transport_errors: int = 0
    page_retries: int = 0
    gave_up: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    refused: list[str] = field(default_factory=list)
    sent: int = 0

    def add(self, submission: Submission) -> None:
        with self.lock:
            self.submissions.append(submission)


class Phone:
    def __init__(self, base: str, number: int, world: World, photos: list[bytes], tally: Tally):
        self.client = httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT_S)
        self.number = number
        self.world = world
        self.photos = photos
        self.tally = tally

    def log_in(self) -> None:
        _log_in(self.client, f"phone{self.number:02d}")

    def page(self, url: str) -> str:
        """A page, opened again (a bounded number of times) when the connection fails or
        the server answers 5xx, as a person reloads it."""
        for _ in range(TRIES - 1):
            try:
                answer = self.client.get(url)
                if answer.status_code < 500:
                    break
            except httpx.TransportError:
                pass
            with self.tally.lock:
                self.tally.page_retries += 1
            time.sleep(RETRY_PAUSE_S)
        else:
            answer = self.client.get(url)
        answer.raise_for_status()
        return answer.text

    def open_form(self, token: str, photo: bytes) -> Submission:
        """The label's page, then its checklist's form, as a scan opens them."""
        link = FORM_LINK_RE.search(self.page(f"/s/{token}"))
        assert link, "no form link on the asset page"
        form = self.page(link.group(1))
        fields = {
            "csrf_token": _hidden(form, "csrf_token"),
            "submission_key": _hidden(form, "submission_key"),
            **self.world.answers,
            "phone_time": datetime.now(UTC).isoformat(),
        }
        return Submission(token, link.group(1), fields, photo)

    def send(self, submission: Submission) -> bool:
        """One try: True when the server answered that the record is filed."""
        with self.tally.lock:
            submission.tries += 1
            self.tally.sent += 1
        files = [(self.world.photo_item, ("IMG_0001.jpg", submission.photo, "image/jpeg"))]
        try:
            answer = self.client.post(submission.form_url, data=submission.fields, files=files)
        except httpx.TransportError:
            with self.tally.lock:
                self.tally.transport_errors += 1
            return False
        with self.tally.lock:
            submission.answers[answer.status_code] += 1
        found = RECORD_RE.search(answer.headers.get("location", ""))
        if answer.status_code in (302, 303) and found:
            with self.tally.lock:
                if submission.record_id is None:
                    submission.succeeded = time.perf_counter()
                submission.record_id = int(found.group(1))
            return True
        if answer.status_code < 500:
            with self.tally.lock:
                self.tally.refused.append(f"{answer.status_code} {answer.text[:200]!r}")
        return False

    def deliver(self, submission: Submission, taps: int) -> None:
        """Tap submit (twice at once for a double tap), then retry the same form until the
        server says it is filed, a bounded number of times."""
        submission.started = time.perf_counter()
        submission.taps = taps
        if taps > 1:
            twins = [threading.Thread(target=self.send, args=(submission,)) for _ in range(taps)]
            for twin in twins:
                twin.start()
            for twin in twins:
                twin.join()
        else:
            self.send(submission)
        while submission.record_id is None and submission.tries < TRIES:
            if self.tally.stop.is_set():
                return
            time.sleep(RETRY_PAUSE_S)
            self.send(submission)

    def run(self, start: threading.Barrier) -> None:
        """Log in (as a person tries again when it fails), then, with every other phone at
        once, file at each of its labels."""
        logged_in = False
        for _ in range(TRIES):
            try:
                self.log_in()
                logged_in = True
                break
            except (httpx.HTTPError, AssertionError):
                time.sleep(RETRY_PAUSE_S)
        start.wait(timeout=LOAD_LIMIT_S)
        if not logged_in:
            with self.tally.lock:
                self.tally.gave_up.append(f"phone{self.number:02d}: could not log in")
            return
        try:
            for n, token in enumerate(self.world.tokens[self.number]):
                if self.tally.stop.is_set():
                    return
                photo = self.photos[self.number * RECORDS_PER_PHONE + n]
                submission = self.open_form(token, photo)
                self.tally.add(submission)
                self.deliver(submission, 2 if self.number % DOUBLE_TAP_EVERY == 0 else 1)
        except (httpx.HTTPError, AssertionError) as gave_up:  # the person gives up
            with self.tally.lock:
                self.tally.gave_up.append(f"phone{self.number:02d}: {gave_up!r}"[:200])


def _people_sheet() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["用户名", "姓名", "手机", "角色"])
    for n in range(IMPORT_PEOPLE):
        sheet.append([f"staff{n:04d}", f"员工{n:04d}", f"1390000{n:04d}", "教师"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _import(base: str, sheet: bytes, outcome: dict[str, object]) -> None:
    """An administrator imports a people sheet through the admin pages: check, then confirm;
    when the connection fails (the killed worker), once more from the start."""
    start = time.perf_counter()
    for attempt in range(2):
        outcome["import_attempts"] = attempt + 1
        try:
            _import_once(base, sheet, outcome)
            break
        except (httpx.HTTPError, AssertionError) as failed:
            outcome["import_status"] = f"{failed!r}"[:80]
    outcome["import_s"] = time.perf_counter() - start


def _import_once(base: str, sheet: bytes, outcome: dict[str, object]) -> None:
    with httpx.Client(base_url=base, timeout=120) as client:
        _log_in(client, "admin")
        page = client.get("/admin/S1/import").text
        preview = client.post(
            "/admin/S1/import/preview",
            data={"csrf_token": _hidden(page, "csrf_token"), "kind": "people"},
            files={"file": ("people.xlsx", sheet, "application/octet-stream")},
        )
        outcome["import_preview_status"] = preview.status_code
        fields = {name: _hidden(preview.text, name) for name in ("csrf_token", "kind", "sha256")}
        done = client.post("/admin/S1/import/confirm", data=fields)
    outcome["import_status"] = done.status_code


def _sweep(env: dict[str, str], outcome: dict[str, object]) -> None:
    """One real sweep, as `houqin sweep` (or the scheduler's job) runs it beside the web."""
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-c", "from houqin.cli import main; main()", "sweep"],
            env=env,
            capture_output=True,
            text=True,
            timeout=LOAD_LIMIT_S,
        )
    except subprocess.TimeoutExpired:
        outcome["sweep_rc"] = "timed out"
        return
    outcome["sweep_rc"] = done.returncode
    outcome["sweep_s"] = time.perf_counter() - start
    outcome["sweep_said"] = (done.stdout.splitlines() or [done.stderr[-500:]])[0]


def _kill_a_worker(master: int, tally: Tally, total: int, outcome: dict[str, object]) -> None:
    """SIGKILL one worker once a share of the submissions were sent; gunicorn replaces it."""
    deadline = time.monotonic() + LOAD_LIMIT_S
    while tally.sent < total * KILL_AFTER_SHARE and time.monotonic() < deadline:
        time.sleep(0.05)
    victim = _workers(master)[0]
    os.kill(victim, signal.SIGKILL)
    outcome["worker_killed"] = 1
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        alive = _workers(master)
        if victim not in alive and len(alive) == WORKERS:
            outcome["worker_replaced"] = 1
            return
        time.sleep(0.1)
    outcome["worker_replaced"] = 0


def _count(world: World, submissions: list[Submission]) -> tuple[int, int, list[str]]:
    """Lost: a submission answered as filed (or resent after the run) with no record, or one
    without all its photos on disk as stored. Doubled: records beyond one per label."""
    store = PhotoStore(world.data_dir)
    engine = make_engine(world.url)
    problems: list[str] = []
    try:
        with make_session_factory(engine)() as session:
            records = session.scalars(
                select(Record).options(selectinload(Record.photos).selectinload(RecordPhoto.photo))
            ).all()
            by_key = {r.idempotency_key: r for r in records}
            per_asset = Counter(r.asset_id for r in records)
            doubled = sum(n - 1 for n in per_asset.values())
            lost = 0
            for submission in submissions:
                record = by_key.get(submission.key)
                if submission.record_id is None or record is None:
                    lost += 1
                    problems.append(f"no record for {submission.key} ({submission.answers})")
                    continue
                if record.id != submission.record_id or len(record.photos) != 1:
                    lost += 1
                    problems.append(f"record {record.id}: not the one answered, or no photo")
                    continue
                photo = record.photos[0].photo
                path = store.path(photo.storage_key)
                on_disk = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
                if on_disk != photo.sha256 or not store.path(photo.thumb_key).is_file():
                    lost += 1
                    problems.append(f"record {record.id}: photo file missing or changed")
    finally:
        engine.dispose()
    return lost, doubled, problems


def _p95(values: list[float]) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=20)[18]


def run(name: str, url: str, root: Path) -> Iterator[str]:
    began = time.monotonic()
    world = _world(url, root / "data")
    env = _environment(root, world)
    total = PHONES * RECORDS_PER_PHONE
    photos = _photos(total)
    sheet = _people_sheet()
    tally = Tally()
    outcome: dict[str, object] = {"worker_killed": 0}
    with _gunicorn(root, env) as (base, server):
        phones = [Phone(base, n, world, photos, tally) for n in range(PHONES)]
        start = threading.Barrier(PHONES + 1)
        threads = [threading.Thread(target=p.run, args=(start,)) for p in phones]
        for thread in threads:
            thread.start()
        start.wait(timeout=LOAD_LIMIT_S)
        ran = time.perf_counter()
        side = [
            threading.Timer(IMPORT_AFTER_S, _import, args=(base, sheet, outcome)),
            threading.Timer(SWEEP_AFTER_S, _sweep, args=(env, outcome)),
            threading.Thread(target=_kill_a_worker, args=(server.pid, tally, total, outcome)),
        ]
        for job in side:
            job.start()
        for thread in threads:
            thread.join(timeout=max(0.0, LOAD_LIMIT_S - (time.perf_counter() - ran)))
        tally.stop.set()  # past the limit: each phone ends its request in flight and stops
        for job in [*threads, *side]:
            job.join()
        load_s = time.perf_counter() - ran
        answered = [s for s in tally.submissions if s.record_id is not None]
        unanswered = [s for s in tally.submissions if s.record_id is None]
        # Those that never got a success: sent once more, now that the load is over.
        for submission in unanswered:
            owner = next(p for p in phones if submission.token in world.tokens[p.number])
            owner.send(submission)
        for phone in phones:
            phone.client.close()
    lost, doubled, problems = _count(world, tally.submissions)
    statuses = sum((s.answers for s in tally.submissions), Counter[int]())
    fives = sum(n for status, n in statuses.items() if status >= 500)
    times = [(s.succeeded - s.started) * 1000 for s in answered if s.succeeded is not None]
    for problem in problems[:5] + tally.refused[:5] + tally.gave_up[:5]:
        print(f"# {name}: {problem}", file=sys.stderr)
    if os.environ.get("BENCH_LOAD_KEEP_LOG"):
        shutil.copy(root / "gunicorn.log", f"{os.environ['BENCH_LOAD_KEEP_LOG']}-{name}.log")
    if fives:
        log = (root / "gunicorn.log").read_text(errors="replace")
        errors = [line for line in log.splitlines() if "Error" in line or "error" in line]
        for line in errors[:10]:
            print(f"# {name} gunicorn: {line}", file=sys.stderr)
    yield f"{name}_records_lost: {lost}"
    yield f"{name}_records_lost_floor: 0"
    yield f"{name}_records_doubled: {doubled}"
    yield f"{name}_records_doubled_floor: 0"
    yield f"{name}_p95_submit_ms: {_p95(times):.0f}"
    yield f"{name}_median_submit_ms: {statistics.median(times) if times else 0:.0f}"
    yield f"{name}_submissions: {len(tally.submissions)}"
    yield f"{name}_submissions_not_started_in_limit: {total - len(tally.submissions)}"
    yield f"{name}_answered_during_load: {len(answered)}"
    yield f"{name}_unanswered_during_load: {len(unanswered)}"
    landed = sum(1 for s in unanswered if s.record_id is not None)
    yield f"{name}_landed_on_retry_after_load: {landed}"
    yield f"{name}_requests_sent: {tally.sent}"
    yield f"{name}_double_taps: {sum(1 for s in tally.submissions if s.taps > 1)}"
    yield f"{name}_retries: {tally.sent - sum(s.taps for s in tally.submissions)}"
    yield f"{name}_answers_5xx: {fives}"
    yield f"{name}_answers_5xx_floor: 0"
    yield f"{name}_page_retries: {tally.page_retries}"
    yield f"{name}_phones_gave_up: {len(tally.gave_up)}"
    yield f"{name}_connection_errors: {tally.transport_errors}"
    yield f"{name}_refused_4xx: {len(tally.refused)}"
    yield f"{name}_worker_killed: {outcome['worker_killed']}"
    yield f"{name}_worker_replaced: {outcome.get('worker_replaced', 0)}"
    yield f"{name}_import_preview_status: {outcome.get('import_preview_status', 'none')}"
    yield f"{name}_import_attempts: {outcome.get('import_attempts', 1)}"
    yield f"{name}_import_{IMPORT_PEOPLE}_people_status: {outcome.get('import_status', 'none')}"
    yield f"{name}_import_{IMPORT_PEOPLE}_people_s: {outcome.get('import_s', 0):.1f}"
    yield f"{name}_sweep_rc: {outcome.get('sweep_rc', 'none')}"
    yield f"{name}_sweep_s: {outcome.get('sweep_s', 0):.1f}"
    yield f"{name}_load_s: {load_s:.1f}"
    yield f"{name}_wall_s: {time.monotonic() - began:.1f}"


@contextmanager
def _postgres_schema(url: str) -> Iterator[str | None]:
    """A schema of its own on that server (None when it does not answer), dropped after."""
    name = f"houqin_load_{os.getpid()}"
    admin: Engine = make_engine(url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
            connection.execute(text(f'CREATE SCHEMA "{name}"'))
    except OperationalError as exc:  # not running, or not reachable: not this run
        print(f"# postgresql not used: {exc.__class__.__name__}", file=sys.stderr)
        admin.dispose()
        yield None
        return
    try:
        yield (
            make_url(url)
            .update_query_dict({"options": f"-csearch_path={name}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres", default=os.environ.get("HOUQIN_TEST_DATABASE_URL") or DEFAULT_POSTGRES
    )
    parser.add_argument("--no-postgres", action="store_true")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "sqlite"
        root.mkdir()
        for line in run("sqlite", f"sqlite:///{root / 'houqin.db'}", root):
            print(line, flush=True)
    if options.no_postgres:
        return
    with _postgres_schema(options.postgres) as url, tempfile.TemporaryDirectory() as tmp:
        if url is not None:
            for line in run("postgresql", url, Path(tmp)):
                print(line, flush=True)


if __name__ == "__main__":
    main()
