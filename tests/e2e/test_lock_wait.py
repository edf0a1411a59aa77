"""Waiting for the run lock: failed runs execute once, and a stopped holder is named and bounded.

Real ``sigilctl run`` processes against the OpenAI-compatible test server, which holds its
reply until the test lets it go, so every process is provably waiting on the lock first.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import ENV_PREFIXES, run_subprocess
from tests.openai_server import FakeOpenAI, Reply, captions, completion, serve

JOB = "ig-launch-openai"
PARALLEL = 16
GARBAGE = "<html>bad gateway</html>"  # a 200 that is not a chat completion: failed, not retried


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with serve() as fake:
        yield fake


def values(server: FakeOpenAI) -> dict[str, str]:
    return {
        "OPENAI_BASE_URL": server.url,
        "OPENAI_API_KEY": "sk-test-" + "3d" * 20,
        "SIGILCTL_OPENAI_TIMEOUT": "60",
        "SIGILCTL_OPENAI_MAX_RETRIES": "0",
    }


def start(workspace: Path, env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIXES)}
    full.update(env)
    with log.open("w") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "sigilctl", "run", JOB, "--json", *args],
            cwd=workspace,
            env=full,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )


def wait_until(condition: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_concurrent_runs_of_a_failing_job_call_the_model_once(
    workspace: Path, server: FakeOpenAI, tmp_path: Path
) -> None:
    gate = threading.Event()
    server.default = Reply(body=GARBAGE, gate=gate)
    logs = [tmp_path / f"stderr-{i}.log" for i in range(PARALLEL)]
    procs = [start(workspace, values(server), log) for log in logs]
    try:
        wait_until(
            lambda: (
                server.requests
                and sum("is locked by" in log.read_text() for log in logs) == PARALLEL - 1
            ),
            90,
            "one model call and every other process waiting on the lock",
        )
    finally:
        gate.set()
    outcomes = []
    for proc, log in zip(procs, logs, strict=True):
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 1, log.read_text()
        assert "Traceback" not in log.read_text()
        outcomes.append(json.loads(out))
    assert len(server.requests) == 1  # one paid call for sixteen runs
    assert {o["status"] for o in outcomes} == {"failed"}
    assert {o["cached"] for o in outcomes} == {False}
    assert len({(o["run_id"], o["execution_id"], o["error"], o["run_dir"]) for o in outcomes}) == 1
    reported = sum("executed this run while this one waited" in log.read_text() for log in logs)
    assert reported == PARALLEL - 1
    # A later, separate run retries: one more call; the failed attempt moves to history.
    server.default = Reply(body=completion(captions(4)))
    later = run_subprocess("run", JOB, "--json", cwd=workspace, env=values(server))
    assert later.code == 0, later.stderr
    assert len(server.requests) == 2
    history = workspace / "artifacts" / JOB / ".history" / outcomes[0]["run_id"]
    assert [p.name for p in history.iterdir()] == [outcomes[0]["execution_id"]]


def test_a_stopped_lock_holder_is_named_and_the_wait_is_bounded(
    workspace: Path, server: FakeOpenAI, tmp_path: Path
) -> None:
    gate = threading.Event()
    server.default = Reply(body=completion(captions(4)), gate=gate)
    holder = start(workspace, values(server), tmp_path / "holder.log")
    try:
        assert server.arrived.wait(60), "the holder never called the model"
        holder.send_signal(signal.SIGSTOP)  # a stopped holder keeps its flock
        started = time.monotonic()
        waiter = run_subprocess(
            "run", JOB, "--lock-timeout", "1.5", cwd=workspace, env=values(server)
        )
        elapsed = time.monotonic() - started
        assert waiter.code == 1, waiter.stderr
        assert waiter.stdout == ""
        lines = waiter.stderr.splitlines()
        assert lines[0].startswith("run ") and f"is locked by pid {holder.pid} on host " in lines[0]
        assert "giving up after 1.5 s" in lines[0]
        assert re.match(r"sigilctl: error: gave up after waiting \d+ s for run ", lines[-1])
        assert f"held by pid {holder.pid}" in lines[-1] and "--lock-timeout 1.5" in lines[-1]
        assert "Traceback" not in waiter.stderr
        assert elapsed < 30
        assert len(server.requests) == 1
    finally:
        holder.send_signal(signal.SIGCONT)
        gate.set()
    out, _ = holder.communicate(timeout=60)
    assert holder.returncode == 0
    assert json.loads(out)["status"] == "succeeded"
