"""PostgreSQL plumbing for the team index: connections, errors, advisory locks, inspection.

psycopg is imported here and in ``postgres_index.py`` only, and only when a ``postgresql://``
index is opened. Every error becomes one sentence naming the index by its URL without the
password (``IndexLocation.display``); the password itself was handed to the scrubber when the
URL was parsed, so not even a ``-v`` traceback can show it. libpq reads ``PGPASSWORD`` and
``~/.pgpass`` as usual.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from sigilctl.env import scrub
from sigilctl.errors import InputError, SigilError, StorageError
from sigilctl.index import schema

SCHEMA = "sigilctl"
BUILD_PREFIX = "sigilctl_build_"
CONNECT_TIMEOUT_S = 5
WRITE_TIMEOUT_S = 2.0
SWAP_TIMEOUT_S = 10.0


class IndexBusyError(StorageError):
    """A lock of the index was held by another session for longer than we would wait."""


class RunLockTimeout(StorageError):
    """Another machine is executing this run_id and did not finish within the wait."""


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_*`` from a name (sigilctl's own space)."""
    return int.from_bytes(
        hashlib.sha256(f"sigilctl:{name}".encode()).digest()[:8], "big", signed=True
    )


WRITER_KEY = advisory_key(f"index-writer/{SCHEMA}")
MIGRATE_KEY = advisory_key(f"index-migrate/{SCHEMA}")


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return scrub(text[0].strip()) if text else type(exc).__name__


def connection_error(exc: BaseException, display: str) -> SigilError:
    """One sentence for a failed connection; bad credentials or names are bad input (exit 2)."""
    text = scrub(str(exc))
    lowered = text.lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return InputError(
            f"the PostgreSQL index {display} refused the login: wrong or missing password "
            "(from the URL, PGPASSWORD or ~/.pgpass)"
        )
    if "authentication failed" in lowered:
        return InputError(f"the PostgreSQL index {display} refused the login ({first_line(exc)})")
    if "does not exist" in lowered and ("database" in lowered or "role" in lowered):
        detail = text.split("FATAL:", 1)[-1].strip().splitlines()[0]
        return InputError(f"the PostgreSQL index {display} cannot be used: {detail}")
    if "connection refused" in lowered:
        return StorageError(
            f"cannot reach the PostgreSQL index {display}: connection refused "
            "(is the server running and listening there?)"
        )
    if "timeout expired" in lowered or "timed out" in lowered:
        return StorageError(
            f"cannot reach the PostgreSQL index {display}: the connection timed out"
        )
    if "resolve host" in lowered or "translate host name" in lowered:
        return StorageError(f"cannot reach the PostgreSQL index {display}: unknown host")
    return StorageError(f"cannot connect to the PostgreSQL index {display}: {first_line(exc)}")


def query_error(exc: BaseException, display: str) -> SigilError:
    if isinstance(exc, pg_errors.LockNotAvailable):
        return IndexBusyError(f"the PostgreSQL index {display} is locked by another session")
    if isinstance(exc, psycopg.OperationalError) and not isinstance(exc, pg_errors.QueryCanceled):
        return connection_error(exc, display)
    return StorageError(f"the PostgreSQL index {display} failed: {first_line(exc)}")


def connect(url: str, display: str) -> psycopg.Connection[Any]:
    """An autocommit connection (transactions are explicit), or one sentence saying why not."""
    options: dict[str, Any] = {"autocommit": True, "application_name": "sigilctl"}
    if "connect_timeout" not in url and not os.environ.get("PGCONNECT_TIMEOUT"):
        options["connect_timeout"] = CONNECT_TIMEOUT_S
    try:
        return psycopg.connect(url, **options)
    except psycopg.Error as exc:
        raise connection_error(exc, display) from None


def set_timeout(conn: psycopg.Connection[Any], name: str, seconds: float | None) -> None:
    """``lock_timeout``/``statement_timeout`` for this session (None: wait as long as it takes)."""
    value = "0" if seconds is None else f"{max(1, int(seconds * 1000))}ms"
    conn.execute("SELECT set_config(%s, %s, false)", (name, value))


class PgExecutor:
    """Runs schema.py statements against one schema (``prefix`` = ``"<schema>."``)."""

    def __init__(self, conn: psycopg.Connection[Any], prefix: str) -> None:
        self.conn = conn
        self.prefix = prefix

    def sql(self, statement: str) -> str:
        return schema.POSTGRES.sql(statement, self.prefix)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(self.sql(sql), params).fetchall()

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.conn.execute(self.sql(sql), params)

    def run_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        batch = list(rows)
        if batch:
            with self.conn.cursor() as cursor:
                cursor.executemany(self.sql(sql), batch)


def inspect(conn: psycopg.Connection[Any], name: str = SCHEMA) -> str:
    """absent, empty, damaged, older, behind, current or newer (see ``SqlIndex.state``)."""
    tables = {
        row[0]
        for row in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p')",
            (name,),
        )
    }
    if not tables:
        exists = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (name,)).fetchone()
        return "empty" if exists else "absent"
    if "schema_migrations" not in tables:
        return "damaged"
    applied = {
        row[0] for row in conn.execute(schema.POSTGRES.sql(schema.SELECT_MIGRATIONS, f"{name}."))
    }
    return schema.classify(tables, applied)


def migrate(conn: psycopg.Connection[Any], prefix: str, *, indexes: bool = True) -> None:
    """Apply every migration since the latest baseline not yet recorded, under an advisory
    lock, in one transaction (DDL is transactional in PostgreSQL: all or nothing)."""
    db = PgExecutor(conn, prefix)
    steps = schema.fresh_migrations()
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_KEY,))
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{prefix.rstrip(".")}"')
        db.run(schema.CREATE_MIGRATIONS_TABLE)
        applied = {row[0] for row in db.query(schema.SELECT_MIGRATIONS)}
        for migration in schema.MIGRATIONS:
            if migration.version in applied:
                continue
            if migration in steps:
                for statement in migration.statements:
                    db.run(statement)
                for statement in migration.indexes if indexes else ():
                    db.run(statement)
            db.run(schema.INSERT_MIGRATION, (migration.version, migration.name))


def swap_tables(conn: psycopg.Connection[Any], build: str) -> None:
    """Replace the live tables by the build schema's, inside the caller's transaction.

    The live schema itself stays (same OID): a reader that looked ``sigilctl.executions`` up
    just before the swap and waited for its lock finds the new table by the same name after the
    commit. Dropping and renaming whole schemas instead leaves a window where a reader holds a
    schema that no longer exists ("relation does not exist").
    """
    conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{SCHEMA}"')
    tables = ("schema_migrations", *schema.TABLES)
    conn.execute(f"DROP TABLE IF EXISTS {', '.join(f'{SCHEMA}.{t}' for t in tables)} CASCADE")
    for table in tables:
        conn.execute(f'ALTER TABLE "{build}".{table} SET SCHEMA "{SCHEMA}"')
    conn.execute(f'DROP SCHEMA "{build}"')


def create_indexes(db: PgExecutor) -> None:
    for migration in schema.fresh_migrations():
        for statement in migration.indexes:
            db.run(statement)


def drop_orphan_builds(conn: psycopg.Connection[Any]) -> None:
    """Drop build schemas whose reindex is gone (its session, and so its lock, ended)."""
    rows = conn.execute(
        "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", (BUILD_PREFIX,)
    ).fetchall()
    for (name,) in rows:
        key = advisory_key(f"build/{name}")
        if conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone() == (True,):
            try:
                conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))


@contextlib.contextmanager
def holding(conn: psycopg.Connection[Any], key: int) -> Iterator[None]:
    """A session advisory lock for the ``with`` block (released by the server if we die)."""
    conn.execute("SELECT pg_advisory_lock(%s)", (key,))
    try:
        yield
    finally:
        with contextlib.suppress(psycopg.Error):
            conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
