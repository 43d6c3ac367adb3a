"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from houqin.migrate import SchemaOutOfDate, alembic_config, check_current, downgrade, upgrade
from models import Base
from models.db import make_engine
from tests.conftest import BACKENDS, pg_schema


@pytest.fixture(params=BACKENDS)
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
        yield engine
        engine.dispose()
        return
    with pg_schema(f"houqin_migrations_{os.getpid()}") as engine:
        yield engine


def test_migrations_match_the_models(empty_engine: Engine) -> None:
    upgrade(empty_engine)

    with empty_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)

    assert differences == []


def test_foreign_keys_still_hold_after_an_upgrade(empty_engine: Engine) -> None:
    upgrade(empty_engine)

    with pytest.raises(IntegrityError), empty_engine.begin() as connection:
        connection.execute(
            text("INSERT INTO school (id, district_id, code, name) VALUES (1, 99, 'S', 'S')")
        )


def test_upgrading_twice_changes_nothing(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    upgrade(empty_engine)

    with empty_engine.connect() as connection:
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert version == head


def test_stored_mobiles_become_their_eleven_digits_unless_that_is_someone_elses(
    empty_engine: Engine,
) -> None:
    from alembic import command

    from houqin.migrate import alembic_config

    config = alembic_config(empty_engine.url.render_as_string(hide_password=False))
    with empty_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
        for number, (username, phone) in enumerate(
            (("wang", "+8613900000001"), ("li", "13900000002"), ("zhao", "+8613900000002"))
        ):
            connection.execute(
                text(
                    "INSERT INTO person (id, username, display_name, phone, password_hash,"
                    " active, created_at, failed_logins)"
                    " VALUES (:id, :username, :username, :phone, '', :active, :at, 0)"
                ),
                {
                    "id": number + 1,
                    "username": username,
                    "phone": phone,
                    "active": True,
                    "at": "2026-03-02 00:00:00",
                },
            )
        command.upgrade(config, "0005")

    with empty_engine.connect() as connection:
        phones = dict(connection.execute(text("SELECT username, phone FROM person")).all())
    assert phones == {"wang": "13900000001", "li": "13900000002", "zhao": "+8613900000002"}


def test_linked_chats_become_telegram_addresses_and_back(empty_engine: Engine) -> None:
    from alembic import command

    config = alembic_config(empty_engine.url.render_as_string(hide_password=False))
    with empty_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0007")
        connection.execute(
            text(
                "INSERT INTO person (id, username, display_name, password_hash, active,"
                " created_at, must_change_password) VALUES (1, 'wang', 'wang', '', :yes, :at, :no)"
            ),
            {"yes": True, "no": False, "at": "2026-03-02 00:00:00"},
        )
        connection.execute(
            text(
                "INSERT INTO chat_link (person_id, chat_id, linked_at)"
                " VALUES (1, 5000000001, '2026-03-02 00:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO notification (id, recipient_id, severity, message, params, text,"
                " dedup_key, created_at, task_ids) VALUES (1, 1, 'info', 'Hello', '{}', 'Hello',"
                " 'k', '2026-03-02 00:00:00', '[]')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO delivery (notification_id, channel, attempts, outcome, message_id)"
                " VALUES (1, 'telegram', 0, 'sent', 77)"
            )
        )
        command.upgrade(config, "head")
        addresses = connection.execute(
            text("SELECT person_id, channel, address FROM channel_account")
        ).all()
        external = connection.execute(text("SELECT external_id FROM delivery")).scalar()
        command.downgrade(config, "0007")
        chats = connection.execute(text("SELECT person_id, chat_id FROM chat_link")).all()
        message = connection.execute(text("SELECT message_id FROM delivery")).scalar()

    assert addresses == [(1, "telegram", "5000000001")] and external == "77"
    assert chats == [(1, 5000000001)] and message == 77


def test_districts_made_before_they_had_a_language_get_the_configured_one(
    empty_engine: Engine,
) -> None:
    from alembic import command

    config = alembic_config(empty_engine.url.render_as_string(hide_password=False))
    with empty_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0008")
        connection.execute(
            text("INSERT INTO district (id, code, name, timezone) VALUES (1, 'D', 'D', 'UTC')")
        )
        connection.execute(
            text("INSERT INTO school (id, district_id, code, name) VALUES (1, 1, 'S', 'S')")
        )
    upgrade(empty_engine, default_locale="en")

    with empty_engine.connect() as connection:
        assert connection.execute(text("SELECT locale FROM district")).scalar() == "en"
    with empty_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0008")
        schools = connection.execute(text("SELECT code FROM school")).scalars().all()
    assert schools == ["S"]


def test_records_kept_before_0014_get_the_asset_and_gap_of_the_persons_previous_one(
    empty_engine: Engine,
) -> None:
    from datetime import timedelta

    from sqlalchemy.orm import Session

    from models.checklists import sync_builtin_templates
    from models.clock import SettableClock
    from tests.conftest import START
    from tests.factories import make_asset, make_person, make_record_row, make_school

    upgrade(empty_engine)
    clock = SettableClock(START)
    with Session(empty_engine) as session:
        sync_builtin_templates(session, now=clock.now())
        school = make_school(session)
        desk = make_person(session, clock, school)
        first = make_asset(session, clock, school)
        second = make_asset(session, clock, school, code="MHQ-002", name="二楼西侧灭火器")
        for asset, seconds in ((first, 0), (second, 12), (second, 30), (first, 7200)):
            make_record_row(session, asset, desk, START + timedelta(seconds=seconds))
        session.commit()
        first_id = first.id
    downgrade(empty_engine, "0011")
    upgrade(empty_engine)

    with empty_engine.connect() as connection:
        kept = connection.execute(
            text("SELECT after_asset_id, after_seconds FROM record ORDER BY submitted_at")
        ).all()
    # The second asset 12 s after the first; the same asset again; two hours on is no pair.
    assert [tuple(row) for row in kept] == [
        (None, None),
        (first_id, 12),
        (None, None),
        (None, None),
    ]


def test_every_bus_already_registered_gets_its_rear_label(empty_engine: Engine) -> None:
    upgrade(empty_engine, target="0014")
    with empty_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO district (id, code, name, timezone, locale)"
                " VALUES (1, 'D', 'D', 'Asia/Shanghai', 'zh_CN')"
            )
        )
        connection.execute(
            text("INSERT INTO school (id, district_id, code, name) VALUES (1, 1, 'S', 'S')")
        )
        for number, kind in enumerate(("bus", "extinguisher")):
            connection.execute(
                text(
                    "INSERT INTO asset (id, school_id, kind, code, name, attributes, created_at)"
                    " VALUES (:id, 1, :kind, :code, :kind, '{}', '2026-03-02 00:00:00')"
                ),
                {"id": number + 1, "kind": kind, "code": f"A-{number}"},
            )
            connection.execute(
                text(
                    "INSERT INTO label (asset_id, token, issued_at)"
                    " VALUES (:id, :token, '2026-03-02 00:00:00')"
                ),
                {"id": number + 1, "token": f"front-token-of-asset-{number}-xxxx"},
            )
    upgrade(empty_engine, target="0017")
    with empty_engine.connect() as connection:
        labels = connection.execute(
            text("SELECT asset_id, position FROM label ORDER BY asset_id, position")
        ).all()
    downgrade(empty_engine, "0013")
    with empty_engine.connect() as connection:
        left = connection.execute(text("SELECT count(*) FROM label")).scalar()

    assert [tuple(row) for row in labels] == [(1, "front"), (1, "rear"), (2, "front")]
    assert left == 2


def test_the_built_in_night_patrol_opens_after_dark_and_a_districts_own_times_stay(
    empty_engine: Engine,
) -> None:
    upgrade(empty_engine, target="0020")
    with empty_engine.begin() as connection:
        for duty_id, at, builtin in ((1, "21:30", True), (2, "20:45", True), (3, "21:30", False)):
            connection.execute(
                text(
                    "INSERT INTO district (id, code, name, timezone, locale)"
                    " VALUES (:id, :code, 'D', 'Asia/Shanghai', 'zh_CN')"
                ),
                {"id": duty_id, "code": f"D{duty_id}"},
            )
            connection.execute(
                text(
                    "INSERT INTO duty (id, district_id, asset_kind, template_key, rule,"
                    " remind_before, escalate_school_after, escalate_district_after, active,"
                    " builtin, created_at) VALUES (:id, :id, 'school_office', 'fire_night_patrol',"
                    " :rule, 60, 1440, 4320, true, :builtin, '2026-03-02 00:00:00')"
                ),
                {
                    "id": duty_id,
                    "rule": f'{{"frequency": "daily", "at": "{at}"}}',
                    "builtin": builtin,
                },
            )

    def rules() -> list[tuple[str, str | None]]:
        with empty_engine.connect() as connection:
            rows = connection.execute(text("SELECT rule FROM duty ORDER BY id")).scalars()
            return [(r["at"], r.get("opens")) for r in map(_json, rows)]

    upgrade(empty_engine)
    after = rules()
    downgrade(empty_engine, "0020")

    assert after == [("22:00", "19:00"), ("20:45", None), ("21:30", None)]
    assert rules() == [("21:30", None), ("20:45", None), ("21:30", None)]


def _json(value: object) -> dict[str, str]:
    import json

    return value if isinstance(value, dict) else json.loads(str(value))


def test_the_schema_is_checked_while_another_process_holds_the_write_lock(
    tmp_path: Path,
) -> None:
    """A web worker starting beside busy writers reads the schema's version at once."""
    path = tmp_path / "busy.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        writer.execute("UPDATE alembic_version SET version_num = version_num")
        check_current(f"sqlite:///{path}")
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_a_database_behind_the_code_is_refused(empty_engine: Engine) -> None:
    upgrade(empty_engine, target="0036_login_sessions")
    url = empty_engine.url.render_as_string(hide_password=False)

    with pytest.raises(SchemaOutOfDate, match="0036_login_sessions"):
        check_current(url)
