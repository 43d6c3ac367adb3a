"""Settings: the example file is complete and valid; mistakes stop start-up with the key's name."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from settings import ConfigError, Settings, database_engine, load_settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.toml"


def test_the_example_config_loads_and_names_every_setting() -> None:
    load_settings(EXAMPLE, environ={})

    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    for section in dataclasses.fields(Settings):
        fields = {f.name for f in dataclasses.fields(getattr(Settings(), section.name))}
        assert set(data[section.name]) == fields, section.name


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = tmp_path / "houqin.toml"
    path.write_text('[database]\nurl = "sqlite:///file.db"\n[server]\nport = 8001\n')

    settings = load_settings(
        path,
        environ={
            "HOUQIN_DATABASE_URL": "postgresql+psycopg://db/houqin",
            "HOUQIN_SECRET_KEY": "s3cret",
            "HOUQIN_BASE_URL": "https://houqin.example.edu.cn",
            "HOUQIN_TELEGRAM_TOKEN": "123:abc",
            "HOUQIN_DATA_DIR": "/srv/houqin",
            "HOUQIN_SERVER_PORT": "9000",
            "HOUQIN_STORAGE_KEEP_EXIF": "true",
        },
    )

    assert settings.database.url == "postgresql+psycopg://db/houqin"
    assert settings.server.secret_key == "s3cret"
    assert settings.server.base_url == "https://houqin.example.edu.cn"
    assert settings.telegram.token == "123:abc"
    assert settings.storage.data_dir == "/srv/houqin"
    assert settings.server.port == 9000
    assert settings.storage.keep_exif is True


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[server]\nprot = 8000\n", "unknown key server.prot"),
        ("[sever]\nport = 8000\n", "unknown section [sever]"),
        ('[server]\nport = "8000"\n', "server.port must be a whole number"),
        ("[storage]\nkeep_exif = 1\n", "storage.keep_exif must be true or false"),
        ("[server\n", "houqin.toml"),
        ('[i18n]\ndefault_locale = "zh-CN"\n', "i18n.default_locale must be zh_CN or en"),
        ('[i18n]\ntimezone = "Asia/Shanghia"\n', "'Asia/Shanghia' is not a time zone"),
        ('[labels]\nlayout = "A4"\n', "labels.layout must be one of 3x8, 3x7"),
        ('[server]\nbase_url = "houqin.school.cn"\n', "server.base_url must be an absolute"),
        (
            "[ledgers]\nimplausible_within_seconds = -1\n",
            "ledgers.implausible_within_seconds must be 0 or more",
        ),
        (
            "[ledgers]\nphoto_older_than_minutes = -1\n",
            "ledgers.photo_older_than_minutes must be 0 or more",
        ),
        (
            "[reports]\npublic_per_label_per_hour = 0\n",
            "reports.public_per_label_per_hour must be at least 1",
        ),
        ('[storage]\nkind = "oss"\n', "storage.kind must be local or s3"),
        ('[storage]\nkind = "s3"\n', "storage.s3_bucket must be set"),
        ('[storage]\nserve = "signed_url"\n', 'needs storage.kind = "s3"'),
        (
            '[storage]\nkind = "s3"\ns3_bucket = "b"\ns3_endpoint_url = "minio:9000"\n',
            "storage.s3_endpoint_url must be an http",
        ),
        (
            '[storage]\nkind = "s3"\ns3_bucket = "b"\ns3_access_key_id = "k"\n',
            "storage.s3_access_key_id and storage.s3_secret_access_key go together",
        ),
        (
            '[storage]\nkind = "s3"\ns3_bucket = "b"\nsigned_url_seconds = 0\n',
            "storage.signed_url_seconds must be between 1 and 604800",
        ),
        (
            '[storage]\nkind = "s3"\ns3_bucket = "b"\ns3_addressing_style = "host"\n',
            "storage.s3_addressing_style must be auto, path or virtual",
        ),
        ("[database]\npool_size = 0\n", "database.pool_size must be at least 1"),
        ("[database]\nmax_overflow = -1\n", "database.max_overflow must be 0 or more"),
    ],
)
def test_a_wrong_setting_stops_start_up_naming_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "houqin.toml"
    path.write_text(text)

    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        load_settings(path, environ={})


def test_a_wrong_environment_variable_is_named() -> None:
    with pytest.raises(ConfigError, match="HOUQIN_SERVER_PORT must be a whole number"):
        load_settings(None, environ={"HOUQIN_SERVER_PORT": "eighty"})
    with pytest.raises(ConfigError, match="HOUQIN_SERVR_PORT names no setting"):
        load_settings(None, environ={"HOUQIN_SERVR_PORT": "80"})


def test_the_pool_settings_reach_postgresql_engines_and_the_secret_comes_from_the_environment(
    tmp_path: Path,
) -> None:
    path = tmp_path / "houqin.toml"
    path.write_text(
        '[database]\nurl = "postgresql+psycopg://houqin@db/houqin"\n'
        "pool_size = 8\nmax_overflow = 2\npool_timeout_seconds = 5\n"
        '[storage]\nkind = "s3"\ns3_bucket = "houqin"\ns3_access_key_id = "minio"\n'
    )

    settings = load_settings(path, environ={"HOUQIN_STORAGE_S3_SECRET_ACCESS_KEY": "from-env"})
    engine = database_engine(settings.database)

    assert settings.storage.s3_secret_access_key == "from-env"
    assert engine.pool.size() == 8  # type: ignore[attr-defined]
    assert engine.pool._max_overflow == 2  # type: ignore[attr-defined]
    assert engine.pool._timeout == 5  # type: ignore[attr-defined]
    assert engine.pool._pre_ping is True
    engine.dispose()
