"""Observations 5 and 6: many jobs in one command, bounded, and never a blank screen.

``run JOB...`` / ``run --all`` with ``-j N`` print one line per job as it finishes, a summary,
and exit with the worst status; at most N model calls are in flight. While a call is in
flight a terminal shows what is called, where, which attempt and for how long (stderr only).
"""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ENV_PREFIXES, add_job, failing_openai
from tests.openai_server import Reply, captions, completion, serve

Cli = Callable[..., Any]
KEY = "sk-test-" + "7a" * 20


def test_run_several_jobs_one_line_each_then_a_summary(workspace: Path, cli: Cli) -> None:
    result = cli("run", "ig-test-001", "email-test-001", "-j", "2")
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert {line.split()[1] for line in lines[:2]} == {"ig-test-001", "email-test-001"}
    assert all(line.startswith("✓ ") and "succeeded" in line for line in lines[:2])
    assert lines[-1] == "2 job(s): 2 succeeded"
    again = cli("run", "ig-test-001", "email-test-001")
    assert again.stdout.splitlines()[-1] == "2 job(s): 2 succeeded (2 cached)"
    assert all("(cached)" in line for line in again.stdout.splitlines()[:2])


def test_run_all_exits_with_the_worst_status_and_runs_the_others(
    workspace: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_job(workspace, "bad-brief")
    brief = workspace / "jobs/bad-brief/brief.yaml"
    brief.write_text(brief.read_text().replace("count: 3", "count: 300"))
    failing_openai(monkeypatch)  # ig-launch-openai fails (exit 1)
    result = cli("run", "--all", "-j", "2", "--json")
    assert result.code == 2  # bad input is the worst
    documents = {d["job_id"]: d for d in json.loads(result.stdout)}
    assert set(documents) == {"bad-brief", "email-test-001", "ig-launch-openai", "ig-test-001"}
    assert documents["ig-test-001"]["status"] == "succeeded"
    assert documents["email-test-001"]["status"] == "succeeded"
    assert documents["ig-launch-openai"]["status"] == "failed"
    assert documents["ig-launch-openai"]["exit_code"] == 1
    assert documents["bad-brief"]["status"] == "error"
    assert documents["bad-brief"]["exit_code"] == 2
    # each problem is also one sentence on stderr, whatever stdout holds
    assert "sigilctl: error: bad-brief: " in result.stderr
    assert "sigilctl: error: ig-launch-openai: run " in result.stderr
    shutil.rmtree(workspace / "jobs/bad-brief")
    human = cli("run", "--all")
    assert human.code == 1
    assert human.stdout.splitlines()[-1] == "3 job(s): 2 succeeded (2 cached), 1 failed"


def test_an_unknown_job_is_refused_before_anything_runs(workspace: Path, cli: Cli) -> None:
    result = cli("run", "ig-test-001", "email-tset-001")
    assert result.code == 2
    assert "did you mean 'email-test-001'" in result.stderr
    assert list((workspace / "artifacts").iterdir()) == []


def test_at_most_j_model_calls_are_in_flight(
    workspace: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs = [f"ig-openai-{i}" for i in range(4)]
    for job in jobs:
        add_job(workspace, job, source="ig-launch-openai")
    gate = threading.Event()
    with serve() as server:
        server.default = Reply(body=completion(captions(4)), gate=gate)
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        seen: list[int] = []

        def watch() -> None:
            deadline = time.monotonic() + 60
            while len(server.requests) < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(0.5)  # room for a third call, if the bound did not hold
            seen.append(len(server.requests))
            gate.set()

        watcher = threading.Thread(target=watch)
        watcher.start()
        result = cli("run", *jobs, "-j", "2")
        watcher.join()
        assert result.code == 0, result.stderr
        assert seen == [2]
        assert len(server.requests) == 4


def pty_run(workspace: Path, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """Run sigilctl with stderr on a pseudo-terminal (stdout a pipe): what a TTY shows."""
    master, slave = pty.openpty()
    full = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIXES)}
    full.update(env)
    proc = subprocess.Popen(
        [sys.executable, "-m", "sigilctl", *args],
        cwd=workspace,
        env=full,
        stdout=subprocess.PIPE,
        stderr=slave,
        text=True,
    )
    os.close(slave)
    screen = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            screen += chunk
        elif proc.poll() is not None:
            break
    os.close(master)
    out, _ = proc.communicate(timeout=60)
    return proc.returncode, out, screen.decode("utf-8", "replace")


def test_a_terminal_sees_the_call_in_flight_and_a_pipe_does_not(workspace: Path) -> None:
    with serve() as server:
        server.default = Reply(body=completion(captions(4)), delay=1.5)
        env = {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": server.url, "COLUMNS": "200"}
        code, out, screen = pty_run(workspace, env, "run", "ig-launch-openai", "--json")
        assert code == 0, screen
        assert json.loads(out)["status"] == "succeeded"  # stdout stays one JSON document
        assert (
            f"ig-launch-openai: calling openai/gpt-4o-mini at {server.url}, attempt 1/4" in screen
        ), screen
        assert " 1 s" in screen  # the seconds count up while the call is in flight
        piped = subprocess.run(
            [sys.executable, "-m", "sigilctl", "run", "ig-launch-openai", "--force"],
            cwd=workspace,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert piped.returncode == 0, piped.stderr
        assert "calling" not in piped.stderr and piped.stderr == ""


def test_a_terminal_sees_a_retry_coming(workspace: Path) -> None:
    with serve() as server:
        server.push(Reply(status=429, body={"error": {"message": "slow down"}},
                          headers={"retry-after": "1"}))  # fmt: skip
        env = {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": server.url, "COLUMNS": "200"}
        code, _, screen = pty_run(workspace, env, "run", "ig-launch-openai")
        assert code == 0, screen
        assert "attempt 1/4 failed (HTTP 429); retrying in 1 s" in screen, screen


def test_data_stays_on_stdout_while_a_terminal_shows_the_spinner(workspace: Path) -> None:
    code, out, screen = pty_run(workspace, {}, "run", "ig-test-001", "email-test-001", "-j", "2")
    assert code == 0, screen
    lines = out.splitlines()
    assert len(lines) == 3 and lines[-1] == "2 job(s): 2 succeeded"
    assert "job(s)" not in screen and "ig-test-001" not in screen
