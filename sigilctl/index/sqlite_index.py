"""The embedded index: ``RunIndex`` over one SQLite file (see ``sqlite.py`` for the file itself).

Writers hold ``<db>.lock`` (a bounded ``flock``) and read the run's folders inside it; readers
take no lock (WAL). Only a ready index is written: an empty, truncated, foreign or corrupt file
is never given a row by a finishing run, so it cannot pass for a complete index later.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from sigilctl.errors import InputError, StorageError
from sigilctl.index import schema
from sigilctl.index import sqlite as backend
from sigilctl.index.advice import rebuild_advice
from sigilctl.index.base import (
    SqlIndex,
    delete_execution,
    not_ready,
    upsert_execution,
)
from sigilctl.index.build import Build, ExecutionKey, Progress, ReindexResult
from sigilctl.index.location import IndexLocation
from sigilctl.index.rows import RunRows

TEMP_INFIX = ".tmp-"
SQL = backend.SQL


class SqliteExecutor:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(SQL(sql), params).fetchall()

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.conn.execute(SQL(sql), params)

    def run_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.conn.executemany(SQL(sql), rows)


class SqliteSink(SqliteExecutor):
    """The rebuild's new file."""

    def insert_new(self, rows: Iterable[RunRows]) -> None:
        batch = list(rows)
        self.conn.executemany(SQL(schema.INSERT_RUN), [r.run for r in batch])
        self.conn.executemany(SQL(schema.INSERT_SNAPSHOT), [s for r in batch for s in r.snapshots])
        self.conn.executemany(SQL(schema.INSERT_ARTIFACT), [a for r in batch for a in r.artifacts])

    def upsert(self, rows: RunRows) -> None:
        upsert_execution(self, rows)

    def delete(self, key: ExecutionKey) -> None:
        delete_execution(self, key)


class SqliteIndex(SqlIndex):
    def __init__(self, location: IndexLocation, artifacts: Path) -> None:
        self.location = location
        self.artifacts = artifacts
        self.db = location.sqlite_path

    def _check_path(self) -> None:
        if self.db.is_dir():
            raise InputError(f"index path {self.db} is a directory; give a file path with --db")

    def state(self) -> str:
        self._check_path()
        conn, state = backend.open_for_read(self.db)
        if conn is not None:
            conn.close()
        return state

    @contextlib.contextmanager
    def _reading(self) -> Iterator[SqliteExecutor]:
        self._check_path()
        conn, state = backend.open_for_read(self.db)
        try:
            if state == "behind":
                if conn is not None:
                    conn.close()
                with self._upgrade():
                    pass
                conn, state = backend.open_for_read(self.db)
            if conn is None or state != "current":
                raise not_ready(str(self.db), state, rebuild_advice(self.db, self.artifacts))
            yield SqliteExecutor(conn)
        except sqlite3.Error as exc:
            raise StorageError(
                f"the index {self.db} cannot be read ({exc}); "
                f"{rebuild_advice(self.db, self.artifacts)}"
            ) from None
        finally:
            if conn is not None:
                conn.close()

    @contextlib.contextmanager
    def _upgrade(self) -> Iterator[None]:
        with (
            backend.writer_lock(self.db, backend.WRITE_TIMEOUT_S),
            backend.connect(self.db) as conn,
        ):
            if backend.inspect(self.db) == "behind":
                backend.migrate(conn)
        yield

    @contextlib.contextmanager
    def _writing(
        self, job_id: str, run_id: str, timeout: float | None = None
    ) -> Iterator[SqliteExecutor]:
        wait = backend.WRITE_TIMEOUT_S if timeout is None else timeout
        self._check_path()
        try:
            with (
                backend.writer_lock(self.db, wait),
                backend.connect(self.db, timeout=wait) as conn,
            ):
                state = backend.inspect(self.db)
                if state == "behind":
                    backend.migrate(conn)
                elif state != "current":
                    raise not_ready(str(self.db), state, rebuild_advice(self.db, self.artifacts))
                with backend.transaction(conn):
                    yield SqliteExecutor(conn)
        except sqlite3.Error as exc:
            raise StorageError(f"the index {self.db} cannot be written ({exc})") from None

    def reindex(self, progress: Progress | None = None) -> ReindexResult:
        """Build a new file beside the index, catch up under the writer lock, swap it in."""
        started = time.perf_counter()
        artifacts, db = self.artifacts, self.db
        if not artifacts.is_dir():
            raise InputError(f"artifacts tree {artifacts} does not exist or is not a directory")
        if self.state() == "foreign":
            raise InputError(
                f"{db} is a SQLite database but not a sigilctl run index; refusing to replace "
                "it (give another --db)"
            )
        try:
            db.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(
                f"cannot create the index folder {db.parent}: {exc.strerror}"
            ) from None
        _remove_stale_temps(db)
        temp = db.with_name(f".{db.name}{TEMP_INFIX}{os.getpid()}-{secrets.token_hex(4)}")
        build = Build(artifacts)
        try:
            conn = backend.open_build(temp)
            try:
                backend.migrate(conn, indexes=False)
                sink = SqliteSink(conn)
                with backend.transaction(conn):
                    build.first_pass(sink, progress)
                    backend.create_indexes(conn)
                with backend.writer_lock(db, backend.SWAP_TIMEOUT_S):
                    with backend.transaction(conn):
                        skipped = build.catch_up(sink)
                    backend.seal_build(conn, temp)
                    backend.swap_in(temp, db)
            finally:
                conn.close()  # idempotent: seal_build closed it already on success
        except sqlite3.Error as exc:
            raise StorageError(f"cannot build the index {db}: {exc}") from None
        except OSError as exc:
            raise StorageError(f"cannot write the index {db}: {exc.strerror or exc}") from None
        finally:
            _discard(temp)
        return ReindexResult(str(db), build.indexed, skipped, time.perf_counter() - started)


def _discard(temp: Path) -> None:
    """Remove what a rebuild left behind; never raise (the real error, if any, is the news)."""
    for path in (temp, backend.sidecar(temp, "-wal"), backend.sidecar(temp, "-shm")):
        with contextlib.suppress(OSError):
            if os.path.lexists(path):
                path.unlink()


def _remove_stale_temps(db: Path) -> None:
    """Delete temp files of rebuilds whose process is gone (a crash mid-reindex)."""
    prefix = f".{db.name}{TEMP_INFIX}"
    for path in db.parent.glob(f"{prefix}*"):
        pid_text = path.name[len(prefix) :].split("-", 1)[0]
        if not pid_text.isdigit() or _alive(int(pid_text)):
            continue
        with contextlib.suppress(OSError):
            path.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
