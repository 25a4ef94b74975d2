"""Alembic owns the schema: the same migrations run on SQLite and PostgreSQL with no drift."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

from synth.errors import ConfigError, StoreError
from synth.store import MIGRATIONS_DIR, build_db_engine, check_schema, migrate, redact_url


def test_migrate_is_idempotent_and_matches_models(store_url: str) -> None:
    engine = build_db_engine(store_url)
    head = migrate(engine)
    assert migrate(engine) == head
    check_schema(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"entries", "passages", "networks", "organisations", "projects", "tags"} <= tables
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["configure_logger"] = False
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.check(config)  # raises if the models and migrations have drifted
    engine.dispose()


def test_unmigrated_store_is_reported(tmp_path: Path) -> None:
    engine = build_db_engine(f"sqlite:///{tmp_path / 'new.db'}")
    with pytest.raises(StoreError, match="synth init"):
        check_schema(engine)


def test_bad_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not a database URL"):
        build_db_engine("not a url")


def test_unreachable_postgres_is_a_store_error_without_password() -> None:
    engine = build_db_engine("postgresql://u:secret@127.0.0.1:1/x?connect_timeout=2")
    with pytest.raises(StoreError) as info:
        migrate(engine)
    assert "secret" not in str(info.value)
    assert "***" in redact_url("postgresql://u:secret@h/x")
