"""The run index: a rebuildable copy of what the manifests under artifacts/ say.

The filesystem is authoritative (SPEC §1); the index only makes listing, filtering and counting
fast. Two backends answer the same ``RunIndex`` interface: SQLite (the embedded default, a file
at ``<artifacts>/.sigilctl/index.sqlite``) and PostgreSQL (a ``postgresql://`` URL, for a team),
chosen by ``--db`` > ``$SIGILCTL_INDEX`` > ``sigilctl.toml`` > default (``index_location``).
``reindex`` rebuilds it from manifests alone; a finishing run re-syncs its run_id
(``record_run``), and a missing, locked or broken index never fails that run.

Importing this package is cheap: backends (and psycopg) are imported when an index is opened.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sigilctl.errors import InputError
from sigilctl.index.location import INDEX_DIR, INDEX_NAME, IndexLocation, index_location

if TYPE_CHECKING:
    from sigilctl.index.interface import RunIndex

__all__ = [
    "INDEX_DIR",
    "INDEX_NAME",
    "IndexLocation",
    "index_location",
    "open_index",
    "record_run",
]


def open_index(location: IndexLocation, artifacts: Path, *, pooled: bool = False) -> RunIndex:
    """The index at ``location`` for the artifacts tree ``artifacts``.

    ``pooled``: long-lived processes (``serve``, ``worker``) keep a PostgreSQL connection pool
    for the index's lifetime; close it with ``close()`` or a ``with`` block. SQLite ignores it.
    """
    if location.kind == "sqlite":
        from sigilctl.index.sqlite_index import SqliteIndex

        return SqliteIndex(location, artifacts)
    try:
        from sigilctl.index.postgres_index import PostgresIndex
    except ImportError as exc:
        raise InputError(
            f"the index {location.display} is PostgreSQL, which needs the psycopg package "
            f"(pip install 'sigilctl[postgres]'): {exc}"
        ) from None
    return PostgresIndex(location, artifacts, pooled=pooled)


def record_run(artifacts: Path, *run_dirs: Path, configured: str | Path | None = None) -> None:
    """Re-sync every execution of each ``run_dirs``' run_id (one opening of the index); warn
    instead of raising on any failure.

    Called after every publish, move to history and ``gc``, with the current folder or a
    history folder of a run (existing or not). ``configured`` is the workspace's index
    setting (sigilctl.toml), if any. An absent index is left absent: ``runs`` builds it whole
    on first use, and a partial index holding only the newest run would mislead. So is an
    empty, damaged or foreign one: it is rebuilt whole, never topped up.
    """
    from sigilctl.index.base import IndexAbsentError
    from sigilctl.logs import get_logger

    if not run_dirs:
        return
    log = get_logger("index")
    display = "(unknown)"
    try:
        location = index_location(artifacts, configured=configured)
        display = location.display
        with open_index(location, artifacts) as index:
            if location.kind == "sqlite" and not location.sqlite_path.exists():
                log.debug("no index at %s yet; the run is not recorded there", display)
                return
            for run_dir in run_dirs:
                index.record_run(run_dir)
    except IndexAbsentError:
        log.debug("no index at %s yet; the run is not recorded there", display)
    except Exception as exc:  # noqa: BLE001 - the index is a cache: it never fails a run
        from sigilctl.env import scrub

        log.warning(
            "the run index %s was not updated (%s); 'sigilctl reindex' repairs it",
            display,
            scrub(str(exc)),
        )
