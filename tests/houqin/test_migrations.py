"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, select, text
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


# --- every migration upgrades a filled database -------------------------------------------
#
# Before each revision's upgrade, every table of the schema as it then is gets a few rows
# (reflected, in foreign-key order, values of each column's type); after it, every row is still
# there. At the head the filled database's foreign keys hold and every row loads through the
# models. Then, on SQLite, the chain is walked down again with the data in it.

ROWS_PER_TABLE = 2
# Columns left empty because a CHECK allows only one of them (a document has one holder).
LEFT_EMPTY = {("document", "supplier_id"), ("document", "asset_id")}
# JSON the migrations read, in the shape the models keep it; every other JSON column gets {}.
JSON_VALUES: dict[tuple[str, str], object] = {
    ("duty", "rule"): {"frequency": "daily", "at": "21:30"},
}
# Tables whose rows a migration moves into another table, each row becoming one there.
MOVED_ROWS = {"0008": ("chat_link", "channel_account")}  # a chat becomes a Telegram address
# Rows a migration removes on purpose: (revision, table) -> why. None yet.
CHANGED_ROWS: dict[tuple[str, str], str] = {}
# The downgrade that cannot take the data back (every later one runs with data): what the
# error says, and why. The walk down stops there.
DOWNGRADE_REFUSED = {
    # 0002 let a corrective action have no record (a public report opens one); 0001's schema
    # needs a record for each, so such an action has nowhere to go.
    "0002": "NOT NULL constraint failed: _alembic_tmp_corrective_action.record_id",
}


def _revisions() -> list[str]:
    """The chain from the first revision to the head."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def _enum_values() -> dict[tuple[str, str], list[str]]:
    """The values an enum column of the models takes, by (table, column)."""
    from sqlalchemy import Enum

    return {
        (table.name, column.name): list(column.type.enums)
        for table in Base.metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, Enum)
    }


class _Filler:
    """Values that fit each column, never the same twice, so unique constraints hold."""

    def __init__(self) -> None:
        self.counter = 0
        self.enums = _enum_values()

    def value(self, table: str, column: Any, k: int) -> object:
        from datetime import date, time

        from sqlalchemy import types

        self.counter += 1
        n = self.counter
        kind = column.type
        enum = self.enums.get((table, column.name)) or getattr(kind, "enums", None)
        if enum:
            return enum[k % len(enum)]
        if isinstance(kind, types.Boolean):
            return k % 2 == 0
        if isinstance(kind, types.Integer):
            return n
        if isinstance(kind, types.Float | types.Numeric):
            return n + 0.5
        if isinstance(kind, types.DateTime):
            return datetime(2026, 3, 2, 0, 30) + timedelta(minutes=n)
        if isinstance(kind, types.Date):
            return date(2026, 3, 2) + timedelta(days=n)
        if isinstance(kind, types.Time):
            return time(n % 24, n % 60)
        if isinstance(kind, types.JSON):
            return JSON_VALUES.get((table, column.name), {})
        if isinstance(kind, types.LargeBinary):
            return f"bytes {n}".encode()
        if isinstance(kind, types.String):
            text_value = f"{column.name[:3]}{n}"
            length = getattr(kind, "length", None)
            return text_value[-length:] if length else text_value
        raise AssertionError(f"no value for {table}.{column.name} of type {kind!r}")


@dataclass(frozen=True)
class _Table:
    """A table as it now is: its columns, and the (table, column) each foreign key names."""

    table: Any
    parents: dict[str, tuple[str, str]]


_TABLES: dict[object, _Table] = {}
_SHAPES = {
    # SQLite keeps each table's CREATE statement.
    "sqlite": "SELECT name, sql FROM sqlite_master WHERE type = 'table'"
    " AND name NOT LIKE 'sqlite_%'",
    # PostgreSQL: each table's columns, then its primary and foreign keys.
    "postgresql": "SELECT c.relname, (SELECT string_agg(a.attname || ' '"
    " || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull, ',' ORDER BY a.attnum)"
    " FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)"
    " || ';' || coalesce((SELECT string_agg(pg_get_constraintdef(o.oid), ',' ORDER BY o.conname)"
    " FROM pg_constraint o WHERE o.conrelid = c.oid AND o.contype IN ('p', 'f')), '')"
    " FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace",
}


def _schema(connection: Any) -> list[_Table]:
    """The tables as they are now, parents first (read in a few queries for all tables at once;
    a table unchanged since the last revision is the same object, its inserts compiled once)."""
    from sqlalchemy import inspect

    # Each table's shape in one query: only a table whose shape changed is read again.
    shapes = dict(connection.exec_driver_sql(_SHAPES[connection.dialect.name]).all())
    shapes.pop("alembic_version", None)
    unread = [name for name, shape in shapes.items() if (name, shape) not in _TABLES]
    if unread:
        for name, shaped in _read(inspect(connection), unread).items():
            _TABLES[(name, shapes[name])] = shaped
    tables = {name: _TABLES[(name, shape)] for name, shape in shapes.items()}
    return _parents_first(tables)


def _read(inspector: Any, names: list[str] | None) -> dict[str, _Table]:
    """These tables (None: all) as the database describes them."""
    from sqlalchemy import Column, MetaData, Table

    columns = inspector.get_multi_columns(filter_names=names)
    primary = inspector.get_multi_pk_constraint(filter_names=names)
    foreign = inspector.get_multi_foreign_keys(filter_names=names)
    tables = {}
    for (schema, name), described in columns.items():
        if name == "alembic_version":
            continue
        keys = primary[(schema, name)]["constrained_columns"]
        parents = {
            mine: (fk["referred_table"], theirs)
            for fk in foreign[(schema, name)]
            for mine, theirs in zip(fk["constrained_columns"], fk["referred_columns"], strict=True)
        }
        shape = repr(
            (name, keys, parents, [(c["name"], c["type"], c["nullable"]) for c in described])
        )
        if shape not in _TABLES:
            table = Table(
                name,
                MetaData(),
                *(
                    Column(
                        c["name"], c["type"], nullable=c["nullable"], primary_key=c["name"] in keys
                    )
                    for c in described
                ),
            )
            _TABLES[shape] = _Table(table, parents)
        tables[name] = _TABLES[shape]
    return tables


def _parents_first(tables: dict[str, _Table]) -> list[_Table]:
    ordered: list[_Table] = []
    placed: set[str] = set()

    def place(name: str, path: tuple[str, ...] = ()) -> None:
        if name in placed or name in path or name not in tables:
            return
        for parent, _column in tables[name].parents.values():
            place(parent, (*path, name))
        placed.add(name)
        ordered.append(tables[name])

    for name in sorted(tables):
        place(name)
    return ordered


def _fill(connection: Any, filler: _Filler, tables: list[_Table]) -> None:
    """A few rows in every table, parents first."""
    from sqlalchemy import types

    added: dict[str, list[dict[str, object]]] = {}
    for shaped in tables:
        table, parent_of = shaped.table, shaped.parents
        keys = list(table.primary_key.columns)
        numbered = len(keys) == 1 and isinstance(keys[0].type, types.Integer)
        # A row pointing at an earlier row of its own table waits for that row's key.
        one_by_one = any(parent == table.name for parent, _ in parent_of.values())
        rows: list[dict[str, object]] = []
        for k in range(ROWS_PER_TABLE):
            row: dict[str, object] = {}
            for column in table.columns:
                if numbered and column is keys[0] and column.name not in parent_of:
                    continue  # the database numbers it, as the app's inserts do
                target = parent_of.get(column.name)
                if (table.name, column.name) in LEFT_EMPTY:
                    row[column.name] = None
                elif target is not None:
                    same = target[0] == table.name
                    parents = rows if same else added.get(target[0], [])
                    if not parents or (column.nullable and k == 0):
                        assert column.nullable, f"{table.name}.{column.name}: no parent row"
                        row[column.name] = None
                    else:
                        row[column.name] = parents[-1 if same else k % len(parents)][target[1]]
                elif column.nullable and k == 0:
                    row[column.name] = None  # the first row leaves out what it may
                else:
                    row[column.name] = filler.value(table.name, column, k)
            rows.append(row)
            if one_by_one:
                _insert(connection, table, rows[-1:])
        if not one_by_one:
            _insert(connection, table, rows)
        added[table.name] = rows


def _insert(connection: Any, table: Any, rows: list[dict[str, object]]) -> None:
    """The rows in one statement, each then holding the key the database gave it."""
    keys = list(table.primary_key.columns)
    inserted = connection.execute(
        table.insert().returning(*keys, sort_by_parameter_order=True), rows
    ).all()
    for row, key in zip(rows, inserted, strict=True):
        row.update({c.name: v for c, v in zip(keys, key, strict=True)})


def _keys(
    connection: Any, shaped: list[_Table] | None = None
) -> dict[str, set[tuple[object, ...]]]:
    """Every table's primary keys, read in one query."""
    tables = [s.table for s in (shaped if shaped is not None else _schema(connection))]
    parts = [
        f"SELECT '{table.name}', "
        + " || '|' || ".join(f'CAST("{c.name}" AS TEXT)' for c in table.primary_key)
        + f' FROM "{table.name}"'
        for table in tables
    ]
    keys: dict[str, set[tuple[object, ...]]] = {table.name: set() for table in tables}
    for name, key in connection.exec_driver_sql(" UNION ALL ".join(parts)) if parts else ():
        keys[name].add((key,))
    return keys


def _lost(
    revision: str,
    before: dict[str, set[tuple[object, ...]]],
    after: dict[str, set[tuple[object, ...]]],
) -> dict[str, int]:
    """How many rows of each table went missing in this revision, but for those it moves or
    removes on purpose (a table the revision drops counts, unless it moves its rows)."""
    moved_from, moved_to = MOVED_ROWS.get(revision, ("", ""))
    if moved_from in before and moved_from not in after:
        gained = len(after[moved_to]) - len(before.get(moved_to, set()))
        assert gained == len(before[moved_from]), f"{revision} moved {moved_from}'s rows"
    return {
        table: len(keys - after.get(table, set()))
        for table, keys in before.items()
        if keys - after.get(table, set())
        and table != moved_from
        and (revision, table) not in CHANGED_ROWS
    }


def test_every_migration_keeps_every_row_of_a_database_filled_with_the_schema_before_it(
    empty_engine: Engine,
) -> None:
    from sqlalchemy.orm import Session

    filler = _Filler()
    applied: list[str] = []
    filled: dict[str, set[tuple[object, ...]]] = {}

    def check_then_fill(connection: Any, revision: str) -> None:
        tables = _schema(connection)
        assert _lost(revision, filled, _keys(connection, tables)) == {}, f"{revision} lost rows"
        applied.append(revision)
        _fill(connection, filler, tables)
        filled.clear()
        filled.update(_keys(connection, tables))

    upgrade(empty_engine, after_each=check_then_fill)

    assert applied == _revisions()
    with empty_engine.connect() as connection:
        if empty_engine.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    with Session(empty_engine) as session:
        loaded = {
            mapper.local_table.name: len(session.scalars(select(mapper.class_)).all())
            for mapper in Base.registry.mappers
        }
    assert {t: n for t, n in loaded.items() if n != len(filled[t])} == {}
    if empty_engine.dialect.name == "sqlite":  # where a batch migration rebuilds tables
        _walk_down(empty_engine)


def _walk_down(engine: Engine) -> None:
    """Each downgrade from the filled head keeps the rows its schema still holds, down to the
    one known to refuse the data."""
    undone: list[str] = []
    with engine.connect() as connection:
        kept = _keys(connection)

    def check(connection: Any, revision: str) -> None:
        after = _keys(connection)
        lost = {t: n for t, n in _lost(revision, kept, after).items() if t in after}
        assert lost == {}, f"the downgrade of {revision} lost rows"
        undone.append(revision)
        kept.clear()
        kept.update(after)

    try:
        downgrade(engine, "base", after_each=check)
    except AssertionError:
        raise
    except Exception as error:  # the first downgrade that cannot take the data back
        refusal = str(error)
    else:
        refusal = ""

    chain = list(reversed(_revisions()))
    refused = chain[len(undone)] if len(undone) < len(chain) else None
    assert refused in DOWNGRADE_REFUSED, refusal
    assert DOWNGRADE_REFUSED[refused] in refusal


def test_checklists_stored_before_0039_stay_every_districts_and_a_downgrade_keeps_all_versions(
    empty_engine: Engine,
) -> None:
    import json

    from sqlalchemy.orm import Session

    from models.checklists import latest_template, save_template_version, spec_from_json
    from tests.conftest import START

    label = {"zh_CN": "门", "en": "Door"}
    spec = spec_from_json(
        {
            "key": "door",
            "kind": "school_office",
            "title": label,
            "items": [{"key": "ok", "type": "pass_fail", "label": label, "fail_label": label}],
        }
    )
    upgrade(empty_engine, target="0038_audit_log")
    with empty_engine.begin() as connection:
        for district in (1, 2):
            connection.execute(
                text(
                    "INSERT INTO district (id, code, name, timezone, locale)"
                    " VALUES (:id, :code, 'D', 'Asia/Shanghai', 'zh_CN')"
                ),
                {"id": district, "code": f"D{district}"},
            )
        for version in (1, 2):  # the built-in file's, and an edit from before 0039
            connection.execute(
                text(
                    "INSERT INTO form_template (key, version, kind, definition, content_hash,"
                    " created_at) VALUES ('door', :version, 'school_office', :definition,"
                    " :hash, '2026-03-02 00:00:00')"
                ),
                {
                    "version": version,
                    "definition": json.dumps(spec.to_json()),
                    "hash": f"hash-{version}",
                },
            )
    upgrade(empty_engine)

    with Session(empty_engine) as session:
        filed = [latest_template(session, "door", district_id=d).version for d in (1, 2)]
        ours = save_template_version(
            session,
            spec_from_json({**spec.to_json(), "title": {"zh_CN": "门一", "en": "Door 1"}}),
            now=START,
            district_id=1,
        )
        theirs = save_template_version(
            session,
            spec_from_json({**spec.to_json(), "title": {"zh_CN": "门二", "en": "Door 2"}}),
            now=START,
            district_id=2,
        )
        session.commit()
        assert (ours.version, theirs.version) == (3, 3)
    downgrade(empty_engine, "0038_audit_log")
    with empty_engine.connect() as connection:
        versions = (
            connection.execute(text("SELECT version FROM form_template ORDER BY id"))
            .scalars()
            .all()
        )

    assert filed == [2, 2]
    assert versions == [1, 2, 3, 4]  # district 2's v3 numbered after district 1's
