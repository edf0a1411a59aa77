"""What both backends share: the queries, the single-run sync and the drop-on-read of rows
whose folder is gone. A backend supplies connections (``_reading``, ``_writing``) that run the
statements of ``schema.py`` rendered for its dialect; everything else is here, once.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from sigilctl.errors import InputError, SigilError, StorageError
from sigilctl.index import schema
from sigilctl.index.build import Progress, ReindexResult
from sigilctl.index.interface import Built
from sigilctl.index.location import IndexLocation
from sigilctl.index.query import RunFilters, parse_since
from sigilctl.index.rows import RunRecord, RunRows
from sigilctl.index.stats import RunMetrics, StatsRow, check_by, ordered
from sigilctl.index.sync import read_run, run_of
from sigilctl.logs import get_logger

UNLIMITED = 2**62
PAGE = 200  # rows read at a time when some may have to be skipped (folder gone)
DROP_AT_MOST = 20  # rows forgotten per read, so a missing mount cannot set off a storm
# States of an index that a reader rebuilds whole rather than read (with the note it prints).
REBUILD_REASONS = {
    "absent": "did not exist yet",
    "empty": "was empty (no tables)",
    "damaged": "was missing tables",
    "older": "was written by an older sigilctl",
}


class IndexAbsentError(StorageError):
    """The index has not been built yet (a writer leaves it absent; a reader builds it)."""


class Executor(Protocol):
    """Runs schema.py statements (``?`` placeholders, ``{s}`` table prefix) on one connection."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def run(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def run_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...


REINDEX_ADVICE = "run 'sigilctl reindex' to rebuild it"


def not_ready(where: str, state: str, advice: str = REINDEX_ADVICE) -> SigilError:
    """Why an index cannot answer now (``state`` as ``SqlIndex.state`` says), in one sentence,
    and how to get one that can; ``advice`` names reindex only where it would work
    (sigilctl.index.advice)."""
    if state == "absent":
        return IndexAbsentError(
            f"there is no index at {where} yet; 'sigilctl runs' or 'sigilctl reindex' builds it"
        )
    if state == "newer":
        return StorageError(f"the index {where} was written by a newer sigilctl; {advice}")
    if state == "foreign":
        return InputError(f"{where} is a SQLite database but not a sigilctl run index")
    if state == "corrupt":
        return StorageError(f"the index {where} is not a SQLite database (damaged?); {advice}")
    described = {
        "empty": "is empty (no tables)",
        "damaged": "is missing tables",
        "older": "was written by an older sigilctl",
    }.get(state, state)
    return StorageError(
        f"the index {where} {described}; 'sigilctl runs' or 'sigilctl reindex' rebuilds it"
    )


def write_executions(db: Executor, job_id: str, run_id: str, executions: list[RunRows]) -> None:
    """Make the rows of one run_id equal to ``executions`` (caller holds the transaction)."""
    keep = {rows.key[2] for rows in executions}
    for (execution_id,) in db.query(schema.SELECT_EXECUTION_IDS, (job_id, run_id)):
        if execution_id not in keep:
            delete_execution(db, (job_id, run_id, execution_id))
    for rows in executions:
        upsert_execution(db, rows)


def upsert_execution(db: Executor, rows: RunRows) -> None:
    """Insert or replace one execution's row and its children (caller holds the transaction)."""
    db.run(schema.UPSERT_RUN, rows.run)
    for statement in schema.DELETE_CHILDREN:
        db.run(statement, rows.key)
    db.run_many(schema.INSERT_SNAPSHOT, rows.snapshots)
    db.run_many(schema.INSERT_ARTIFACT, rows.artifacts)


def delete_execution(db: Executor, key: tuple[str, str, str]) -> None:
    for statement in schema.DELETE_CHILDREN:
        db.run(statement, key)
    db.run(schema.DELETE_EXECUTION, key)


class SqlIndex:
    """The shared half of a backend. Subclasses implement the abstract hooks below."""

    location: IndexLocation
    artifacts: Path

    # -- hooks -----------------------------------------------------------------------------
    def state(self) -> str:
        """absent, empty, foreign, corrupt, damaged, older, behind, current or newer."""
        raise NotImplementedError

    def reindex(self, progress: Progress | None = None) -> ReindexResult:
        raise NotImplementedError

    def _reading(self) -> contextlib.AbstractContextManager[Executor]:
        raise NotImplementedError

    def _writing(
        self, job_id: str, run_id: str, timeout: float | None = None
    ) -> contextlib.AbstractContextManager[Executor]:
        raise NotImplementedError

    def close(self) -> None:
        """Nothing to release by default: connections live as long as one call."""

    # -- shared ----------------------------------------------------------------------------
    def __enter__(self) -> SqlIndex:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def ensure_built(self, progress: Progress | None = None) -> Built | None:
        state = self.state()
        if state not in REBUILD_REASONS:
            return None
        return Built(state, REBUILD_REASONS[state], self.reindex(progress))

    def record_run(self, run_dir: Path) -> None:
        job_id, run_id = run_of(self.artifacts, run_dir)
        self._sync(job_id, run_id)

    def _sync(self, job_id: str, run_id: str, timeout: float | None = None) -> None:
        # Files are read inside the writer's lock: two syncs of one run_id cannot cross.
        with self._writing(job_id, run_id, timeout) as db:
            state = read_run(self.artifacts, job_id, run_id)
            write_executions(db, job_id, run_id, state.executions)
        log = get_logger("index")
        for problem in state.problems:
            log.debug("not indexed: %s: %s", problem.path, problem.reason)

    def runs(self, filters: RunFilters) -> list[RunRecord]:
        names, params = filters.checked().clauses()
        sql = schema.select_runs(names, history=filters.history)
        page = max(filters.limit, PAGE) if filters.limit else UNLIMITED
        found: list[RunRecord] = []
        gone: list[RunRecord] = []
        offset = 0
        with self._reading() as db:
            while True:
                rows = db.query(sql, [*params, page, offset])
                for row in rows:
                    record = RunRecord.from_row(row, self.artifacts)
                    (found if os.path.isdir(record.run_dir) else gone).append(record)
                if (filters.limit and len(found) >= filters.limit) or len(rows) < page:
                    break
                offset += page
        self._drop(gone)
        return found[: filters.limit] if filters.limit else found

    def latest_per_job(self, job_ids: Sequence[str] | None = None) -> dict[str, RunRecord]:
        wanted = set(job_ids) if job_ids is not None else None
        with self._reading() as db:
            rows = db.query(schema.SELECT_LATEST_PER_JOB)
        latest: dict[str, RunRecord] = {}
        gone: list[RunRecord] = []
        for row in rows:
            record = RunRecord.from_row(row, self.artifacts)
            if wanted is not None and record["job_id"] not in wanted:
                continue
            if os.path.isdir(record.run_dir):
                latest[record["job_id"]] = record
            else:
                gone.append(record)
        self._drop(gone)
        for record in gone:  # the job's next run, skipping any other folder that is gone
            found = self.runs(RunFilters(job_id=record["job_id"], limit=1))
            if found:
                latest[record["job_id"]] = found[0]
        return dict(sorted(latest.items()))

    def stats(self, by: str = "job_id", since: str | None = None) -> list[StatsRow]:
        check_by(by)
        params = [parse_since(since)] if since else []
        with self._reading() as db:
            rows = db.query(schema.select_stats(by, since=since is not None), params)
        return ordered([StatsRow.from_row(row) for row in rows])

    def metrics(self, buckets: Sequence[float]) -> RunMetrics:
        with self._reading() as db:
            by_status = {str(k): int(v) for k, v in db.query(schema.SELECT_STATUS_COUNTS)}
            bounds = [int(b * 1000) for b in buckets]
            row = db.query(schema.select_durations(len(bounds)), bounds)[0]
        counts = [int(n or 0) for n in row[2:]]
        return RunMetrics(
            by_status,
            list(zip(buckets, counts, strict=True)),
            int(row[0]),
            int(row[1]) / 1000,
        )

    def check(self) -> None:
        with self._reading() as db:
            db.query("SELECT 1 FROM {s}executions LIMIT 1")

    def _drop(self, gone: list[RunRecord]) -> None:
        """Forget rows whose folder was deleted by hand: re-sync their run_ids from the files.

        Only where the job's folder is still there (a tree that is not mounted, or mounted
        elsewhere, must not empty a shared index), at most ``DROP_AT_MOST`` run_ids per read,
        and quickly: a read-only or busy index is simply read around next time.
        """
        log = get_logger("index")
        runs = sorted({(r["job_id"], r["run_id"]) for r in gone})
        for job_id, run_id in runs[:DROP_AT_MOST]:
            if not os.path.isdir(self.artifacts / job_id):
                continue
            try:
                self._sync(job_id, run_id, timeout=0.5)
            except (SigilError, OSError) as exc:
                log.debug("could not drop the rows of %s/%s: %s", job_id, run_id, exc)
