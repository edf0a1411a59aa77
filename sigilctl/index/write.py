"""One run into an existing index, as a finishing ``sigilctl run`` does it."""

from __future__ import annotations

from pathlib import Path

from sigilctl.errors import StorageError
from sigilctl.index import sqlite as backend
from sigilctl.index.rows import load_run_rows


def upsert_run(db: Path, artifacts: Path, run_dir: Path) -> None:
    """Insert or replace one run, waiting at most a couple of seconds for the index."""
    rows = load_run_rows(run_dir, artifacts)
    with (
        backend.writer_lock(db, backend.WRITE_TIMEOUT_S),
        backend.connect(db, timeout=backend.WRITE_TIMEOUT_S) as conn,
    ):
        state = backend.schema_state(conn)
        if state == "ahead":
            raise StorageError(f"the index {db} was written by a newer sigilctl")
        if state == "behind":
            backend.migrate(conn)
        conn.execute("PRAGMA journal_mode = WAL")
        with backend.transaction(conn):
            backend.upsert(conn, rows)
