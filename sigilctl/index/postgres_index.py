"""The team index: ``RunIndex`` over PostgreSQL (schema ``sigilctl``), for many machines.

- Writers (finishing runs, workers, gc) upsert with ``INSERT … ON CONFLICT`` in one
  transaction per run_id, holding the index's writer lock *shared* (so they never block each
  other) and a per-run_id transaction lock (so two syncs of one run cannot cross).
- ``reindex`` fills a fresh schema ``sigilctl_build_<hex>`` with ``COPY``, creates the indexes
  and ``ANALYZE``s it, then under the writer lock held *exclusively* catches up with what
  changed meanwhile and, in the same transaction, drops the live tables and moves the new ones
  into the live schema (``pg.swap_tables``). MVCC lets readers keep reading the old rows until
  that commit; a statement that was waiting for the swap looks the name up again and reads the
  new table.
- ``run_lock(run_id, timeout)``: a cross-machine lock on a run_id for the service.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from sigilctl.errors import InputError, StorageError
from sigilctl.index import postgres as pg
from sigilctl.index import schema
from sigilctl.index.base import (
    SqlIndex,
    delete_execution,
    not_ready,
    upsert_execution,
)
from sigilctl.index.build import Build, ExecutionKey, Progress, ReindexResult
from sigilctl.index.location import IndexLocation
from sigilctl.index.rows import RunRows

LIVE = f"{pg.SCHEMA}."


class PgSink(pg.PgExecutor):
    """A build schema being filled: the first pass with COPY, the catch-up with upserts."""

    def __init__(
        self, conn: psycopg.Connection[Any], prefix: str, helpers: Sequence[Any] = ()
    ) -> None:
        super().__init__(conn, prefix)
        self.helpers = helpers  # more sessions, so the three tables load side by side

    def insert_new(self, rows: Iterable[RunRows]) -> None:
        """Stream the rows into one COPY per table while the manifests are still being read:
        the server works on them (in one backend per table) meanwhile."""
        sessions = [self.conn, *self.helpers][:3]
        with contextlib.ExitStack() as stack:
            copies = [
                stack.enter_context(
                    stack.enter_context(sessions[i % len(sessions)].cursor()).copy(
                        self._copy(table)
                    )
                )
                for i, table in enumerate(schema.TABLES)
            ]
            runs, snapshots, artifacts = copies
            for found in rows:
                runs.write_row(found.run)
                for row in found.snapshots:
                    snapshots.write_row(row)
                for row in found.artifacts:
                    artifacts.write_row(row)

    def _copy(self, table: str) -> str:
        return f"COPY {self.prefix}{table} ({', '.join(schema.TABLES[table])}) FROM STDIN"

    def upsert(self, rows: RunRows) -> None:
        upsert_execution(self, rows)

    def delete(self, key: ExecutionKey) -> None:
        delete_execution(self, key)


class RunLock:
    """A held run lock; ``check()`` before publishing proves the session (and lock) is alive."""

    def __init__(self, conn: psycopg.Connection[Any], run_id: str) -> None:
        self._conn = conn
        self.run_id = run_id

    def check(self) -> None:
        try:
            self._conn.execute("SELECT 1")
        except psycopg.Error:
            raise StorageError(
                f"the PostgreSQL lock on run {self.run_id} was lost (connection closed)"
            ) from None


class PostgresIndex(SqlIndex):
    def __init__(self, location: IndexLocation, artifacts: Path, *, pooled: bool = False) -> None:
        self.location = location
        self.artifacts = artifacts
        self.url = location.postgres_url
        self.display = location.display
        self._pooled = pooled
        self._pool: Any = None

    # -- connections -------------------------------------------------------------------------
    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        if not self._pooled:
            conn = pg.connect(self.url, self.display)
            try:
                yield conn
            finally:
                conn.close()
            return
        from psycopg_pool import ConnectionPool, PoolTimeout

        if self._pool is None:
            self._pool = ConnectionPool(
                self.url,
                min_size=1,
                max_size=8,
                kwargs={"autocommit": True, "application_name": "sigilctl"},
                open=True,
            )
        try:
            with self._pool.connection(timeout=pg.CONNECT_TIMEOUT_S) as conn:
                yield conn
        except PoolTimeout:
            raise StorageError(
                f"cannot reach the PostgreSQL index {self.display}: no connection within "
                f"{pg.CONNECT_TIMEOUT_S} s"
            ) from None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except psycopg.Error as exc:
            raise pg.query_error(exc, self.display) from None

    def state(self) -> str:
        with self._connection() as conn, self._errors():
            return pg.inspect(conn)

    @contextlib.contextmanager
    def _reading(self) -> Iterator[pg.PgExecutor]:
        with self._connection() as conn, self._errors():
            state = pg.inspect(conn)
            if state == "behind":
                pg.migrate(conn, LIVE)
            elif state != "current":
                raise not_ready(self.display, state)
            yield pg.PgExecutor(conn, LIVE)

    @contextlib.contextmanager
    def _writing(
        self, job_id: str, run_id: str, timeout: float | None = None
    ) -> Iterator[pg.PgExecutor]:
        wait = pg.WRITE_TIMEOUT_S if timeout is None else timeout
        with self._connection() as conn, self._errors():
            pg.set_timeout(conn, "lock_timeout", wait)
            try:
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock_shared(%s)", (pg.WRITER_KEY,))
                    key = pg.advisory_key(f"run-sync/{job_id}/{run_id}")
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
                    state = pg.inspect(conn)
                    if state != "current":
                        raise not_ready(self.display, state)
                    yield pg.PgExecutor(conn, LIVE)
            finally:
                if not conn.closed:
                    pg.set_timeout(conn, "lock_timeout", None)

    # -- rebuild -----------------------------------------------------------------------------
    def reindex(self, progress: Progress | None = None) -> ReindexResult:
        started = time.perf_counter()
        if not self.artifacts.is_dir():
            raise InputError(
                f"artifacts tree {self.artifacts} does not exist or is not a directory"
            )
        name = f"{pg.BUILD_PREFIX}{secrets.token_hex(6)}"
        prefix = f"{name}."
        build = Build(self.artifacts)
        with self._connection() as conn, self._errors():
            pg.drop_orphan_builds(conn)
            with pg.holding(conn, pg.advisory_key(f"build/{name}")):
                try:
                    skipped = self._build(conn, name, prefix, build, progress)
                except BaseException:
                    with contextlib.suppress(psycopg.Error):
                        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
                    raise
        return ReindexResult(self.display, build.indexed, skipped, time.perf_counter() - started)

    def _build(
        self,
        conn: psycopg.Connection[Any],
        name: str,
        prefix: str,
        build: Build,
        progress: Progress | None,
    ) -> list[Any]:
        pg.migrate(conn, prefix, indexes=False)
        with contextlib.ExitStack() as stack:
            helpers = [stack.enter_context(pg.connect(self.url, self.display)) for _ in range(2)]
            with conn.transaction():
                build.first_pass(PgSink(conn, prefix, helpers), progress)
        sink = PgSink(conn, prefix)
        pg.create_indexes(sink)
        conn.execute(f"ANALYZE {prefix}executions")  # the table queries read: plans from day one
        pg.set_timeout(conn, "lock_timeout", pg.SWAP_TIMEOUT_S)
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (pg.WRITER_KEY,))
                skipped = build.catch_up(sink)
                pg.swap_tables(conn, name)
        except pg_errors.LockNotAvailable:
            raise pg.IndexBusyError(
                f"the index {self.display} is still in use by another session after "
                f"{pg.SWAP_TIMEOUT_S:g} s; the old index is kept, try again"
            ) from None
        finally:
            pg.set_timeout(conn, "lock_timeout", None)
        return skipped

    # -- the service's cross-machine run lock --------------------------------------------------
    @contextlib.contextmanager
    def run_lock(self, run_id: str, timeout: float | None = None) -> Iterator[RunLock]:
        """Hold ``pg_advisory_lock`` keyed by ``run_id`` for the ``with`` block.

        One dedicated session per lock: if this process dies, the server ends the session and
        releases the lock. ``timeout`` None waits as long as it takes; else ``RunLockTimeout``.
        """
        conn = pg.connect(self.url, self.display)
        key = pg.advisory_key(f"run/{run_id}")
        try:
            pg.set_timeout(conn, "lock_timeout", timeout)
            try:
                conn.execute("SELECT pg_advisory_lock(%s)", (key,))
            except pg_errors.LockNotAvailable:
                raise pg.RunLockTimeout(
                    f"run {run_id} is being executed elsewhere (waited {timeout:g} s for its lock)"
                ) from None
            except psycopg.Error as exc:
                raise pg.query_error(exc, self.display) from None
            pg.set_timeout(conn, "lock_timeout", None)
            yield RunLock(conn, run_id)
        finally:
            with contextlib.suppress(psycopg.Error):
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
            conn.close()
