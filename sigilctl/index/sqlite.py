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
from collections.abc import Iterator
from pathlib import Path

from sigilctl.errors import StorageError
from sigilctl.index import schema

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


def inspect(db: Path) -> str:
    """The state of the file at ``db`` (see ``base.SqlIndex.state``), without changing it.

    Only for a caller holding the writer lock (no swap can happen meanwhile); readers use
    ``open_for_read``.
    """
    if not db.exists():
        return "absent"
    try:
        with connect(db, timeout=WRITE_TIMEOUT_S) as conn:
            return state_of(conn)
    except sqlite3.DatabaseError:
        return "corrupt"


def state_of(conn: sqlite3.Connection) -> str:
    """The state of an open index; its first read may raise ``sqlite3.DatabaseError``."""
    tables = {
        name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    if not tables:
        return "empty"
    if "schema_migrations" not in tables:
        return "foreign"
    applied = {v for v, _ in conn.execute(SQL(schema.SELECT_MIGRATIONS))}
    return schema.classify(tables, applied)


def _inode(db: Path) -> int | None:
    try:
        return os.stat(db).st_ino
    except FileNotFoundError:
        return None


def open_for_read(db: Path, attempts: int = 5) -> tuple[sqlite3.Connection | None, str]:
    """A reader's connection and the state it sees (None when absent or corrupt).

    A rebuild can swap the file in while a reader is opening it (the reader holds the old file
    but finds the new file's ``-shm`` by name: "disk I/O error"). Once the first read succeeds
    the connection is stable (an open reader keeps the old file in WAL mode, so the swap waits);
    a first read that fails while the file was being replaced is simply tried again.
    """
    for _ in range(attempts):
        before = _inode(db)
        if before is None:
            return None, "absent"
        conn = sqlite3.connect(db, timeout=WRITE_TIMEOUT_S, isolation_level=None)
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            return conn, state_of(conn)
        except sqlite3.DatabaseError:
            conn.close()
            if _inode(db) == before:
                return None, "corrupt"
            time.sleep(_POLL_S)
    raise StorageError(f"the index {db} kept being replaced while it was opened; try again")


def SQL(statement: str) -> str:
    return schema.SQLITE.sql(statement)


def migrate(conn: sqlite3.Connection, *, indexes: bool = True) -> None:
    """Apply, in one transaction, every migration since the latest baseline not yet recorded.

    Steps before the baseline are recorded as applied (a fresh index starts at the baseline;
    an index older than it is rebuilt, never migrated). ``indexes=False`` leaves the secondary
    indexes for ``create_indexes``, after a bulk load.
    """
    conn.execute(SQL(schema.CREATE_MIGRATIONS_TABLE))
    steps = schema.fresh_migrations()
    with transaction(conn):
        applied = {v for v, _ in conn.execute(SQL(schema.SELECT_MIGRATIONS))}
        for migration in schema.MIGRATIONS:
            if migration.version in applied:
                continue
            if migration in steps:
                for statement in migration.statements:
                    conn.execute(SQL(statement))
                for statement in migration.indexes if indexes else ():
                    conn.execute(SQL(statement))
            conn.execute(SQL(schema.INSERT_MIGRATION), (migration.version, migration.name))


def create_indexes(conn: sqlite3.Connection) -> None:
    for migration in schema.fresh_migrations():
        for statement in migration.indexes:
            conn.execute(SQL(statement))


def open_build(path: Path) -> sqlite3.Connection:
    """A fresh file for a rebuild: no journal on disk and no fsync until it is complete.

    The file is created here first, so a folder that cannot be written (read-only mount, no
    permission, disk full) is reported as the OSError it is, not as SQLite's vaguer message.
    """
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
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
