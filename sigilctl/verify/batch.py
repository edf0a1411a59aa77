"""Many runs at once (``verify --all``): found in the artifacts tree, checked on every core.

Hidden folders (``.tmp-*`` builds of in-flight or crashed runs, ``.trash-*``, ``.locks``) are
never runs. Verifying is hashing many small files plus Python bookkeeping per run; hashlib only
releases the GIL for buffers over 2 KiB, so threads barely help and worker processes are used
(measured in scripts/benchmarks/verify.py). Small batches stay in-process: a pool costs more
than it saves below a few dozen runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from sigilctl.errors import InputError
from sigilctl.history import iter_history
from sigilctl.store import RunStore
from sigilctl.verify.report import Kind, Problem, RunReport
from sigilctl.verify.run_check import verify_run
from sigilctl.workspace import check_job_id

POOL_THRESHOLD = 48
CHUNK = 64
Progress = Callable[[int], None]


def discover_runs(artifacts: Path, job_id: str | None = None) -> list[Path]:
    """Published run directories under ``artifacts`` (one job's when ``job_id`` is given),
    then every execution kept in history: evidence too (SPEC §8)."""
    if job_id is not None:
        check_job_id(job_id, source="--job")
        if not (artifacts / job_id).is_dir():
            raise InputError(f"nothing to verify: no runs of job '{job_id}' under {artifacts}")
    try:
        current = list(RunStore(artifacts).iter_run_dirs(job_id))
        return current + list(iter_history(artifacts, job_id))
    except OSError as exc:
        raise InputError(f"cannot list runs under {artifacts}: {exc.strerror}") from None


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def verify_many(
    run_dirs: Sequence[Path], *, workers: int | None = None, on_progress: Progress | None = None
) -> list[RunReport]:
    """Verify every run, in the given order, using up to ``workers`` processes."""
    workers = workers or default_workers()
    if workers <= 1 or len(run_dirs) < POOL_THRESHOLD:
        reports = []
        for run_dir in run_dirs:
            reports.append(verify_run(run_dir))
            if on_progress:
                on_progress(1)
        return reports
    size = min(CHUNK, -(-len(run_dirs) // (workers * 4)))
    chunks = [list(run_dirs[i : i + size]) for i in range(0, len(run_dirs), size)]
    results: list[list[RunReport]] = [[] for _ in chunks]
    offsets = list(range(0, len(run_dirs), size))
    with ProcessPoolExecutor(max_workers=min(workers, len(chunks))) as pool:
        futures = {pool.submit(_verify_chunk, chunk): i for i, chunk in enumerate(chunks)}
        for future in as_completed(futures):
            index = futures[future]
            start = offsets[index]
            results[index] = [
                _expand(run_dirs[start + i], packed) for i, packed in enumerate(future.result())
            ]
            if on_progress:
                on_progress(len(results[index]))
    return [report for chunk in results for report in chunk]


# A report as plain tuples: pickling dataclasses and paths back from workers costs more than
# verifying a small run does.
_Packed = tuple[str | None, str | None, str | None, int, int, list[tuple[str, str, str]]]


def _verify_chunk(run_dirs: list[Path]) -> list[_Packed]:
    packed = []
    for run_dir in run_dirs:
        r = verify_run(run_dir)
        problems = [(p.kind.value, p.path, p.message) for p in r.problems]
        packed.append((r.run_id, r.job_id, r.status, r.snapshot_count, r.artifact_count, problems))
    return packed


def _expand(run_dir: Path, packed: _Packed) -> RunReport:
    run_id, job_id, status, snapshots, artifacts, problems = packed
    return RunReport(
        run_dir,
        run_id,
        job_id,
        status,
        snapshots,
        artifacts,
        [Problem(Kind(kind), path, message) for kind, path, message in problems],
    )
