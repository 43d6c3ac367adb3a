"""The `houqin` command: reads the config and starts or runs one thing."""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.audit import Origin
from models.db import make_engine, make_session_factory
from models.unit_of_work import unit_of_work
from settings import ConfigError, Settings, database_engine, load_settings, open_photo_store

log = logging.getLogger(__name__)


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


@contextmanager
def _unit_of_work(url: str) -> Iterator[Session]:
    """The command's one unit of work, on an engine of its own that is let go of after it."""
    engine = make_engine(url)
    try:
        with unit_of_work(make_session_factory(engine), Origin(channel="cli")) as session:
            yield session
    finally:
        engine.dispose()


@click.group()
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="HOUQIN_CONFIG",
    help="TOML settings file (default: ./houqin.toml when it exists).",
)
@click.pass_context
def main(ctx: click.Context, config_path: Path | None) -> None:
    """Houqin: school logistics duties, scanned, recorded, proven."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("httpx", "apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if config_path is None and Path("houqin.toml").is_file():
        config_path = Path("houqin.toml")
    try:
        settings = load_settings(config_path)
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from None
    ctx.obj = {"settings": settings, "config_path": config_path}


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply migrations and load the built-in checklists."""
    from models.checklists import TemplateError

    try:
        prepare_database(_settings(ctx))
    except TemplateError as exc:
        raise click.ClickException(f"checklist: {exc}") from None
    click.echo("database is up to date")


def prepare_database(settings: Settings) -> None:
    from houqin.migrate import upgrade
    from models.checklists import sync_builtin_templates
    from models.clock import SystemClock

    _ensure_sqlite_folder(settings.database.url)
    engine = database_engine(settings.database)
    try:
        upgrade(engine, default_locale=settings.i18n.default_locale)
    finally:
        engine.dispose()
    with _unit_of_work(settings.database.url) as session:
        sync_builtin_templates(session, now=SystemClock().now())


def _ensure_sqlite_folder(url: str) -> None:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


@main.command()
@click.option("--host", default=None, help="Address to listen on (default from config).")
@click.option("--port", type=int, default=None, help="Port (default from config).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the web app (for production put gunicorn in front; see the README)."""
    from houqin.migrate import SchemaOutOfDate, check_current

    settings = _settings(ctx)
    try:
        check_current(settings.database.url)
    except SchemaOutOfDate as exc:
        raise click.ClickException(str(exc)) from None
    run_server(settings, host or settings.server.host, port or settings.server.port)


def run_server(settings: Settings, host: str, port: int) -> None:
    """The web app with the scheduler's jobs running beside it."""
    from werkzeug.serving import run_simple

    from models.checklists import builtin_specs
    from scheduler import build_scheduler
    from webapp import create_app

    try:
        builtin_specs()
        app = create_app(settings)
    except ValueError as exc:  # TemplateError included: name the file, item and field
        raise click.ClickException(str(exc)) from None
    jobs = build_scheduler(settings, make_session_factory(database_engine(settings.database)))
    jobs.start()
    if settings.telegram.token:
        start_bot_thread(settings)
    click.echo(f"Houqin is serving on http://{host}:{port}/  (Ctrl+C stops it)")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        jobs.shutdown(wait=False)


@main.command("scheduler")
@click.pass_context
def run_scheduler(ctx: click.Context) -> None:
    """Run the scheduled jobs alone (when the web app runs under gunicorn)."""
    from houqin.migrate import SchemaOutOfDate, check_current
    from scheduler import build_scheduler

    settings = _settings(ctx)
    try:
        check_current(settings.database.url)
    except SchemaOutOfDate as exc:
        raise click.ClickException(str(exc)) from None
    factory = make_session_factory(database_engine(settings.database))
    click.echo("Houqin's scheduler is running (Ctrl+C stops it)")
    build_scheduler(settings, factory, blocking=True).start()


@main.command("bot")
@click.pass_context
def run_bot(ctx: click.Context) -> None:
    """Run the Telegram bot: answer linked chats and deliver the outbox (long polling)."""
    from houqin.migrate import SchemaOutOfDate, check_current

    settings = _settings(ctx)
    if not settings.telegram.token:
        raise click.ClickException(
            "no telegram.token is set: the bot needs one from @BotFather "
            "(everything else works without it; notices wait in the web inbox)"
        )
    try:
        check_current(settings.database.url)
    except SchemaOutOfDate as exc:
        raise click.ClickException(str(exc)) from None
    from bot.app import run

    click.echo(f"Houqin's Telegram bot is running ({settings.telegram.mode}; Ctrl+C stops it)")
    run(settings, bot_application(settings))


@main.command("send")
@click.option("--once", is_flag=True, help="Drain every enabled channel once and exit.")
@click.pass_context
def run_send(ctx: click.Context, once: bool) -> None:
    """Deliver the outbox over WeCom application messages and e-mail (those configured)."""
    from houqin.migrate import SchemaOutOfDate, check_current

    settings = _settings(ctx)
    try:
        check_current(settings.database.url)
    except SchemaOutOfDate as exc:
        raise click.ClickException(str(exc)) from None
    import time

    from channels import OutageLog, enabled_senders
    from models.clock import SystemClock

    engine = database_engine(settings.database)
    try:
        factory = make_session_factory(engine)
        senders = enabled_senders(settings, factory, SystemClock())
        if not senders:
            raise click.ClickException(
                "no channel is configured: set [wecom] corp_id, agent_id and secret, "
                "or [email] host and sender"
            )
        outages = OutageLog()
        if once:
            send_once(senders, outages)
            return
        names = ", ".join(sender.name for sender in senders)
        click.echo(f"Houqin is sending over {names} (Ctrl+C stops it)")
        while True:
            send_once(senders, outages)
            time.sleep(settings.channels.send_every_seconds)
    finally:
        engine.dispose()


def send_once(senders: list[Any], outages: Any) -> int:
    """Each sender drains once; an outage is one line in the log, and its end another."""
    from channels import ServiceDown

    delivered = 0
    for sender in senders:
        try:
            delivered += sender.drain()
        except ServiceDown as down:
            outages.failed(sender.name, str(down))
        else:
            outages.ok(sender.name)
    return delivered


def bot_application(settings: Settings) -> Any:
    from bot.app import build_application

    factory = make_session_factory(database_engine(settings.database))
    return build_application(
        settings, factory, send_every=float(settings.telegram.send_every_seconds)
    )


def start_bot_thread(settings: Settings) -> None:
    """The bot beside `houqin serve`, in a thread of its own with its own event loop."""
    import threading

    def run() -> None:
        import asyncio

        from bot.app import run

        asyncio.set_event_loop(asyncio.new_event_loop())
        try:
            run(settings, bot_application(settings), in_thread=True)
        except Exception:
            log.exception("the Telegram bot stopped")

    threading.Thread(target=run, name="telegram-bot", daemon=True).start()


@main.command("sweep")
@click.option(
    "--at",
    "at_text",
    default=None,
    metavar="TIME",
    help="Pretend it is this time, e.g. '2026-03-25 16:30' (local) or ISO with an offset; "
    "a bare date is its whole day.",
)
@click.option(
    "--since",
    "since_text",
    default=None,
    metavar="TIME",
    help="With --at: the scheduler runs from this time (default: now) up to --at.",
)
@click.option("--dry-run", is_flag=True, help="Show what would be queued; change nothing.")
@click.pass_context
def run_sweep_command(
    ctx: click.Context, at_text: str | None, since_text: str | None, dry_run: bool
) -> None:
    """Run one sweep now: start tasks, queue reminders, escalations, expiries and digests.

    With --at a later time and --dry-run: what that day would queue up to that time, as if
    the scheduler had been running until then (earlier reminders already sent)."""
    from houqin.migrate import SchemaOutOfDate, check_current
    from models.clock import SystemClock
    from models.db import write_heavily
    from models.sweep import simulate, sweep
    from scheduler import sweep_policy

    settings = _settings(ctx)
    zone = ZoneInfo(settings.i18n.timezone)
    if at_text is not None and not dry_run:
        raise click.UsageError("--at only shows what a sweep would do: add --dry-run")
    if since_text is not None and at_text is None:
        raise click.UsageError("--since needs --at")
    try:
        check_current(settings.database.url)
    except SchemaOutOfDate as exc:
        raise click.ClickException(str(exc)) from None
    real_now = SystemClock().now()
    now = _parse_moment(at_text, settings.i18n.timezone, whole_day=True) if at_text else real_now
    since = _parse_moment(since_text, settings.i18n.timezone) if since_text else real_now
    with _unit_of_work(settings.database.url) as session:
        if at_text is not None and since < now:
            run = simulate(session, since=since, until=now, policy=sweep_policy(settings))
            day_starts = datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)
            queued = [(at, n) for at, n in run.queued if at >= day_starts]
            started, closed = run.started, run.closed
        else:
            write_heavily(session)
            report = sweep(session, now=now, policy=sweep_policy(settings))
            queued = [(now, n) for n in report.queued]
            started, closed = report.started, report.closed
        lines = [
            f"{at.astimezone(zone):%H:%M} {n.recipient.display_name} ({n.recipient.username})"
            f" [{n.severity}]: {n.text}"
            for at, n in queued
        ]
        if dry_run:
            # What a dry run queued was only to be shown: nothing is left for the commit.
            session.rollback()
    verb = "would queue" if dry_run else "queued"
    ran = (
        f" (the scheduler running from {since.astimezone(zone):%Y-%m-%d %H:%M})"
        if at_text is not None and since < now
        else ""
    )
    click.echo(
        f"Sweep at {now.astimezone(zone):%Y-%m-%d %H:%M %Z}{ran}: "
        f"{started} task(s) started, {closed} closed, "
        f"{verb} {len(lines)} notice(s)" + (f" on {now.astimezone(zone):%Y-%m-%d}" if ran else "")
    )
    for line in lines:
        click.echo(f"  {line}")
    if dry_run:
        click.echo("Dry run: nothing was changed.")


def _parse_moment(text: str, timezone: str, *, whole_day: bool = False) -> datetime:
    """A local time (or ISO with an offset); with `whole_day`, a bare date is its last minute."""
    text = text.strip()
    if whole_day and re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        text = f"{text} 23:59"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a time like 2026-03-25 16:30", param_hint="--at"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment.astimezone(UTC)


class _ProgressBar:
    """A bar on stderr, redrawn in place: `labels [#####     ] 120/240`; also into a file or a
    pipe when asked (--progress), one line per redraw there."""

    WIDTH = 30

    def __init__(self, total: int, label: str) -> None:
        self.total, self.label, self.done, self.shown = max(total, 1), label, 0, -1

    def update(self, count: int) -> None:
        self.done += count
        step = self.done * 100 // self.total
        if step != self.shown:
            self.shown = step
            filled = self.WIDTH * self.done // self.total
            bar = "#" * filled + " " * (self.WIDTH - filled)
            end = "\r" if sys.stderr.isatty() else "\n"
            sys.stderr.write(f"{self.label} [{bar}] {self.done}/{self.total}{end}")
            sys.stderr.flush()

    def finish(self) -> None:
        if sys.stderr.isatty():
            sys.stderr.write("\n")


@main.command()
@click.option(
    "--school",
    "school_codes",
    multiple=True,
    help="School code, e.g. SY01 (repeatable; default every school).",
)
@click.option("--kind", default=None, help="Only this asset kind (extinguisher, bus, …).")
@click.option("--building", default="", help="Only the assets placed in this building.")
@click.option("--asset", "asset_codes", multiple=True, help="Only this asset code (repeatable).")
@click.option("--reissued", is_flag=True, help="Only labels reissued after a revoked one.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="PDF file to write.")
@click.option("--png", type=click.Path(file_okay=False, path_type=Path), help="Folder for PNGs.")
@click.option(
    "--layout", default=None, help="3x8 (default), 3x7, 2x5 (large), 50x30mm or 40x30mm (thermal)."
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="A progress bar on stderr (default: only when stderr is a terminal).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Processes drawing a PDF's pages (default: one per core).",
)
@click.pass_context
def labels(
    ctx: click.Context,
    school_codes: tuple[str, ...],
    kind: str | None,
    building: str,
    asset_codes: tuple[str, ...],
    reissued: bool,
    out: Path | None,
    png: Path | None,
    layout: str | None,
    progress: bool | None,
    workers: int | None,
) -> None:
    """Print QR labels: an A4 sheet or thermal labels as PDF and/or one PNG per label."""
    from models.db import mark_read_only
    from models.labels import LabelChoice, LabelsError, choose_labels, label_font, write_labels

    if out is None and png is None:
        raise click.UsageError("give --out FILE.pdf, --png DIR, or both")
    settings = _settings(ctx)
    choice = LabelChoice(school_codes, kind or "", building, asset_codes, reissued)
    show = progress if progress is not None else sys.stderr.isatty()
    try:
        with _unit_of_work(settings.database.url) as session:
            # A sheet takes a while; on SQLite it must not hold the write lock meanwhile.
            mark_read_only(session)
            count = len(
                choose_labels(session, choice, base_url=settings.server.base_url, actor=None)
            )
            label_font(settings.labels.font)
            total = count * ((out is not None) + (png is not None))
            bar = _ProgressBar(total, "labels") if show else None
            report = write_labels(
                session,
                None,
                base_url=settings.server.base_url,
                layout=layout or settings.labels.layout,
                font=settings.labels.font,
                choice=choice,
                pdf=out,
                png_dir=png,
                progress=bar.update if bar else None,
                workers=workers or os.cpu_count() or 1,
            )
            if bar:
                bar.finish()
    except LabelsError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(report)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=None, help="Port (default from config, 8000).")
@click.option(
    "--base-url",
    default=None,
    help="Address printed in the QR labels, e.g. http://192.168.1.20:8000 for phones on Wi-Fi.",
)
@click.option("--no-serve", is_flag=True, help="Set up the demo and stop.")
@click.pass_context
def demo(
    ctx: click.Context, host: str, port: int | None, base_url: str | None, no_serve: bool
) -> None:
    """Set up the demo district on SQLite under ./var/ and serve it."""
    from houqin.demo import demo_settings, seed_demo

    keep_base_url = ctx.obj["config_path"] is not None or "HOUQIN_BASE_URL" in os.environ
    settings = demo_settings(_settings(ctx), keep_base_url, host, port, base_url)
    prepare_database(settings)
    with _unit_of_work(settings.database.url) as session:
        report = seed_demo(session, settings)
    click.echo(report)
    if not no_serve:
        run_server(settings, host, settings.server.port)


@main.command("check")
@click.option(
    "--remove-orphans",
    is_flag=True,
    help="Remove stored files no row names, once older than an hour.",
)
@click.pass_context
def run_check(ctx: click.Context, remove_orphans: bool) -> None:
    """Check every photo, thumbnail and document file against its row; find orphans."""
    from houqin.data_check import check_files
    from models.db import mark_read_only

    settings = _settings(ctx)
    with _unit_of_work(settings.database.url) as session:
        mark_read_only(session)
        report = check_files(
            session, open_photo_store(settings.storage), remove_orphans=remove_orphans
        )
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        ctx.exit(1)


@main.command("backup")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def run_backup(ctx: click.Context, out: Path) -> None:
    """Write the database and the data folder to one archive (OUT.tar), while the app runs."""
    from houqin.backup import BackupError, make_backup

    settings = _settings(ctx)
    try:
        report = make_backup(
            settings.database.url,
            Path(settings.storage.data_dir),
            out,
            store=open_photo_store(settings.storage),
        )
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{out}: {report}")


@main.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--force",
    is_flag=True,
    help="Replace what the database and the data folder already hold.",
)
@click.pass_context
def run_restore(ctx: click.Context, archive: Path, force: bool) -> None:
    """Bring a backup back into an empty database and data folder."""
    from houqin.backup import BackupError, restore_backup

    settings = _settings(ctx)
    _ensure_sqlite_folder(settings.database.url)
    try:
        report = restore_backup(
            archive,
            settings.database.url,
            Path(settings.storage.data_dir),
            store=open_photo_store(settings.storage),
            force=force,
        )
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(report)


@main.command("add-person")
@click.option("--username", required=True)
@click.option("--name", "display_name", required=True)
@click.option("--phone", default=None)
@click.option(
    "--role",
    required=True,
    help="canteen_staff, dorm_staff, teacher, inspector, school_admin or district_admin",
)
@click.option("--school", "school_code", required=True, help="School code the role applies to.")
@click.password_option()
@click.pass_context
def add_person(
    ctx: click.Context,
    username: str,
    display_name: str,
    phone: str | None,
    role: str,
    school_code: str,
    password: str,
) -> None:
    """Create a login with one role, e.g. the first administrator."""
    from models.catalogue import translate
    from models.clock import SystemClock
    from models.messages import DomainError
    from models.org import School
    from models.people import Role, create_person, grant_role

    try:
        chosen = Role(role)
    except ValueError:
        raise click.BadParameter(f"unknown role {role!r}", param_hint="--role") from None
    with _unit_of_work(_settings(ctx).database.url) as session:
        school = session.scalar(select(School).where(School.code == school_code))
        if school is None:
            raise click.BadParameter(f"no school {school_code!r}", param_hint="--school")
        try:
            person = create_person(
                session,
                username=username,
                display_name=display_name,
                password=password,
                phone=phone,
                now=SystemClock().now(),
            )
        except DomainError as exc:
            raise click.ClickException(
                translate("en", exc.message.msgid, **exc.message.params)
            ) from None
        grant_role(session, person, chosen, school)
    click.echo(f"created {username} as {chosen.value} at {school_code}")


if __name__ == "__main__":
    sys.exit(main())
