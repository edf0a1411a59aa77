"""Tracing overhead: `run --force` traced vs the same run with --no-trace, measured together.

Against local receivers (sigilctl.smoke.receiver):
- subprocess: the whole CLI process (loading the SDK, building, sending, spooling and
  interpreter exit included), with a healthy receiver, with Langfuse down (a closed port: the
  trace is spooled), and with a receiver that accepts and never answers (the bound, 2 s);
- in-process: `run_job` called repeatedly in one process (OpenTelemetry already loaded),
  healthy and with every trace spooled, so the rows show what recording, building, sending and
  spooling cost per run.
Traced and untraced runs are measured in turn, so machine load shifts both alike.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from benchmarks import Row

REPO = Path(__file__).resolve().parents[2]
JOB = "ig-test-001"
BOUND_S = 2.0


def _clean_env(extra: dict[str, str]) -> dict[str, str]:
    prefixes = ("SIGILCTL_", "LANGFUSE_", "OPENAI_", "OTEL_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(extra)
    return env


def _langfuse(url: str) -> dict[str, str]:
    return {
        "LANGFUSE_PUBLIC_KEY": f"pk-lf-{uuid.uuid4().hex}",
        "LANGFUSE_SECRET_KEY": "sk-lf-bench",
        "LANGFUSE_BASE_URL": url,
        "SIGILCTL_TRACE_FLUSH_TIMEOUT": str(BOUND_S),
    }


def _cli(root: Path, env: dict[str, str], *extra: str) -> Callable[[], object]:
    args = [sys.executable, "-m", "sigilctl", "run", JOB, "--force", "--json", *extra]
    return lambda: subprocess.run(
        args, cwd=root, env=_clean_env(env), check=True, capture_output=True
    )


def _interleaved(runs: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median wall time of each, measured in turn (so machine load shifts all of them alike)."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, fn in runs.items():
            started = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def _subprocess_rows(root: Path, repeat: int) -> list[Row]:
    from sigilctl.smoke.receiver import OtlpReceiver, closed_port_url

    with OtlpReceiver() as healthy, OtlpReceiver("hang", hang_s=60) as hanging:
        runs = {
            "untraced": _cli(root, {}, "--no-trace"),
            "healthy": _cli(root, _langfuse(healthy.base_url)),
            "down": _cli(root, _langfuse(closed_port_url())),
        }
        for fn in runs.values():
            fn()  # warm caches (bytecode, files)
        medians = _interleaved(runs, repeat)
        stalled = _interleaved(
            {"untraced": runs["untraced"], "hang": _cli(root, _langfuse(hanging.base_url))},
            max(2, repeat // 3),
        )
    baseline = medians["untraced"]
    rows = [
        Row(
            "run (subprocess), traced, healthy receiver",
            medians["healthy"],
            "same run, --no-trace",
            baseline,
            extra=f"+{(medians['healthy'] - baseline) * 1000:.0f} ms per run",
        ),
        Row(
            "run (subprocess), traced, Langfuse down (spooled)",
            medians["down"],
            "same run, --no-trace",
            baseline,
            extra=f"+{(medians['down'] - baseline) * 1000:.0f} ms per run (with a spool write)",
        ),
        Row(
            f"run (subprocess), traced, hanging receiver, bound {BOUND_S:g} s",
            stalled["hang"],
            "same run, --no-trace",
            stalled["untraced"],
            extra=f"+{(stalled['hang'] - stalled['untraced']) * 1000:.0f} ms "
            f"(bound {BOUND_S * 1000:.0f} ms)",
        ),
    ]
    return rows


def _in_process_rows(root: Path, repeat: int) -> list[Row]:
    from sigilctl.runner import RunOptions, run_job
    from sigilctl.smoke.receiver import OtlpReceiver, closed_port_url
    from sigilctl.workspace import Workspace

    workspace = Workspace.locate(root, None)
    saved = dict(os.environ)

    def run_with(url: str | None) -> Callable[[], object]:
        settings = _clean_env(_langfuse(url) if url else {})

        def one() -> object:
            os.environ.clear()
            os.environ.update(settings)
            return run_job(JOB, workspace, RunOptions(force=True, trace=url is not None))

        return one

    try:
        with OtlpReceiver() as healthy:
            runs = {
                "untraced": run_with(None),
                "healthy": run_with(healthy.base_url),
                "down": run_with(closed_port_url()),
            }
            for fn in runs.values():
                fn()  # load OpenTelemetry and httpx once
            medians = _interleaved(runs, repeat)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    baseline = medians["untraced"]
    return [
        Row(
            "run_job (in-process), traced, healthy receiver",
            medians["healthy"],
            "same, untraced",
            baseline,
            extra=f"+{(medians['healthy'] - baseline) * 1000:.1f} ms per run (record, build, send)",
        ),
        Row(
            "run_job (in-process), traced, Langfuse down",
            medians["down"],
            "same, untraced",
            baseline,
            extra=f"+{(medians['down'] - baseline) * 1000:.1f} ms per run (with a spool write)",
        ),
    ]


def run(quick: bool) -> list[Row]:
    repeat = 3 if quick else 9
    with tempfile.TemporaryDirectory(prefix="sigilctl-bench-") as tmp:
        root = Path(tmp)
        shutil.copytree(REPO / "jobs", root / "jobs")
        (root / "artifacts").mkdir()
        rows = _subprocess_rows(root, repeat)
        rows.extend(_in_process_rows(root, repeat * 3))
    return rows
