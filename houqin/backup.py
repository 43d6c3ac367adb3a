"""`houqin backup` and `houqin restore`: the database and the data folder in one tar archive,
taken while the app runs.

An archive holds, in this order:
- `database/houqin.sqlite3` (SQLite: a copy made with SQLite's online backup API), or on
  PostgreSQL `database/rows/<table>.jsonl`: every row of every table, one JSON object per
  line, read in one REPEATABLE READ transaction (a datetime as ISO 8601 with its offset, a
  date or time as ISO 8601, an enum by its name, JSON columns as they are), and, when
  `pg_dump` is on PATH, `database/pg_dump.custom` taken from the same snapshot (for
  `pg_restore` by a database administrator; `houqin restore` reads the rows);
- `data/…`: the data folder's files, read after the database, so every file a row names is
  there (files are written before their rows commit, and never changed); its photos/,
  thumbs/ and files/ are read from the configured photo store (the data folder itself, or
  an object store), so an archive made from either restores into either;
- `manifest.json`: the format, Houqin's version, the Alembic revision, the rows per table, and
  each file's size and sha256.
"""

from __future__ import annotations

import enum
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as time_of_day
from importlib import metadata as package_metadata
from pathlib import Path, PurePosixPath
from typing import IO, Any

from sqlalchemy import (
    JSON,
    Connection,
    Engine,
    Enum,
    Table,
    TypeDecorator,
    bindparam,
    func,
    inspect,
    make_url,
    select,
    text,
)

from models import Base
from models.audit import guard, lift_guard
from models.db import READ_ONLY, make_engine
from models.photos import STORED_FOLDERS, PhotoStore

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/houqin.sqlite3"
ROWS_FOLDER = "database/rows"
PG_DUMP_MEMBER = "database/pg_dump.custom"
DATA_FOLDER = "data"
# What `houqin db upgrade` loads into a new database: a database holding only these is empty.
BUILT_IN_TABLES = frozenset({"form_template"})
BATCH = 500


class BackupError(RuntimeError):
    """Why an archive could not be made or restored, said to the operator."""


@dataclass(frozen=True)
class BackupReport:
    tables: dict[str, int]
    files: int
    pg_dump: bool

    def __str__(self) -> str:
        rows = sum(self.tables.values())
        extra = ", and pg_dump's copy" if self.pg_dump else ""
        return f"{rows} row(s) in {len(self.tables)} table(s), {self.files} file(s){extra}"


def houqin_version() -> str:
    try:
        return package_metadata.version("houqin")
    except package_metadata.PackageNotFoundError:
        return "unknown"


def tables() -> list[Table]:
    """Every table of the schema, each after the tables it points at."""
    return list(Base.metadata.sorted_tables)


def alembic_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def make_backup(url: str, data_dir: Path, out: Path, *, store: PhotoStore) -> BackupReport:
    """One archive of the database and then the data folder, written beside `out` and renamed
    onto it when whole."""
    engine = make_engine(url)
    out = out.resolve()
    partial = out.with_name(f".{out.name}.partial")
    try:
        with tempfile.TemporaryDirectory(prefix="houqin-backup-") as work_dir:
            work = Path(work_dir)
            if engine.dialect.name == "sqlite":
                database, counts, revision, dumped = _sqlite_snapshot(engine, work)
            elif engine.dialect.name == "postgresql":
                database, counts, revision, dumped = _postgresql_snapshot(engine, url, work)
            else:
                raise BackupError(f"cannot back up a {engine.dialect.name} database")
            mode = "w:gz" if out.name.endswith((".tar.gz", ".tgz")) else "w"
            with tarfile.open(partial, mode) as archive:  # type: ignore[call-overload]
                for member, path in database:
                    archive.add(path, arcname=member, recursive=False)
                files = _add_data_folder(archive, data_dir.resolve())
                files.update(_add_stored_files(archive, store))
                manifest = {
                    "format": FORMAT,
                    "houqin": houqin_version(),
                    "created_at": datetime.now(UTC).isoformat(),
                    "engine": engine.dialect.name,
                    "alembic_revision": revision,
                    "database": SQLITE_MEMBER if engine.dialect.name == "sqlite" else ROWS_FOLDER,
                    "pg_dump": PG_DUMP_MEMBER if dumped else None,
                    "tables": counts,
                    "files": files,
                }
                _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=1).encode())
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        engine.dispose()
    return BackupReport(counts, len(files), dumped)


def _sqlite_snapshot(
    engine: Engine, work: Path
) -> tuple[list[tuple[str, Path]], dict[str, int], str | None, bool]:
    copy = work / "houqin.sqlite3"
    # Read-only: on SQLite it does not queue behind the app's writers (models/db.py).
    with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
        source = connection.connection.driver_connection
        assert isinstance(source, sqlite3.Connection)
        target = sqlite3.connect(copy)
        try:
            source.backup(target)
        finally:
            target.close()
    snapshot = make_engine(f"sqlite:///{copy}")
    try:
        with snapshot.connect().execution_options(**{READ_ONLY: True}) as connection:
            counts = _counts(connection)
            revision = alembic_revision(connection)
    finally:
        snapshot.dispose()
    return [(SQLITE_MEMBER, copy)], counts, revision, False


def _postgresql_snapshot(
    engine: Engine, url: str, work: Path
) -> tuple[list[tuple[str, Path]], dict[str, int], str | None, bool]:
    members: list[tuple[str, Path]] = []
    counts: dict[str, int] = {}
    dumped = False
    repeatable = engine.connect().execution_options(isolation_level="REPEATABLE READ")
    with repeatable as connection, connection.begin():
        connection.execute(text("SET TRANSACTION READ ONLY"))
        snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        schema = connection.execute(text("SELECT current_schema()")).scalar_one()
        revision = alembic_revision(connection)
        present = set(inspect(connection).get_table_names())
        for table in tables():
            if table.name not in present:
                continue
            path = work / f"{table.name}.jsonl"
            with path.open("w", encoding="utf-8") as fh:
                counts[table.name] = 0
                for row in connection.execute(_ordered(table)).mappings():
                    fh.write(json.dumps(_encode_row(table, row), ensure_ascii=False) + "\n")
                    counts[table.name] += 1
            members.append((f"{ROWS_FOLDER}/{table.name}.jsonl", path))
        pg_dump = shutil.which("pg_dump")
        if pg_dump is not None:
            dump = work / "pg_dump.custom"
            _run_pg_dump(pg_dump, url, schema, snapshot, dump)
            members.append((PG_DUMP_MEMBER, dump))
            dumped = True
    return members, counts, revision, dumped


def _run_pg_dump(pg_dump: str, url: str, schema: str, snapshot: str, out: Path) -> None:
    parsed = make_url(url)
    libpq = parsed.set(drivername="postgresql", password=None).render_as_string()
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    done = subprocess.run(
        [
            pg_dump,
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--snapshot={snapshot}",
            f"--schema={schema}",
            f"--file={out}",
            f"--dbname={libpq}",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")


def _ordered(table: Table) -> Any:
    return select(table).order_by(*table.primary_key.columns)


def _counts(connection: Connection) -> dict[str, int]:
    present = set(inspect(connection).get_table_names())
    return {
        table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
        for table in tables()
        if table.name in present
    }


def _encode_row(table: Table, row: Any) -> dict[str, Any]:
    return {column.name: _encode(row[column.name]) for column in table.columns}


def _encode(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, datetime | date | time_of_day):
        return value.isoformat()
    if isinstance(value, bytes):
        raise BackupError("binary columns are not in the rows format")
    return value


def _decode(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    decoded = {}
    for column in table.columns:
        value = row.get(column.name)
        if value is not None and not isinstance(column.type, JSON):
            if isinstance(column.type, Enum) and column.type.enum_class is not None:
                value = column.type.enum_class[value]
            else:
                kind = _python_type(column.type)
                if kind is datetime:
                    value = datetime.fromisoformat(value)
                elif kind is date:
                    value = date.fromisoformat(value)
                elif kind is time_of_day:
                    value = time_of_day.fromisoformat(value)
        decoded[column.name] = value
    return decoded


def _python_type(column_type: Any) -> type | None:
    """The column's Python type; a TypeDecorator's (UTCDateTime) is its stored type's."""
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    try:
        return column_type.python_type
    except NotImplementedError:
        return None


class _HashingReader(io.RawIOBase):
    """A file read once into the archive, its sha256 taken on the way."""

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh, self.digest = fh, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.fh.read(size)
        self.digest.update(data)
        return data


def _add_data_folder(archive: tarfile.TarFile, root: Path) -> dict[str, dict[str, Any]]:
    files: dict[str, dict[str, Any]] = {}
    if not root.is_dir():
        return files
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.is_symlink() or path.name.startswith(".tmp-"):
            continue
        if path.relative_to(root).parts[0] in STORED_FOLDERS:  # the store's, read from it
            continue
        member = f"{DATA_FOLDER}/{path.relative_to(root).as_posix()}"
        try:
            fh = path.open("rb")
        except FileNotFoundError:  # an expired draft or import, gone since it was listed
            continue
        with fh:
            info = archive.gettarinfo(fileobj=fh, arcname=member)
            reader = _HashingReader(fh)
            archive.addfile(info, reader)
        files[member] = {"size": info.size, "sha256": reader.digest.hexdigest()}
    return files


def _add_stored_files(archive: tarfile.TarFile, store: PhotoStore) -> dict[str, dict[str, Any]]:
    files: dict[str, dict[str, Any]] = {}
    for folder in STORED_FOLDERS:
        for entry in store.listed(folder):
            if PurePosixPath(entry.key).name.startswith(".tmp-"):
                continue
            try:
                data = store.read(entry.key)
            except FileNotFoundError:  # an orphan removed since it was listed
                continue
            member = f"{DATA_FOLDER}/{entry.key}"
            _add_bytes(archive, member, data)
            files[member] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    return files


def _add_bytes(archive: tarfile.TarFile, member: str, data: bytes) -> None:
    info = tarfile.TarInfo(member)
    info.size = len(data)
    info.mtime = int(datetime.now(UTC).timestamp())
    archive.addfile(info, io.BytesIO(data))


@dataclass(frozen=True)
class RestoreReport:
    tables: dict[str, int]
    files: int

    def __str__(self) -> str:
        rows = sum(self.tables.values())
        return f"restored {rows} row(s) in {len(self.tables)} table(s) and {self.files} file(s)"


def read_manifest(archive: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = archive.extractfile(MANIFEST)
    except KeyError:
        raise BackupError("this is not a Houqin backup: it has no manifest.json") from None
    assert member is not None
    manifest: dict[str, Any] = json.load(member)
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    return manifest


def restore_backup(
    archive_path: Path, url: str, data_dir: Path, *, store: PhotoStore, force: bool = False
) -> RestoreReport:
    """The archive's rows into the database, its photos and documents into the photo store
    and its other files into the data folder; refused when the database holds anything but
    the built-in checklists, or the data folder or the store any file, unless `force` (then
    the rows are replaced and the files overwritten)."""
    data_dir = data_dir.resolve()
    with tarfile.open(archive_path, "r:*") as archive:
        manifest = read_manifest(archive)
        engine = make_engine(url)
        try:
            _refuse_unless_empty(engine, data_dir, store, force)
            _prepare_schema(engine, manifest.get("alembic_revision"))
            with tempfile.TemporaryDirectory(prefix="houqin-restore-") as work:
                counts = _restore_rows(engine, archive, manifest, Path(work))
        finally:
            engine.dispose()
        if counts != manifest["tables"]:
            raise BackupError(f"rows restored {counts} differ from the manifest's")
        files = _restore_files(archive, manifest["files"], data_dir, store)
    return RestoreReport(counts, files)


def _refuse_unless_empty(engine: Engine, data_dir: Path, store: PhotoStore, force: bool) -> None:
    if force:
        return
    with engine.connect() as connection:
        holding = [
            name
            for name, count in _counts(connection).items()
            if count and name not in BUILT_IN_TABLES
        ]
    if holding:
        raise BackupError(
            f"the database is not empty ({', '.join(holding[:5])}…): "
            "restore into a new one, or give --force to replace what it holds"
        )
    if data_dir.is_dir() and any(path.is_file() for path in data_dir.rglob("*")):
        raise BackupError(
            f"the data folder {data_dir} is not empty: "
            "restore into a new one, or give --force to overwrite its files"
        )
    if any(True for folder in STORED_FOLDERS for _ in store.listed(folder)):
        raise BackupError(
            "the photo store is not empty: "
            "restore into a new one, or give --force to overwrite its files"
        )


def _prepare_schema(engine: Engine, revision: str | None) -> None:
    """The archive's schema: migrated to its revision, or (an archive of a database made
    without Alembic, as the tests' are) the tables as the code declares them."""
    with engine.connect() as connection:
        current = alembic_revision(connection)
        present = set(inspect(connection).get_table_names())
    if revision is None:
        if current is not None:
            raise BackupError(f"the archive has no Alembic revision; the database is at {current}")
        Base.metadata.create_all(engine)
        return
    if current not in (None, revision):
        raise BackupError(
            f"the archive's schema is at revision {revision} and the database's at {current}: "
            "restore into a new database"
        )
    if current is None and present:
        raise BackupError("the database has tables but no Alembic revision")
    from houqin.migrate import upgrade

    upgrade(engine, target=revision)


def _source_rows(
    archive: tarfile.TarFile, manifest: dict[str, Any], work: Path
) -> Iterator[tuple[Table, Iterator[dict[str, Any]]]]:
    """Each table's rows from the archive, as the database will take them."""
    present = manifest["tables"]
    if manifest["database"] == SQLITE_MEMBER:
        archive.extract(SQLITE_MEMBER, work, filter="data")
        source = make_engine(f"sqlite:///{work / SQLITE_MEMBER}")
        try:
            with source.connect() as connection:
                for table in tables():
                    if table.name in present:
                        result = connection.execute(_ordered(table)).mappings()
                        yield table, (dict(row) for row in result)
        finally:
            source.dispose()
        return
    for table in tables():
        if table.name in present:
            member = archive.extractfile(f"{ROWS_FOLDER}/{table.name}.jsonl")
            assert member is not None
            lines = io.TextIOWrapper(member, encoding="utf-8")
            yield table, (_decode(table, json.loads(line)) for line in lines)


def _restore_rows(
    engine: Engine, archive: tarfile.TarFile, manifest: dict[str, Any], work: Path
) -> dict[str, int]:
    counts: dict[str, int] = {}
    with engine.begin() as connection:
        # The audit log refuses a DELETE; replacing every row (--force) lifts that meanwhile.
        lift_guard(connection)
        for table in reversed(tables()):
            connection.execute(table.delete())
        guard(connection)
        for table, rows in _source_rows(archive, manifest, work):
            counts[table.name] = _insert(connection, table, rows)
        if engine.dialect.name == "postgresql":
            _follow_sequences(connection)
    return counts


def _insert(connection: Connection, table: Table, rows: Iterator[dict[str, Any]]) -> int:
    """Rows in the order of their keys; a column pointing into its own table (a document's
    replacement, a record's earlier version) is filled in afterwards, so no row waits for a
    later one."""
    own = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
    later: list[dict[str, Any]] = []
    count = 0
    batch: list[dict[str, Any]] = []
    for row in rows:
        if own and any(row[name] is not None for name in own):
            later.append({f"b_{c.name}": row[c.name] for c in table.primary_key.columns})
            later[-1].update({f"b_{name}": row[name] for name in own})
            row = {**row, **dict.fromkeys(own)}
        batch.append(row)
        count += 1
        if len(batch) == BATCH:
            connection.execute(table.insert(), batch)
            batch = []
    if batch:
        connection.execute(table.insert(), batch)
    if later:
        update = table.update().values({name: bindparam(f"b_{name}") for name in own})
        for column in table.primary_key.columns:
            update = update.where(column == bindparam(f"b_{column.name}"))
        connection.execute(update, later)
    return count


def _follow_sequences(connection: Connection) -> None:
    """Each id sequence set past the restored rows, so the next row gets a new id."""
    for table in tables():
        for column in table.primary_key.columns:
            sequence = connection.execute(
                text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": table.name, "column": column.name},
            ).scalar()
            if sequence is None:
                continue
            following = connection.execute(
                select(func.coalesce(func.max(column), 0) + 1)
            ).scalar_one()
            connection.execute(
                text("SELECT setval(:sequence, :value, false)"),
                {"sequence": sequence, "value": following},
            )


def _restore_files(
    archive: tarfile.TarFile, files: dict[str, dict[str, Any]], root: Path, store: PhotoStore
) -> int:
    """Each file checked against the manifest's sha256; a photo or document put into the
    store, any other file written to a temporary name in the data folder, then renamed into
    place."""
    for member, expected in files.items():
        relative = PurePosixPath(member).relative_to(DATA_FOLDER)
        if relative.is_absolute() or ".." in relative.parts:
            raise BackupError(f"the archive names a file outside the data folder: {member}")
        source = archive.extractfile(member)
        if source is None:
            raise BackupError(f"the archive lacks {member}")
        data = source.read()
        if hashlib.sha256(data).hexdigest() != expected["sha256"]:
            raise BackupError(f"{member} in the archive does not match its sha256")
        if relative.parts[0] in STORED_FOLDERS:
            _restore_stored(store, relative.as_posix(), data)
            continue
        target = root.joinpath(*relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return len(files)


def _restore_stored(store: PhotoStore, key: str, data: bytes) -> None:
    """Put into the store; a file of that name whose bytes differ (a damaged one, under
    --force) is replaced, as putting a name again would only touch it."""
    try:
        if store.read(key) == data:
            return
        store.delete(key)
    except FileNotFoundError:
        pass
    store.put(key, data)
