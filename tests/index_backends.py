"""Both index backends for the tests: ``index_setting`` is None (the default SQLite file) or the
URL of a PostgreSQL database made for this test session (dropped at its end; each test starts
with no index in it). Tests that take it run once per backend.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from sigilctl.index.location import IndexLocation
from tests.services import POSTGRES_HOST, POSTGRES_PORT, require_postgres, unique_name

ADMIN_URL = f"postgresql://{POSTGRES_HOST}:{POSTGRES_PORT}/test"
TABLES = ("executions", "input_snapshots", "artifacts")


def pg_url(database: str) -> str:
    return f"postgresql://{POSTGRES_HOST}:{POSTGRES_PORT}/{database}"


def admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def reset_schemas(url: str) -> None:
    """No index (and no leftover build schema) in the database at ``url``."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        names = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'sigilctl%%'"
        ).fetchall()
        for (name,) in names:
            conn.execute(f'DROP SCHEMA "{name}" CASCADE')


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A PostgreSQL database of this test session's own, dropped afterwards."""
    require_postgres()
    name = unique_name("sigilctl_test")
    admin(f'CREATE DATABASE "{name}"')
    try:
        yield pg_url(name)
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_index(pg_database: str) -> str:
    """The session database, emptied of any index: its URL."""
    reset_schemas(pg_database)
    return pg_database


@pytest.fixture(params=["sqlite", "postgresql"])
def index_setting(request: pytest.FixtureRequest) -> str | None:
    """None for the default SQLite file, else a PostgreSQL URL with no index in it yet."""
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("postgres_index")
    return url


def dump(location: IndexLocation) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every data table, in a stable order."""
    if location.kind == "sqlite":
        conn = sqlite3.connect(location.sqlite_path)
        try:
            return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in TABLES}
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(location.postgres_url) as pg:
        return {t: sorted(pg.execute(f"SELECT * FROM sigilctl.{t}").fetchall()) for t in TABLES}


def index_exists(location: IndexLocation) -> bool:
    if location.kind == "sqlite":
        return location.sqlite_path.exists()
    import psycopg

    with psycopg.connect(location.postgres_url) as pg:
        found = pg.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'sigilctl'").fetchone()
    return found is not None
