"""The database: engines, sessions and Alembic migrations for SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

import models
from synth.errors import ConfigError, StoreError

__all__ = ["build_db_engine", "build_session_factory", "check_schema", "migrate", "redact_url"]

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(models.__file__).parent / "migrations"


def redact_url(url: str) -> str:
    """Return ``url`` with any password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid database url>"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def build_db_engine(url: str) -> Engine:
    """Create a SQLAlchemy engine; for SQLite, create the file's folder and enable FKs + WAL.

    Raises:
        ConfigError: The URL cannot be parsed or names no installed driver.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"SYNTH_DATABASE_URL '{url}' is not a database URL "
            "(e.g. sqlite:///var/synth.db or postgresql+psycopg://user@host/db)"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, pool_pre_ping=True)


def build_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["configure_logger"] = False
    return config


def migrate(engine: Engine) -> str:
    """Bring the schema to the newest migration; return the revision now current.

    Raises:
        StoreError: The database cannot be reached.
    """
    config = _alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except OperationalError as exc:
        raise StoreError(
            f"cannot reach the database at {redact_url(str(engine.url))}: {exc.orig}"
        ) from None
    head = ScriptDirectory.from_config(config).get_current_head()
    logger.info("schema at revision %s", head)
    return str(head)


def check_schema(engine: Engine) -> None:
    """Raise :class:`StoreError` unless the database exists and is at the newest migration."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise StoreError(
            f"cannot reach the database at {redact_url(str(engine.url))}: {exc.orig}"
        ) from None
    if current != head:
        raise StoreError(
            f"the store at {redact_url(str(engine.url))} is at revision {current or 'none'}, "
            f"not {head}: run `synth init`"
        )
