"""Helpers shared by the tests: child processes, runs through the CLI, the index's rows."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
ENV_PREFIXES = ("SIGILCTL_", "LANGFUSE_", "OPENAI_", "OTEL_")


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


def run_python(
    *argv: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> Result:
    """Run ``python ARGV`` in a child process with the test's clean environment."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIXES)}
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, *argv],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def run_subprocess(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> Result:
    """Run the real console entry point in a child process."""
    return run_python("-m", "sigilctl", *args, cwd=cwd, env=env, timeout=timeout)


def make_run(cli: object, workspace: Path, job: str = "ig-test-001") -> Path:
    """Run a job through the CLI and return its run directory."""
    result = cli("run", job, "--json")  # type: ignore[operator]
    assert result.code == 0, result.stderr
    run_id: str = json.loads(result.stdout)["run_id"]
    return workspace / "artifacts" / job / run_id


LANGFUSE_TEST_SECRET = "sk-lf-" + "5e" * 16  # recognisable: tests assert it is never printed


def langfuse_env(url: str, bound_s: float = 2.0, public_key: str | None = None) -> dict[str, str]:
    """Langfuse configured against ``url`` (a local receiver), with a tracing bound."""
    import uuid

    return {
        "LANGFUSE_PUBLIC_KEY": public_key or f"pk-lf-{uuid.uuid4().hex}",
        "LANGFUSE_SECRET_KEY": LANGFUSE_TEST_SECRET,
        "LANGFUSE_BASE_URL": url,
        "SIGILCTL_TRACE_FLUSH_TIMEOUT": str(bound_s),
    }


def closed_port_url() -> str:
    """An OpenAI-compatible base URL where nothing listens (connection refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def failing_openai(monkeypatch: object, *, retries: int = 0) -> None:
    """Make the openai provider fail fast: a key, a closed port, no retries."""
    for name, value in (
        ("OPENAI_API_KEY", "sk-test-" + "0f" * 20),
        ("OPENAI_BASE_URL", closed_port_url()),
        ("SIGILCTL_OPENAI_MAX_RETRIES", str(retries)),
        ("SIGILCTL_OPENAI_TIMEOUT", "2"),
    ):
        monkeypatch.setenv(name, value)  # type: ignore[attr-defined]


def run_json(cli: Any, *args: str, job: str = "ig-test-001") -> dict[str, Any]:
    """``sigilctl run JOB --json ARGS`` through the in-process CLI; it must succeed."""
    result = cli("run", job, "--json", *args)
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    assert isinstance(document, dict)
    return document


def run_result(cli: Any, *argv: str) -> tuple[Result, dict[str, Any]]:
    """``sigilctl ARGV --json`` through the in-process CLI, succeeded or not, and its document."""
    result = cli(*argv, "--json")
    return result, json.loads(result.stdout)


def visible_runs(workspace: Path, job: str = "ig-test-001") -> list[Path]:
    """The published run folders of ``job`` (hidden build, swap and history folders left out)."""
    job_dir = workspace / "artifacts" / job
    if not job_dir.is_dir():
        return []
    return sorted(p for p in job_dir.iterdir() if not p.name.startswith("."))


def add_job(root: Path, job_id: str, source: str = "ig-test-001") -> None:
    """A copy of job ``source`` under another id: same pipeline, another run_id."""
    import shutil

    target = root / "jobs" / job_id
    shutil.copytree(root / "jobs" / source, target)
    brief = target / "brief.yaml"
    brief.write_text(brief.read_text().replace(f"job_id: {source}", f"job_id: {job_id}"))


def listed(cli: Any, *args: str) -> list[dict[str, Any]]:
    """``sigilctl runs --json ARGS``; it must succeed."""
    result = cli("runs", "--json", *args)
    assert result.code == 0, result.stderr
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows
