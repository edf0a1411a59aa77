"""What the service reads from the run index and the trace spool (``GET /runs``, metrics).

The index is the one the workspace names (``--db``/``SIGILCTL_INDEX``/``sigilctl.toml``:
SQLite or PostgreSQL), opened once per process with a connection pool and kept for the life of
``serve`` or ``worker``; it is built whole at first use when it is missing.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from sigilctl import env
from sigilctl.errors import SigilError
from sigilctl.index.interface import RunIndex
from sigilctl.index.stats import RunMetrics
from sigilctl.workspace import Workspace

DURATION_BUCKETS_S = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)


def index_of(workspace: Workspace) -> RunIndex:
    """The workspace's index, opened (pooled) once per process and built when missing."""
    return _opened(workspace.artifacts, workspace.index, env.get(env.SIGILCTL_INDEX))


@cache
def _opened(artifacts: Path, configured: str | None, _from_env: str | None) -> RunIndex:
    from sigilctl.index import index_location, open_index

    index = open_index(index_location(artifacts, None, configured), artifacts, pooled=True)
    index.ensure_built()
    return index


def ensure_index(workspace: Workspace) -> None:
    index_of(workspace)


def list_runs(workspace: Workspace, **filters: Any) -> list[dict[str, Any]]:
    """Rows of the index, newest first; bad filters raise InputError, a broken index
    StorageError."""
    from sigilctl.index.query import RunFilters

    checked = RunFilters(**filters).checked()
    return [record.as_json() for record in index_of(workspace).runs(checked)]


def run_stats(workspace: Workspace) -> RunMetrics:
    """Runs by status and the distribution of executed runs' durations, from the index."""
    return index_of(workspace).metrics(DURATION_BUCKETS_S)


def index_problem(workspace: Workspace) -> str | None:
    try:
        index_of(workspace).check()
    except SigilError as exc:
        return str(exc)
    return None


def spool_backlog(workspace: Workspace) -> tuple[int, int]:
    """(traces, bytes) waiting in the trace spool (SPEC §9)."""
    from sigilctl.observability.settings import spool_dir
    from sigilctl.observability.spool import TraceSpool

    try:
        status = TraceSpool(spool_dir(workspace.artifacts)).status()
    except OSError:
        return 0, 0
    return status.spooled_traces, status.spooled_bytes
