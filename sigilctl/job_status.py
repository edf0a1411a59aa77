"""``sigilctl jobs``: every job, its latest run, and whether that run still stands for it.

``dvc status`` for briefs. A job is

- ``current``: its latest run succeeded and the job still resolves to that run's snapshots;
- ``stale``: the job resolves differently now; what changed is named (a file under jobs/, a
  brief field), as ``verify --source`` names it;
- ``failed``: its latest run, of the current inputs, did not succeed;
- ``never run``: no run yet;
- ``invalid``: the brief does not resolve now (the reason is given).

The latest run is the one with the latest ``finished_at`` (ties by run_id, SPEC §7), read from
the manifests (the files are authoritative). Re-resolving is hashing, not running: no provider
is called and nothing is written; every job is resolved with one ``SharedReads``, so a brand
folder used by hundreds of jobs is read and hashed once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sigilctl.history import summarize
from sigilctl.lookup import latest_run
from sigilctl.shared_reads import SharedReads
from sigilctl.store import RunStore
from sigilctl.verify.source import SourceChecker
from sigilctl.workspace import Workspace

STATES = ("current", "stale", "failed", "never run", "invalid")
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class JobStatus:
    """One job's state; ``run_*`` describe its latest run (None when it never ran)."""

    job_id: str
    state: str
    run_id: str | None = None
    run_status: str | None = None
    finished_at: str | None = None
    run_dir: Path | None = None
    # The run_id a run now would get (None when the job does not resolve).
    would_run_id: str | None = None
    # For ``stale``: the files and brief fields that changed since the latest run.
    changes: list[str] = field(default_factory=list)
    # For ``failed``: the run's error; for ``invalid``: why the job does not resolve.
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.state == "current"

    def as_json(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "state": self.state,
            "latest_run": None
            if self.run_id is None
            else {
                "run_id": self.run_id,
                "status": self.run_status,
                "finished_at": self.finished_at,
                "run_dir": str(self.run_dir),
            },
            "would_run_id": self.would_run_id,
            "changes": self.changes,
            "error": self.error,
        }


@dataclass(frozen=True)
class JobsReport:
    jobs: list[JobStatus]

    @property
    def ok(self) -> bool:
        """Every job is current (what ``jobs --check`` exits 0 on)."""
        return all(job.ok for job in self.jobs)

    def counts(self) -> dict[str, int]:
        found = Counter(job.state for job in self.jobs)
        return {state: found[state] for state in STATES if found[state]}

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "counts": self.counts(),
            "jobs": [job.as_json() for job in self.jobs],
        }


def job_statuses(
    workspace: Workspace,
    job_ids: Sequence[str] | None = None,
    progress: Progress | None = None,
    reads: SharedReads | None = None,
) -> JobsReport:
    """The state of every job under jobs/ (or of ``job_ids``), in job_id order."""
    ids = sorted(job_ids) if job_ids is not None else workspace.job_ids()
    checker = SourceChecker(workspace, reads)
    store = RunStore(workspace.artifacts)
    found = []
    for done, job_id in enumerate(ids, start=1):
        found.append(job_status(job_id, store, checker))
        if progress:
            progress(done, len(ids))
    return JobsReport(found)


def job_status(job_id: str, store: RunStore, checker: SourceChecker) -> JobStatus:
    """One job's state, from its latest run and its resolution now."""
    latest = latest_run(store, job_id) if (store.artifacts / job_id).is_dir() else None
    if latest is None:
        now = checker.resolve(job_id)
        if isinstance(now, str):
            return JobStatus(job_id, "invalid", error=now)
        return JobStatus(job_id, "never run", would_run_id=now.run_id)
    run = summarize(latest, current=True)
    base = JobStatus(
        job_id,
        "current",
        run_id=latest.name,
        run_status=run.status,
        finished_at=run.finished_at,
        run_dir=latest,
    )
    source = checker.check(latest)
    if source.state == "unresolvable":
        return _with(base, "invalid", error=source.message)
    if source.state == "stale":
        changes = source.changes or [f"{name} snapshot" for name in source.changed]
        return _with(base, "stale", would_run_id=source.current_run_id, changes=changes)
    if run.status != "succeeded":
        return _with(
            base,
            "failed",
            would_run_id=source.current_run_id,
            error=run.error or f"the run's status is {run.status or 'unknown'}",
        )
    return _with(base, "current", would_run_id=source.current_run_id)


def _with(base: JobStatus, state: str, **changes: Any) -> JobStatus:
    return replace(base, state=state, **changes)
