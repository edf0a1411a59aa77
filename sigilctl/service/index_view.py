"""What the service reads from the run index and the trace spool (``GET /runs``, metrics).

One adapter, so the service follows the index wherever it goes (SQLite today; any backend that
answers the same queries tomorrow). The index is built at server start when it is missing.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sigilctl import env
from sigilctl.errors import StorageError
from sigilctl.index import INDEX_DIR, default_db_path
from sigilctl.workspace import Workspace

DURATION_BUCKETS_S = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
SPOOL_DIR = "trace-spool"


def ensure_index(workspace: Workspace) -> Path:
    from sigilctl.index.build import ensure_built

    db = default_db_path(workspace.artifacts)
    ensure_built(workspace.artifacts, db)
    return db


def list_runs(workspace: Workspace, **filters: Any) -> list[dict[str, Any]]:
    """Rows of the index, newest first; bad filters raise InputError, a broken index
    StorageError."""
    from sigilctl.index.query import RunFilters, query_runs

    checked = RunFilters(**filters).checked()
    db = ensure_index(workspace)
    return [record.as_json() for record in query_runs(db, workspace.artifacts, checked)]


@dataclass(frozen=True)
class RunStats:
    by_status: dict[str, int]
    buckets: list[tuple[float, int]]  # (upper bound in s, runs at or under it), cumulative
    count: int
    total_seconds: float


def run_stats(workspace: Workspace) -> RunStats:
    """Runs by status and the distribution of executed runs' durations, from the index."""
    from sigilctl.index import sqlite as backend

    db = default_db_path(workspace.artifacts)
    if not db.exists():
        return RunStats({}, [(b, 0) for b in DURATION_BUCKETS_S], 0, 0.0)
    cases = ", ".join(
        f"SUM(CASE WHEN duration_ms <= {int(b * 1000)} THEN 1 ELSE 0 END)"
        for b in DURATION_BUCKETS_S
    )
    try:
        with backend.connect(db) as conn:
            by_status = dict(
                conn.execute("SELECT status, COUNT(*) FROM runs GROUP BY status").fetchall()
            )
            row = conn.execute(
                f"SELECT COUNT(*), COALESCE(SUM(duration_ms), 0), {cases} "  # noqa: S608 - numbers
                "FROM runs WHERE duration_ms IS NOT NULL"
            ).fetchone()
    except sqlite3.Error as exc:
        raise StorageError(f"the index {db} cannot be read ({exc})") from None
    counts = [int(n or 0) for n in row[2:]]
    return RunStats(
        {str(k): int(v) for k, v in by_status.items()},
        list(zip(DURATION_BUCKETS_S, counts, strict=True)),
        int(row[0]),
        float(row[1]) / 1000,
    )


def index_problem(workspace: Workspace) -> str | None:
    try:
        list_runs(workspace, limit=1)
    except StorageError as exc:
        return str(exc)
    return None


def spool_backlog(workspace: Workspace) -> tuple[int, int]:
    """(traces, bytes) waiting in the trace spool (SPEC §9)."""
    configured = env.get(env.SIGILCTL_TRACE_SPOOL)
    folder = Path(configured) if configured else workspace.artifacts / INDEX_DIR / SPOOL_DIR
    traces = size = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0, 0
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_file(follow_symlinks=False):
            continue
        traces += 1
        size += entry.stat(follow_symlinks=False).st_size
    return traces, size
