"""The one index interface both backends implement (SQLite embedded, PostgreSQL for a team).

Commands, the runner and the HTTP API talk to a ``RunIndex`` obtained from ``open_index``; they
never know which backend answers. Both give the same answers for the same artifacts tree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol

from sigilctl.index.build import Progress, ReindexResult
from sigilctl.index.location import IndexLocation
from sigilctl.index.query import RunFilters
from sigilctl.index.rows import RunRecord
from sigilctl.index.stats import RunMetrics, StatsRow


@dataclass(frozen=True)
class Built:
    """An index built whole by a reader, and why (absent, empty, damaged, older)."""

    state: str  # absent, empty, damaged or older
    reason: str
    result: ReindexResult


class RunIndex(Protocol):
    """What every command can ask of the index. Errors are ``SigilError`` sentences."""

    location: IndexLocation
    artifacts: Path

    def reindex(self, progress: Progress | None = None) -> ReindexResult:
        """Rebuild from every manifest and swap in atomically (readers: old or new)."""

    def ensure_built(self, progress: Progress | None = None) -> Built | None:
        """Build the index whole when it is absent, empty, damaged or older than this
        sigilctl (readers never see a partial one); None when it was fine already."""

    def record_run(self, run_dir: Path) -> None:
        """Make the rows of this run_id (current and history) equal to its folders now.

        ``run_dir`` is the current folder or any history folder of the run, existing or not.
        Writes only into a ready index; raises ``StorageError`` otherwise (the module-level
        ``sigilctl.index.record_run`` turns that into a warning).
        """

    def runs(self, filters: RunFilters) -> list[RunRecord]:
        """Executions matching ``filters``, newest first; rows whose folder is gone are
        left out (and dropped from the index when it can be written)."""

    def latest_per_job(self, job_ids: Sequence[str] | None = None) -> dict[str, RunRecord]:
        """Each job's latest current run (latest finished_at, ties by run_id)."""

    def stats(self, by: str = "job_id", since: str | None = None) -> list[StatsRow]:
        """Counts, tokens and cost per job_id, brand, job_type or day (every execution)."""

    def metrics(self, buckets: Sequence[float]) -> RunMetrics:
        """Current runs by status, and how many took at most each bound (seconds)."""

    def check(self) -> None:
        """Raise ``StorageError`` naming the problem unless the index can be read now."""

    def close(self) -> None: ...

    def __enter__(self) -> RunIndex: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
