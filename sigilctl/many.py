"""Many jobs in one command (``run JOB...``, ``run --all``, ``check``): bounded parallelism,
each result as soon as it is known, and one job's failure never stops the others.

A run is mostly waiting (the model's latency, fsyncs) and each holds its own lock, trace and
build folder, so jobs run in threads of one process: no interpreter start-up or import per
job, and the same files are read once (measured against processes in docs/performance.md).
``workers`` bounds how many run at once; results come back in the order they finish.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, TypeVar

from sigilctl.check import CheckResult, check_job
from sigilctl.errors import SigilError
from sigilctl.prepare import RunOptions
from sigilctl.providers.progress import CallProgress
from sigilctl.runner import RunOutcome, run_job
from sigilctl.shared_reads import SharedReads
from sigilctl.workspace import Workspace

T = TypeVar("T")
# Told which job a model call in flight belongs to, and how it is going.
OnJobCall = Callable[[str, CallProgress], None]


@dataclass(frozen=True)
class JobRun:
    """One job of a batch: what ``run`` did, or the one sentence why it could not."""

    job_ref: str
    outcome: RunOutcome | None = None
    error: str | None = None
    exit_code: int = 0

    @property
    def job_id(self) -> str:
        return self.outcome.job_id if self.outcome is not None else self.job_ref

    def as_json(self) -> dict[str, Any]:
        if self.outcome is not None:
            return {**self.outcome.as_json(), "exit_code": self.exit_code}
        return {
            "job_id": self.job_ref,
            "run_id": None,
            "status": "error",
            "error": self.error,
            "exit_code": self.exit_code,
        }


def in_parallel(items: Sequence[str], work: Callable[[str], T], workers: int) -> Iterator[T]:
    """``work(item)`` for every item, at most ``workers`` at a time, yielded as each finishes.

    Stopping early (an interrupt, a closed pipe) cancels what has not started yet and waits
    for what is running (a run is never abandoned half-way: its lock and build clean up).
    """
    if workers <= 1 or len(items) <= 1:
        for item in items:
            yield work(item)
        return
    pool = ThreadPoolExecutor(max_workers=min(workers, len(items)), thread_name_prefix="job")
    try:
        futures: list[Future[T]] = [pool.submit(work, item) for item in items]
        for future in as_completed(futures):
            yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def run_one(
    job_ref: str, workspace: Workspace, options: RunOptions, on_call: OnJobCall | None = None
) -> JobRun:
    """Run one job of a batch; its errors become its result (exit 1 or 2), never an exception."""
    if on_call is not None:
        options = replace(options, on_call=partial(on_call, job_ref))
    try:
        outcome = run_job(job_ref, workspace, options)
    except SigilError as exc:
        return JobRun(job_ref, error=exc.message, exit_code=exc.exit_code)
    return JobRun(job_ref, outcome, exit_code=0 if outcome.status == "succeeded" else 1)


def run_jobs(
    job_refs: Sequence[str],
    workspace: Workspace,
    options: RunOptions,
    workers: int = 1,
    on_call: OnJobCall | None = None,
) -> Iterator[JobRun]:
    """Run every job, ``workers`` at a time; each result as it finishes."""
    work = partial(run_one, workspace=workspace, options=options, on_call=on_call)
    return in_parallel(job_refs, work, workers)


def check_jobs(
    job_refs: Sequence[str],
    workspace: Workspace,
    options: RunOptions,
    workers: int = 1,
    *,
    with_prompt: bool = False,
) -> Iterator[CheckResult]:
    """Check every job (nothing written), sharing file reads; each result as it finishes."""
    reads = SharedReads()
    work = partial(
        check_job, workspace=workspace, options=options, with_prompt=with_prompt, reads=reads
    )
    return in_parallel(job_refs, work, workers)


def worst_exit(codes: Sequence[int]) -> int:
    """The exit of a batch: bad input (2) over not ok (1) over ok (0)."""
    return max(codes, default=0)
