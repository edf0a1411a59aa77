"""Tracing overhead: `run --force` traced vs the same run with --no-trace, measured together.

Against local receivers (sigilctl.smoke.receiver):
- subprocess: the whole CLI process (loading the SDK, building, sending, spooling and
  interpreter exit included), with a healthy receiver, with Langfuse down (a closed port: the
  trace is spooled), and with a receiver that accepts and never answers (the bound, 2 s);
- in-process: `run_job` called repeatedly in one process (the SDK already loaded), healthy and
  with every trace spooled, so the rows show what recording, building and sending cost per run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from benchmarks import Row, median_of

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


def _subprocess_rows(root: Path, repeat: int) -> list[Row]:
    from sigilctl.smoke.receiver import OtlpReceiver, closed_port_url

    untraced = _cli(root, {}, "--no-trace")
    untraced()
    baseline = median_of(untraced, repeat)
    rows = []
    with OtlpReceiver() as healthy:
        traced = _cli(root, _langfuse(healthy.base_url))
        traced()
        ours = median_of(traced, repeat)
    rows.append(
        Row(
            "run (subprocess), traced, healthy receiver",
            ours,
            "same run, --no-trace",
            baseline,
            extra=f"+{(ours - baseline) * 1000:.0f} ms per run",
        )
    )
    spooled = median_of(_cli(root, _langfuse(closed_port_url())), repeat)
    rows.append(
        Row(
            "run (subprocess), traced, Langfuse down (spooled)",
            spooled,
            "same run, --no-trace",
            baseline,
            extra=f"+{(spooled - baseline) * 1000:.0f} ms per run",
        )
    )
    with OtlpReceiver("hang", hang_s=60) as hanging:
        stalled = median_of(_cli(root, _langfuse(hanging.base_url)), max(2, repeat // 3))
    rows.append(
        Row(
            f"run (subprocess), traced, hanging receiver, bound {BOUND_S:g} s",
            stalled,
            "same run, --no-trace",
            baseline,
            extra=f"+{(stalled - baseline) * 1000:.0f} ms (the bound covers all of it)",
        )
    )
    return rows


def _in_process_rows(root: Path, repeat: int) -> list[Row]:
    from sigilctl.runner import RunOptions, run_job
    from sigilctl.smoke.receiver import OtlpReceiver, closed_port_url
    from sigilctl.workspace import Workspace

    workspace = Workspace.locate(root, None)
    traced = RunOptions(force=True, trace=True)
    untraced = RunOptions(force=True, trace=False)
    saved = dict(os.environ)
    rows = []
    try:
        with OtlpReceiver() as healthy:
            os.environ.clear()
            os.environ.update(_clean_env(_langfuse(healthy.base_url)))
            run_job(JOB, workspace, traced)  # load the SDK once
            ours = median_of(lambda: run_job(JOB, workspace, traced), repeat)
            baseline = median_of(lambda: run_job(JOB, workspace, untraced), repeat)
        rows.append(
            Row(
                "run_job (in-process), traced, healthy receiver",
                ours,
                "same, trace=False",
                baseline,
                extra=f"+{(ours - baseline) * 1000:.1f} ms per run (record, build, send)",
            )
        )
        os.environ.update(_langfuse(closed_port_url()))
        spooled = median_of(lambda: run_job(JOB, workspace, traced), repeat)
        baseline = median_of(lambda: run_job(JOB, workspace, untraced), repeat)
        rows.append(
            Row(
                "run_job (in-process), traced, Langfuse down",
                spooled,
                "same, trace=False",
                baseline,
                extra=f"+{(spooled - baseline) * 1000:.1f} ms per run (with a spool write)",
            )
        )
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return rows


def run(quick: bool) -> list[Row]:
    repeat = 3 if quick else 9
    with tempfile.TemporaryDirectory(prefix="sigilctl-bench-") as tmp:
        root = Path(tmp)
        shutil.copytree(REPO / "jobs", root / "jobs")
        (root / "artifacts").mkdir()
        rows = _subprocess_rows(root, repeat)
        rows.extend(_in_process_rows(root, repeat * 3))
    return rows
