"""Every test runs in its own workspace, with no real keys, hosts or colours leaking in."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from sigilctl.cli import run_cli
from tests.helpers import ENV_PREFIXES, REPO, Result, make_run, run_python, run_subprocess

__all__ = ["REPO", "Result", "make_run", "run_python", "run_subprocess"]
pytest_plugins = ("tests.index_backends",)  # index_setting: each index test on both backends


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


@pytest.fixture
def cli(capfd: pytest.CaptureFixture[str]) -> object:
    """Run the CLI in-process (fast) and capture what it printed."""

    def invoke(*args: str) -> Result:
        capfd.readouterr()
        code = run_cli(list(args))
        out, err = capfd.readouterr()
        return Result(code, out, err)

    return invoke
