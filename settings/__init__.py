"""Settings: a TOML file, then HOUQIN_* variables; unknown or mistyped keys stop start-up."""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any, get_type_hints
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Engine, make_url

from models.catalogue import DEFAULT_LOCALE, LOCALES
from models.db import make_engine
from models.drills import DRILL_EVERY_DAYS
from models.org import DEFAULT_TIMEZONE
from models.photos import LocalPhotoStore, PhotoStore


class ConfigError(ValueError):
    """A setting is wrong; the message names the key."""


@dataclass
class ServerSettings:
    base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str = ""
    remember_days: int = 90
    proxy_hops: int = 0


@dataclass
class DatabaseSettings:
    url: str = "sqlite:///var/houqin.db"
    # PostgreSQL's connection pool, per process (SQLAlchemy's QueuePool); SQLite ignores them.
    pool_size: int = 5
    max_overflow: int = 10
    pool_timeout_seconds: int = 30
    pool_recycle_seconds: int = 1800
    pool_pre_ping: bool = True


STORAGE_KINDS = ("local", "s3")
SERVE_MODES = ("app", "signed_url")
ADDRESSING_STYLES = ("auto", "path", "virtual")


@dataclass
class StorageSettings:
    data_dir: str = "var/data"
    keep_exif: bool = False
    kind: str = "local"
    serve: str = "app"
    signed_url_seconds: int = 300
    s3_endpoint_url: str = ""
    s3_bucket: str = ""
    s3_region: str = ""
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    s3_prefix: str = ""
    s3_addressing_style: str = "auto"


@dataclass
class I18nSettings:
    """What a new district gets (District.locale, District.timezone), and what a visitor who
    has not logged in reads; each person then reads their own choice, else their district's."""

    default_locale: str = DEFAULT_LOCALE
    timezone: str = DEFAULT_TIMEZONE


@dataclass
class LabelSettings:
    layout: str = "3x8"
    font: str = ""


@dataclass
class TripSettings:
    arrival_within_minutes: int = 120


@dataclass
class ScheduleSettings:
    """Defaults for new duties and how the sweep behaves; each duty can change its own."""

    remind_before_minutes: int = 60
    escalate_school_after_hours: int = 24
    escalate_district_after_hours: int = 72
    dispenser_every_days: int = 7
    digest_at: str = "07:30"
    catch_up_after_minutes: int = 30
    sweep_every_seconds: int = 60


@dataclass
class ScoreSettings:
    """The school score's first scheme: each indicator's weight (points out of their sum) and
    the grade bands; district administrators then edit their own, each save a new version."""

    weight_on_time: int = 30
    weight_actions_fixed: int = 15
    weight_certificates: int = 15
    weight_insurance: int = 10
    weight_drills: int = 10
    weight_trips: int = 10
    weight_flags: int = 10
    weight_reports_signed: int = 0
    band_a: int = 90
    band_b: int = 75
    band_c: int = 60
    drill_every_days: int = DRILL_EVERY_DAYS


@dataclass
class TelegramSettings:
    token: str = ""
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    bot_username: str = ""
    send_every_seconds: int = 5
    # "polling" (the default) or "webhook": Telegram calls server.base_url + "/" + webhook_path,
    # which the reverse proxy passes to the bot listening on webhook_listen:webhook_port.
    mode: str = "polling"
    webhook_path: str = "telegram/webhook"
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: str = ""


@dataclass
class WeComSettings:
    """WeCom (企业微信): group robots need no account here (each group's webhook key is set
    in the web app); application messages to one person need the corp's self-built app."""

    base_url: str = "https://qyapi.weixin.qq.com"
    corp_id: str = ""
    agent_id: int = 0
    secret: str = ""

    @property
    def app_enabled(self) -> bool:
        return bool(self.corp_id and self.agent_id and self.secret)


@dataclass
class DingTalkSettings:
    """DingTalk (钉钉) custom robots: each group's access token and signing secret are set in
    the web app; only the service's address is configured here."""

    base_url: str = "https://oapi.dingtalk.com"


@dataclass
class EmailSettings:
    """E-mail over SMTP (STARTTLS), for people without any chat; off while host is empty."""

    host: str = ""
    port: int = 587
    starttls: bool = True
    username: str = ""
    password: str = ""
    sender: str = ""  # the From address, e.g. "Houqin 后勤 <houqin@school.edu.cn>"
    timeout_seconds: int = 30

    @property
    def enabled(self) -> bool:
        return bool(self.host and self.sender)


@dataclass
class ChannelSettings:
    """How the senders besides Telegram's run (`houqin send`); the lease is the bot's too."""

    send_every_seconds: int = 5
    # A sender's claim on a delivery lasts this long (every channel's, Telegram's too); a
    # sender killed mid-send leaves its claims to expire, and another sender takes them.
    lease_seconds: int = 120
    # Group robots (WeCom, DingTalk) take about 20 messages a minute per group.
    robot_per_minute: int = 20


@dataclass
class LedgerSettings:
    # A record filed by the same person at another asset less than this many seconds after
    # their last one is flagged implausible on the ledger (0: never).
    implausible_within_seconds: int = 30
    # A record whose photo was captured more than this many minutes before it arrived (an old
    # photo from the album) is flagged too; a photo with no capture time at all always is
    # (0: never, for either).
    photo_older_than_minutes: int = 60


@dataclass
class ReportSettings:
    # Problems reported without an account (a scanned label's 报告问题): how many are taken
    # per label in an hour and per client address in a day.
    public_per_label_per_hour: int = 5
    public_per_address_per_day: int = 10


@dataclass
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    i18n: I18nSettings = field(default_factory=I18nSettings)
    labels: LabelSettings = field(default_factory=LabelSettings)
    trips: TripSettings = field(default_factory=TripSettings)
    schedules: ScheduleSettings = field(default_factory=ScheduleSettings)
    score: ScoreSettings = field(default_factory=ScoreSettings)
    ledgers: LedgerSettings = field(default_factory=LedgerSettings)
    reports: ReportSettings = field(default_factory=ReportSettings)
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    wecom: WeComSettings = field(default_factory=WeComSettings)
    dingtalk: DingTalkSettings = field(default_factory=DingTalkSettings)
    email: EmailSettings = field(default_factory=EmailSettings)
    channels: ChannelSettings = field(default_factory=ChannelSettings)


SHORT_ENV_NAMES = {
    "HOUQIN_DATABASE_URL": ("database", "url"),
    "HOUQIN_SECRET_KEY": ("server", "secret_key"),
    "HOUQIN_BASE_URL": ("server", "base_url"),
    "HOUQIN_TELEGRAM_TOKEN": ("telegram", "token"),
    "HOUQIN_DATA_DIR": ("storage", "data_dir"),
}


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults, overlaid by the TOML file, overlaid by the environment."""
    environ = os.environ if environ is None else environ
    settings = Settings()
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from None
        _apply_file(settings, data, str(path))
    _apply_environment(settings, environ)
    _check_values(settings)
    return settings


def _check_values(settings: Settings) -> None:
    """Values that parse but would break every request are refused at start-up."""
    from qr_labels import LAYOUTS

    base = urlsplit(settings.server.base_url)
    if base.scheme not in ("http", "https") or not base.netloc:
        raise ConfigError(
            f"server.base_url must be an absolute http(s) address that phones can open, "
            f"not {settings.server.base_url!r}"
        )
    if not 0 < settings.server.port < 65536:
        raise ConfigError(f"server.port must be between 1 and 65535, not {settings.server.port}")
    if settings.server.remember_days < 1:
        raise ConfigError("server.remember_days must be at least 1")
    if settings.i18n.default_locale not in LOCALES:
        raise ConfigError(
            f"i18n.default_locale must be {' or '.join(LOCALES)}, "
            f"not {settings.i18n.default_locale!r}"
        )
    try:
        ZoneInfo(settings.i18n.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"i18n.timezone {settings.i18n.timezone!r} is not a time zone name "
            "such as Asia/Shanghai"
        ) from None
    if settings.trips.arrival_within_minutes < 1:
        raise ConfigError("trips.arrival_within_minutes must be at least 1")
    _check_schedules(settings.schedules)
    _check_score(settings.score)
    if settings.ledgers.implausible_within_seconds < 0:
        raise ConfigError("ledgers.implausible_within_seconds must be 0 or more")
    if settings.ledgers.photo_older_than_minutes < 0:
        raise ConfigError("ledgers.photo_older_than_minutes must be 0 or more")
    for name in ("public_per_label_per_hour", "public_per_address_per_day"):
        if getattr(settings.reports, name) < 1:
            raise ConfigError(f"reports.{name} must be at least 1")
    telegram = settings.telegram
    if telegram.mode not in ("polling", "webhook"):
        raise ConfigError(f"telegram.mode must be polling or webhook, not {telegram.mode!r}")
    if telegram.mode == "webhook" and not re.fullmatch(
        r"[A-Za-z0-9_-]{16,256}", telegram.webhook_secret
    ):
        raise ConfigError(
            "telegram.webhook_secret must be 16 to 256 letters, digits, _ or - in webhook mode "
            "(Telegram sends it with every call, so strangers cannot post updates)"
        )
    if settings.telegram.send_every_seconds < 1:
        raise ConfigError("telegram.send_every_seconds must be at least 1")
    for name in ("base_url", "base_file_url"):
        address = urlsplit(getattr(settings.telegram, name))
        if address.scheme not in ("http", "https") or not address.netloc:
            raise ConfigError(f"telegram.{name} must be an http(s) address")
    _check_channels(settings)
    _check_database(settings.database)
    _check_storage(settings.storage)
    if settings.labels.layout not in LAYOUTS:
        raise ConfigError(
            f"labels.layout must be one of {', '.join(LAYOUTS)}, not {settings.labels.layout!r}"
        )


def _check_channels(settings: Settings) -> None:
    for section in ("wecom", "dingtalk"):
        address = urlsplit(getattr(settings, section).base_url)
        if address.scheme not in ("http", "https") or not address.netloc:
            raise ConfigError(f"{section}.base_url must be an http(s) address")
    if not 0 < settings.email.port < 65536:
        raise ConfigError(f"email.port must be between 1 and 65535, not {settings.email.port}")
    if settings.email.host and not settings.email.sender:
        raise ConfigError("email.sender must be set when email.host is (the From address)")
    for name in ("send_every_seconds", "lease_seconds", "robot_per_minute"):
        if getattr(settings.channels, name) < 1:
            raise ConfigError(f"channels.{name} must be at least 1")


def _check_database(database: DatabaseSettings) -> None:
    for name in ("pool_size", "pool_timeout_seconds"):
        if getattr(database, name) < 1:
            raise ConfigError(f"database.{name} must be at least 1")
    if database.max_overflow < 0:
        raise ConfigError("database.max_overflow must be 0 or more")


def _check_storage(storage: StorageSettings) -> None:
    if storage.kind not in STORAGE_KINDS:
        raise ConfigError(f"storage.kind must be local or s3, not {storage.kind!r}")
    if storage.serve not in SERVE_MODES:
        raise ConfigError(f"storage.serve must be app or signed_url, not {storage.serve!r}")
    if storage.kind == "local":
        if storage.serve == "signed_url":
            raise ConfigError(
                'storage.serve = "signed_url" needs storage.kind = "s3": '
                "a data folder has no signed addresses, the app serves its files"
            )
        return
    if not storage.s3_bucket:
        raise ConfigError('storage.s3_bucket must be set when storage.kind = "s3"')
    if storage.s3_endpoint_url:
        address = urlsplit(storage.s3_endpoint_url)
        if address.scheme not in ("http", "https") or not address.netloc:
            raise ConfigError(
                "storage.s3_endpoint_url must be an http(s) address such as "
                f"http://127.0.0.1:9000, not {storage.s3_endpoint_url!r}"
            )
    if storage.s3_addressing_style not in ADDRESSING_STYLES:
        raise ConfigError(
            "storage.s3_addressing_style must be auto, path or virtual, "
            f"not {storage.s3_addressing_style!r}"
        )
    if bool(storage.s3_access_key_id) != bool(storage.s3_secret_access_key):
        raise ConfigError(
            "storage.s3_access_key_id and storage.s3_secret_access_key go together: "
            "set both, or neither to use the AWS_* environment"
        )
    # A presigned S3 address lives at most seven days.
    if not 1 <= storage.signed_url_seconds <= 7 * 24 * 3600:
        raise ConfigError("storage.signed_url_seconds must be between 1 and 604800 (7 days)")


def open_photo_store(storage: StorageSettings) -> PhotoStore:
    """The store the config names: the data folder, or the S3-compatible object store."""
    if storage.kind == "s3":
        from models.object_store import ObjectStoreAddress, S3PhotoStore

        return S3PhotoStore(
            ObjectStoreAddress(
                bucket=storage.s3_bucket,
                endpoint_url=storage.s3_endpoint_url,
                region=storage.s3_region,
                access_key_id=storage.s3_access_key_id,
                secret_access_key=storage.s3_secret_access_key,
                prefix=storage.s3_prefix,
                addressing_style=storage.s3_addressing_style,
            )
        )
    return LocalPhotoStore(Path(storage.data_dir))


def database_engine(database: DatabaseSettings) -> Engine:
    """The engine for the configured database, with its pool settings on PostgreSQL."""
    if make_url(database.url).get_backend_name() == "sqlite":
        return make_engine(database.url)
    return make_engine(
        database.url,
        pool_size=database.pool_size,
        max_overflow=database.max_overflow,
        pool_timeout=database.pool_timeout_seconds,
        pool_recycle=database.pool_recycle_seconds,
        pool_pre_ping=database.pool_pre_ping,
    )


def _check_schedules(schedules: ScheduleSettings) -> None:
    for name in (
        "remind_before_minutes",
        "escalate_school_after_hours",
        "dispenser_every_days",
        "catch_up_after_minutes",
        "sweep_every_seconds",
    ):
        if getattr(schedules, name) < (0 if name == "remind_before_minutes" else 1):
            raise ConfigError(f"schedules.{name} must be at least 1")
    if schedules.escalate_district_after_hours < schedules.escalate_school_after_hours:
        raise ConfigError(
            "schedules.escalate_district_after_hours must not be less than "
            "schedules.escalate_school_after_hours"
        )
    try:
        time.fromisoformat(schedules.digest_at)
    except ValueError:
        raise ConfigError(
            f"schedules.digest_at must be a local time like 07:30, not {schedules.digest_at!r}"
        ) from None


def _check_score(score: ScoreSettings) -> None:
    weights = {k: v for k, v in dataclasses.asdict(score).items() if k.startswith("weight_")}
    for name, value in weights.items():
        if not 0 <= value <= 100:
            raise ConfigError(f"score.{name} must be between 0 and 100")
    if not any(weights.values()):
        raise ConfigError("score: at least one weight_* must be more than 0")
    if not 100 >= score.band_a >= score.band_b >= score.band_c >= 0:
        raise ConfigError("score.band_a, band_b and band_c must go down from at most 100 to 0")
    if score.drill_every_days < 1:
        raise ConfigError("score.drill_every_days must be at least 1")


def _sections() -> dict[str, type]:
    return {f.name: get_type_hints(Settings)[f.name] for f in dataclasses.fields(Settings)}


def _apply_file(settings: Settings, data: Mapping[str, Any], source: str) -> None:
    sections = _sections()
    for section_name, values in data.items():
        if section_name not in sections:
            raise ConfigError(
                f"{source}: unknown section [{section_name}]; known: {', '.join(sections)}"
            )
        if not isinstance(values, Mapping):
            raise ConfigError(f"{source}: [{section_name}] must be a table")
        section = getattr(settings, section_name)
        hints = get_type_hints(type(section))
        for key, value in values.items():
            name = f"{section_name}.{key}"
            if key not in hints:
                raise ConfigError(f"{source}: unknown key {name}")
            expected = hints[key]
            if (expected is int and isinstance(value, bool)) or not isinstance(value, expected):
                raise ConfigError(
                    f"{source}: {name} must be {_type_name(expected)}, "
                    f"not {type(value).__name__} ({value!r})"
                )
            setattr(section, key, value)


def _apply_environment(settings: Settings, environ: Mapping[str, str]) -> None:
    sections = _sections()
    for var, raw in environ.items():
        if not var.startswith("HOUQIN_") or var in ("HOUQIN_CONFIG", "HOUQIN_TEST_DATABASE_URL"):
            continue
        target = SHORT_ENV_NAMES.get(var) or _generic_target(var, sections)
        if target is None:
            raise ConfigError(
                f"environment variable {var} names no setting "
                f"(use HOUQIN_<SECTION>_<KEY>, e.g. HOUQIN_SERVER_PORT)"
            )
        section_name, key = target
        section = getattr(settings, section_name)
        expected = get_type_hints(type(section))[key]
        setattr(section, key, _coerce(raw, expected, var))


def _generic_target(var: str, sections: Mapping[str, type]) -> tuple[str, str] | None:
    rest = var.removeprefix("HOUQIN_").lower()
    for section_name, section_type in sections.items():
        prefix = section_name + "_"
        if rest.startswith(prefix):
            key = rest.removeprefix(prefix)
            if key in get_type_hints(section_type):
                return section_name, key
    return None


def _coerce(raw: str, expected: type, var: str) -> Any:
    if expected is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{var} must be true or false, not {raw!r}")
    if expected is int:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{var} must be a whole number, not {raw!r}") from None
    return raw


def _type_name(expected: type) -> str:
    return {str: "a string", int: "a whole number", bool: "true or false"}.get(
        expected, expected.__name__
    )
