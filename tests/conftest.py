"""Every test runs in its own workspace, with no real keys, hosts or colours leaking in."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from sigilctl.cli import run_cli

REPO = Path(__file__).resolve().parents[1]
ENV_PREFIXES = ("SIGILCTL_", "LANGFUSE_", "OPENAI_", "OTEL_")


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No sigilctl, Langfuse, OpenAI or OTel setting from the developer's shell reaches a test."""
    for name in list(os.environ):
        if name.startswith(ENV_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "160")


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the repository's jobs/ in a fresh root; the cwd is that root."""
    root = tmp_path / "ws"
    shutil.copytree(REPO / "jobs", root / "jobs")
    (root / "artifacts").mkdir()
    monkeypatch.chdir(root)
    return root


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capfd: pytest.CaptureFixture[str]) -> object:
    """Run the CLI in-process (fast) and capture what it printed."""

    def invoke(*args: str) -> Result:
        capfd.readouterr()
        code = run_cli(list(args))
        out, err = capfd.readouterr()
        return Result(code, out, err)

    return invoke


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
