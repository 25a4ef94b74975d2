"""Back up the whole store as JSON Lines with a manifest, and restore it in one transaction.

Every table of the schema (``models``) is written to ``<table>.jsonl``, one row per line in
primary-key order, with its own ids, so every reference (passage ids in topic runs, entry ids
in actions) survives. Embeddings are base64 float32 bytes, so a restore never re-embeds;
datetimes are ISO 8601 in UTC. ``manifest.json`` holds the format, the schema revision, the
embedding models and, per table, the file, its row count and its SHA-256. Derived state (the
search indexes, saved topic model files) is not exported: indexes are rebuilt from the
restored embeddings. Jobs (one deployment's in-flight work) are not exported either.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, Table, func, insert, select, text, update
from sqlalchemy.types import Date, DateTime, Integer, LargeBinary, String

import synth
from models import Base, Passage
from synth.errors import SynthError

__all__ = [
    "BACKUP_FORMAT",
    "SKIPPED_TABLES",
    "BackupError",
    "BackupReport",
    "export_store",
    "import_store",
    "read_manifest",
]

#: Versioned name of the folder layout written by :func:`export_store`.
BACKUP_FORMAT = "synth.backup.v1"
MANIFEST = "manifest.json"
#: Operational state that is not part of a backup.
SKIPPED_TABLES = frozenset({"jobs"})
_BATCH = 2000


class BackupError(SynthError):
    """A backup folder cannot be written or restored; nothing was changed."""

    code = "backup.invalid"
    title = "Backup cannot be used"


@dataclass(frozen=True, slots=True)
class BackupReport:
    """What an export or import covered (``--json`` output)."""

    folder: str
    schema_revision: str
    tables: dict[str, int]
    seconds: float

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "folder": self.folder,
            "schema_revision": self.schema_revision,
            "tables": self.tables,
            "rows": sum(self.tables.values()),
            "seconds": self.seconds,
        }


def _tables() -> list[Table]:
    """The backed-up tables, parents before children."""
    return [t for t in Base.metadata.sorted_tables if t.name not in SKIPPED_TABLES]


def _revision(db: Engine) -> str:
    with db.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
    if revision is None:
        raise BackupError("the store has no schema: run `synth init` first")
    return str(revision)


def _encode(value: object) -> object:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _line(row: dict[str, object]) -> bytes:
    data = {key: _encode(value) for key, value in row.items()}
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _dump_table(connection: Connection, table: Table, path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    rows = 0
    query = select(table).order_by(*_byte_order(connection, table))
    with path.open("wb") as handle:
        for row in connection.execute(query.execution_options(yield_per=_BATCH)).mappings():
            line = _line(dict(row)) + b"\n"
            handle.write(line)
            digest.update(line)
            rows += 1
    return rows, digest.hexdigest()


def _byte_order(connection: Connection, table: Table) -> list[Any]:
    """Primary-key columns, text compared by code point on PostgreSQL (as SQLite does)."""
    columns: list[Any] = list(table.primary_key.columns)
    if connection.dialect.name != "postgresql":
        return columns
    return [c.collate("C") if isinstance(c.type, String) else c for c in columns]


def _embedding_models(connection: Connection) -> list[dict[str, object]]:
    query = select(Passage.embedding_model, Passage.embedding_dim, func.count()).group_by(
        Passage.embedding_model, Passage.embedding_dim
    )
    return [
        {"model": model, "dim": dim, "passages": count}
        for model, dim, count in connection.execute(query.order_by(Passage.embedding_model))
    ]


def export_store(db: Engine, folder: Path) -> BackupReport:
    """Write every table of the store to ``folder`` (created; must be empty) with a manifest.

    The store is read in one transaction, so the backup is a consistent snapshot on
    PostgreSQL (repeatable read) and SQLite.

    Raises:
        BackupError: ``folder`` exists and is not empty, or the store has no schema.
    """
    started = time.perf_counter()
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: export into a new folder")
    folder.mkdir(parents=True, exist_ok=True)
    revision = _revision(db)
    tables: dict[str, dict[str, object]] = {}
    with db.connect() as connection:
        if db.dialect.name == "postgresql":
            connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            if db.dialect.name == "sqlite":
                connection.exec_driver_sql("BEGIN")  # pysqlite starts none before a SELECT
            for table in _tables():
                rows, sha = _dump_table(connection, table, folder / f"{table.name}.jsonl")
                tables[table.name] = {"file": f"{table.name}.jsonl", "rows": rows, "sha256": sha}
            models = _embedding_models(connection)
    manifest = {
        "format": BACKUP_FORMAT,
        "synth_version": synth.__version__,
        "schema_revision": revision,
        "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "embedding_models": models,
        "tables": tables,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    counts = {name: int(str(info["rows"])) for name, info in tables.items()}
    return BackupReport(str(folder), revision, counts, round(time.perf_counter() - started, 2))


def read_manifest(folder: Path) -> dict[str, Any]:
    """Read and check a backup's manifest and the checksum of every table file.

    Raises:
        BackupError: No manifest, another format, a missing file or a checksum mismatch.
    """
    try:
        manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{folder} has no {MANIFEST}: is it a `synth export` folder?") from None
    except (OSError, ValueError) as exc:
        raise BackupError(f"{folder / MANIFEST} cannot be read: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != BACKUP_FORMAT:
        raise BackupError(f"{folder / MANIFEST} is not a {BACKUP_FORMAT} manifest")
    for name, info in manifest["tables"].items():
        path = folder / str(info["file"])
        if not path.is_file():
            raise BackupError(f"{path} is missing (table {name})")
        if _sha256(path) != info["sha256"]:
            raise BackupError(f"{path} does not match its checksum: the backup is damaged")
    return manifest


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def import_store(db: Engine, folder: Path, *, replace: bool = False) -> BackupReport:
    """Restore a :func:`export_store` folder into the store, in one transaction.

    Args:
        db: The store, migrated to the backup's schema revision.
        folder: The backup folder.
        replace: Delete everything in the store first (same transaction); without it a
            store that holds any row is refused.

    Raises:
        BackupError: The backup is damaged, from another schema revision, or the store is
            not empty; nothing was changed.
    """
    started = time.perf_counter()
    manifest = read_manifest(folder)
    revision = _revision(db)
    if manifest["schema_revision"] != revision:
        raise BackupError(
            f"the backup is at schema revision {manifest['schema_revision']} and the store at "
            f"{revision}: restore with the synth version that wrote it, then upgrade"
        )
    counts: dict[str, int] = {}
    with db.begin() as connection:
        if replace:
            _clear(connection)
        elif _holds_rows(connection):
            raise BackupError("the store is not empty: import into a new store, or pass --replace")
        for table in _tables():
            info = manifest["tables"].get(table.name)
            path = folder / str(info["file"]) if info else None
            counts[table.name] = _load_table(connection, table, path) if path else 0
        _advance_sequences(connection)
    return BackupReport(str(folder), revision, counts, round(time.perf_counter() - started, 2))


def _holds_rows(connection: Connection) -> bool:
    tables = [*_tables(), *(Base.metadata.tables[name] for name in SKIPPED_TABLES)]
    return any(connection.execute(select(t).limit(1)).first() is not None for t in tables)


def _clear(connection: Connection) -> None:
    skipped = [Base.metadata.tables[name] for name in SKIPPED_TABLES]
    for table in [*skipped, *reversed(_tables())]:
        connection.execute(table.delete())


def _decoders(table: Table) -> dict[str, Any]:
    decoders: dict[str, Any] = {}
    for column in table.columns:
        if isinstance(column.type, LargeBinary):
            decoders[column.name] = base64.b64decode
        elif isinstance(column.type, DateTime):
            decoders[column.name] = dt.datetime.fromisoformat
        elif isinstance(column.type, Date):
            decoders[column.name] = dt.date.fromisoformat
    return decoders


def _iter_rows(table: Table, path: Path) -> Iterator[dict[str, object]]:
    decoders = _decoders(table)
    known = set(table.columns.keys())
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            row = json.loads(line)
            unknown = set(row) - known
            if unknown:
                raise BackupError(f"{path}:{number}: unknown column(s) {sorted(unknown)}")
            yield {
                key: decoders[key](value) if value is not None and key in decoders else value
                for key, value in row.items()
            }


def _self_references(table: Table) -> list[str]:
    """Columns referring to the same table: written after every row exists."""
    return [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]


def _load_table(connection: Connection, table: Table, path: Path) -> int:
    later = _self_references(table)
    deferred: list[dict[str, object]] = []
    batch: list[dict[str, object]] = []
    rows = 0
    for row in _iter_rows(table, path):
        if any(row.get(name) is not None for name in later):
            deferred.append({"pk": row["id"], **{name: row[name] for name in later}})
            row = {**row, **dict.fromkeys(later)}
        batch.append(row)
        rows += 1
        if len(batch) == _BATCH:
            connection.execute(insert(table), batch)
            batch = []
    if batch:
        connection.execute(insert(table), batch)
    for values in deferred:
        key = values.pop("pk")
        connection.execute(update(table).where(table.c.id == key).values(**values))
    return rows


def _advance_sequences(connection: Connection) -> None:
    """Make new ids continue after the restored ones (passage ids are never reused)."""
    if connection.dialect.name != "postgresql":
        return  # SQLite's AUTOINCREMENT counters follow explicitly inserted ids
    for table in _tables():
        columns = list(table.primary_key.columns)
        if len(columns) != 1 or columns[0].name != "id" or not isinstance(columns[0].type, Integer):
            continue
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 1), "
                f"(SELECT MAX(id) FROM {table.name}) IS NOT NULL)"
            )
        )
