"""The embedded backend: one SQLite file in WAL mode, its migrations, its writer lock and swap.

Every connection is opened and closed by a context manager (nothing leaks, even on errors).
Writers (a finishing run, a reindex swapping its new file in) take ``<db>.lock`` with ``flock``
for a bounded time, so a swap never races a write. A rebuilt file is made self-contained (its
WAL checkpointed away on close) before ``os.replace``, and the old file is first switched out of
WAL mode, which SQLite only allows when nobody else has it open: its ``-wal``/``-shm`` files are
then gone and cannot be mistaken for the new file's.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from sigilctl.errors import StorageError
from sigilctl.index import schema
from sigilctl.index.rows import RunRows

WRITE_TIMEOUT_S = 2.0
SWAP_TIMEOUT_S = 10.0
_POLL_S = 0.02


class IndexBusyError(StorageError):
    """Another process held the index for longer than we were willing to wait."""


def sidecar(db: Path, suffix: str) -> Path:
    return db.with_name(db.name + suffix)


@contextlib.contextmanager
def connect(db: Path, *, timeout: float = WRITE_TIMEOUT_S) -> Iterator[sqlite3.Connection]:
    """A connection in autocommit mode (we BEGIN ourselves), closed whatever happens."""
    conn = sqlite3.connect(db, timeout=timeout, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        yield conn
    finally:
        conn.close()


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction: all of it or none of it."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextlib.contextmanager
def writer_lock(db: Path, timeout: float) -> Iterator[None]:
    """Hold ``<db>.lock`` exclusively, waiting at most ``timeout`` seconds."""
    path = sidecar(db, ".lock")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise StorageError(f"cannot create the index lock {path}: {exc.strerror}") from None
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexBusyError(
                        f"the index {db} is locked by another process (waited {timeout:g} s)"
                    ) from None
                time.sleep(_POLL_S)
        yield
    finally:
        os.close(fd)


def applied_migrations(conn: sqlite3.Connection) -> set[int]:
    conn.execute(schema.CREATE_MIGRATIONS_TABLE)
    return {version for version, _name in conn.execute(schema.SELECT_MIGRATIONS)}


def schema_state(conn: sqlite3.Connection) -> str:
    """``current``, ``behind`` (migrations to apply) or ``ahead`` (written by a newer sigilctl)."""
    applied = {v for v, _ in conn.execute(schema.SELECT_MIGRATIONS)} if _has_table(conn) else set()
    known = {m.version for m in schema.MIGRATIONS}
    if applied - known:
        return "ahead"
    return "current" if applied == known else "behind"


def _has_table(conn: sqlite3.Connection) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone()
    return row is not None


def migrate(conn: sqlite3.Connection) -> None:
    """Apply every migration not yet recorded, each in its own transaction."""
    conn.execute(schema.CREATE_MIGRATIONS_TABLE)
    for migration in schema.MIGRATIONS:
        with transaction(conn):
            if migration.version in applied_migrations(conn):
                continue
            for statement in migration.statements:
                conn.execute(statement)
            conn.execute(schema.INSERT_MIGRATION, (migration.version, migration.name))


def insert_new(conn: sqlite3.Connection, runs: Iterable[RunRows]) -> None:
    """Bulk insert into an empty database (caller holds the transaction)."""
    batch = list(runs)
    conn.executemany(schema.UPSERT_RUN, [r.run for r in batch])
    conn.executemany(schema.INSERT_SNAPSHOT, [s for r in batch for s in r.snapshots])
    conn.executemany(schema.INSERT_ARTIFACT, [a for r in batch for a in r.artifacts])


def upsert(conn: sqlite3.Connection, rows: RunRows) -> None:
    """Insert or replace one run and its children (caller holds the transaction)."""
    conn.execute(schema.UPSERT_RUN, rows.run)
    conn.execute(schema.DELETE_SNAPSHOTS, rows.key)
    conn.execute(schema.DELETE_ARTIFACTS, rows.key)
    conn.executemany(schema.INSERT_SNAPSHOT, rows.snapshots)
    conn.executemany(schema.INSERT_ARTIFACT, rows.artifacts)


def delete(conn: sqlite3.Connection, key: tuple[str, str]) -> None:
    conn.execute(schema.DELETE_RUN, key)


def open_build(path: Path) -> sqlite3.Connection:
    """A fresh file for a rebuild: no journal on disk and no fsync until it is complete."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = MEMORY")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def seal_build(conn: sqlite3.Connection, path: Path) -> None:
    """Mark the new file WAL, close it (nothing left in a -wal file) and fsync it."""
    try:
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()
    for suffix in ("-wal", "-shm"):
        sidecar(path, suffix).unlink(missing_ok=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def swap_in(new: Path, db: Path, timeout: float = SWAP_TIMEOUT_S) -> None:
    """Replace ``db`` by ``new`` in one rename; the caller holds the writer lock."""
    if db.exists():
        _retire(db, timeout)
    os.replace(new, db)
    fd = os.open(db.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _retire(db: Path, timeout: float) -> None:
    """Take the old file out of WAL mode, which needs every reader gone; wait for them."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with connect(db, timeout=_POLL_S * 5) as conn:
                mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
            if str(mode).lower() == "delete":
                return
        except sqlite3.OperationalError:
            pass  # busy: someone is reading it right now
        except sqlite3.DatabaseError:
            # Not a database (corrupt): nobody can be using its side files meaningfully.
            for suffix in ("-wal", "-shm"):
                sidecar(db, suffix).unlink(missing_ok=True)
            return
        if time.monotonic() >= deadline:
            raise IndexBusyError(
                f"the index {db} is still open in another process after {timeout:g} s; "
                "the old index is kept, try again"
            )
        time.sleep(_POLL_S)
