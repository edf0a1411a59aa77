"""Observation 7: errors in one style, always one sentence on stderr; "did you mean" instead of
every job id; ``-v`` anywhere; ``--json`` everywhere; a closed pipe is not an error."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scripts.cli_reference import COMMANDS
from tests.helpers import ENV_PREFIXES, failing_openai

Cli = Callable[..., Any]
SERVICES = ("serve", "worker")  # long-running: they log, they print no result


def test_a_failed_run_says_why_on_stderr_even_with_json(
    workspace: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing_openai(monkeypatch)
    result = cli("run", "ig-launch-openai", "--json")
    assert result.code == 1
    document = json.loads(result.stdout)  # stdout: the report, for the script
    lines = result.stderr.splitlines()
    assert len(lines) == 1  # stderr: the reason, for the CI log
    assert lines[0].startswith(f"sigilctl: error: run {document['run_id']} failed: ")
    assert "connection error" in lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("verfy",), "sigilctl: error: no such command 'verfy'; did you mean 'verify'?"),
        (("run", "ig-test-001", "--jsn"), "sigilctl: error: run: no such option: --jsn"),
        (("runs", "--limit", "x"), "sigilctl: error: runs: invalid value for '--limit'"),
        (("show",), "sigilctl: error: show: missing argument"),
        (("show", "nope-nope"), "sigilctl: error: no run or job named 'nope-nope'"),
    ],
)
def test_every_error_has_one_style(
    workspace: Path, cli: Cli, args: tuple[str, ...], expected: str
) -> None:
    result = cli(*args)
    assert result.code == 2
    assert result.stderr.startswith(expected), result.stderr
    assert len(result.stderr.splitlines()) == 1 and "Usage:" not in result.stderr
    assert result.stdout == ""


def test_an_unknown_job_among_hundreds_is_short_and_suggests(workspace: Path, cli: Cli) -> None:
    template = workspace / "jobs/ig-test-001"
    for i in range(500):
        shutil.copytree(template, workspace / f"jobs/nw-autumn-{i:03d}")
    result = cli("run", "nw-autum-042")
    assert result.code == 2
    assert "did you mean 'nw-autumn-042'" in result.stderr
    assert len(result.stderr) < 400  # not 6.9 kB of every job id
    assert "nw-autumn-499" not in result.stderr


def test_a_misspelt_brief_key_gets_a_suggestion(workspace: Path, cli: Cli) -> None:
    brief = workspace / "jobs/ig-test-001/brief.yaml"
    brief.write_text(brief.read_text().replace("  temperature:", "  temprature:"))
    result = cli("run", "ig-test-001")
    assert result.code == 2
    assert "unknown key 'model.temprature' (did you mean 'temperature'?)" in result.stderr


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_works_before_or_after_the_command(workspace: Path, cli: Cli, where: str) -> None:
    brief = workspace / "jobs/ig-test-001/brief.yaml"
    brief.write_text(brief.read_text().replace("brand: sigilzero", "colour: red\nbrand: x"))
    args = ["-v", "run", "ig-test-001"] if where == "before" else ["run", "ig-test-001", "-v"]
    result = cli(*args)
    assert result.code == 2
    assert "Traceback" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith("sigilctl: error: ")


def test_every_command_that_reports_takes_json(workspace: Path, cli: Cli) -> None:
    from scripts.cli_reference import SUBCOMMANDS

    for command in COMMANDS:
        if command in SERVICES:
            continue
        for sub in SUBCOMMANDS.get(command, ("",)):  # a group: each of its commands
            args = [command, sub] if sub else [command]
            assert "--json" in cli(*args, "--help").stdout, args
    schema = cli("schema", "brief", "--json")
    assert schema.code == 0 and json.loads(schema.stdout)["title"]


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIXES)}
    env["NO_COLOR"] = "1"
    return env


@pytest.mark.parametrize(
    "args", [("runs",), ("runs", "--json"), ("jobs",), ("show", "ig-test-001")]
)
def test_a_closed_pipe_ends_quietly_with_0(
    workspace: Path, cli: Cli, args: tuple[str, ...]
) -> None:
    """`sigilctl runs | head` when head has already exited: no error, no traceback, exit 0."""
    assert cli("run", "ig-test-001").code == 0
    assert cli("runs").code == 0  # the index exists: the child only reads
    reader, writer = os.pipe()
    os.close(reader)  # the reader is gone before the first write
    proc = subprocess.run(
        [sys.executable, "-m", "sigilctl", *args],
        cwd=workspace,
        env=child_env(),
        stdout=writer,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        check=False,
    )
    os.close(writer)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
