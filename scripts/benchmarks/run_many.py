"""``run --all -j 2`` over offline jobs against one ``sigilctl run`` process per job.

The 520-jobs-through-``xargs`` day: the baseline starts one process per job, one after the
other, as a shell loop does. Ours is one process running every job, two at a time. Each variant
writes into an artifacts tree of its own, so every run executes (no cache hit). In-process,
threads (what ``-j`` uses) are also measured against a pool of two processes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from benchmarks import Row
from benchmarks.jobs import generate

ENV_PREFIXES = ("SIGILCTL_", "LANGFUSE_", "OPENAI_", "OTEL_")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIXES)}
    env["NO_COLOR"] = "1"
    return env


def _sigilctl(root: Path, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "sigilctl", *args],
        cwd=root,
        env=_env(),
        stdout=subprocess.DEVNULL,
        check=True,
    )


def _timed(fn: object) -> float:
    started = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - started


def _run_one(args: tuple[str, str, str]) -> str:
    from sigilctl.runner import RunOptions, run_job
    from sigilctl.workspace import Workspace

    root, artifacts, name = args
    workspace = Workspace.locate(Path(root), Path(artifacts))
    return run_job(name, workspace, RunOptions(trace=False)).status


def run(quick: bool) -> list[Row]:
    from sigilctl.many import run_jobs
    from sigilctl.prepare import RunOptions
    from sigilctl.workspace import Workspace

    count = 40 if quick else 200
    root = Path(tempfile.mkdtemp(prefix="sigilctl-bench-run-many-"))
    try:
        workspace = generate(root, count)
        ids = workspace.job_ids()

        def sequential() -> None:
            for name in ids:
                _sigilctl(root, "run", name, "--no-trace", "--artifacts", str(root / "seq"))

        def together(workers: int, where: str) -> None:
            _sigilctl(
                root, "run", "--all", "-j", str(workers), "--no-trace",
                "--artifacts", str(root / where),
            )  # fmt: skip

        def threads() -> None:
            space = Workspace.locate(root, root / "threads")
            results = list(run_jobs(ids, space, RunOptions(trace=False), 2))
            assert all(r.exit_code == 0 for r in results)

        def processes() -> None:
            work = [(str(root), str(root / "processes"), name) for name in ids]
            with ProcessPoolExecutor(max_workers=2) as pool:
                assert set(pool.map(_run_one, work, chunksize=4)) == {"succeeded"}

        base = _timed(sequential)
        ours = _timed(lambda: together(2, "j2"))
        single = _timed(lambda: together(1, "j1"))
        in_threads = _timed(threads)
        in_processes = _timed(processes)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return [
        Row(
            f"run --all -j 2, {count} offline jobs (1 process)",
            ours,
            f"{count} sequential `sigilctl run` processes",
            base,
            goal="< 1",
            extra=f"{count / ours:.1f} runs/s vs {count / base:.1f}",
        ),
        Row(
            f"run --all -j 1, {count} offline jobs",
            single,
            f"{count} sequential `sigilctl run` processes",
            base,
        ),
        Row(
            f"-j 2 threads in one process, {count} jobs",
            in_threads,
            "a pool of 2 processes, same jobs",
            in_processes,
            extra="(what -j uses vs the alternative)",
        ),
    ]
