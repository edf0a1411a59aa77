"""No trace is lost (SPEC §9): what Langfuse does not accept within the bound is spooled, and
``traces flush`` re-sends it whole; a SIGKILL at any point of a flush loses nothing; the run
never waits beyond the bound (child processes, so interpreter exit is measured too)."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sigilctl.observability.otlp import decode_spans
from sigilctl.observability.spool import TraceSpool
from sigilctl.smoke.receiver import OtlpReceiver, closed_port_url
from tests.faults import CHILD, wrap
from tests.helpers import LANGFUSE_TEST_SECRET as SECRET
from tests.helpers import Result, langfuse_env, run_python, run_subprocess

JOB = "ig-test-001"


def point_at(monkeypatch: pytest.MonkeyPatch, url: str, bound_s: float = 0.5) -> None:
    for name, value in langfuse_env(url, bound_s).items():
        monkeypatch.setenv(name, value)


def spool_of(workspace: Path) -> TraceSpool:
    return TraceSpool(workspace / "artifacts" / ".sigilctl" / "trace-spool")


def spooled_span_ids(spool: TraceSpool) -> dict[str, list[str]]:
    """trace id → the span ids each spool entry holds."""
    return {
        e.trace_id: sorted(s.span_id for s in decode_spans(e.path.read_bytes(), None))
        for e in spool.entries()
    }


def received_span_ids(receiver: OtlpReceiver) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for span in receiver.spans:
        found.setdefault(span.trace_id, []).append(span.span_id)
    return {trace_id: sorted(ids) for trace_id, ids in found.items()}


def json_of(result: Result) -> Any:
    return json.loads(result.stdout)


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as rx:
        yield rx


def test_langfuse_down_then_up_every_trace_arrives_once_and_the_spool_empties(
    workspace: Path, cli: Any, monkeypatch: pytest.MonkeyPatch, receiver: OtlpReceiver
) -> None:
    bound = 0.5
    point_at(monkeypatch, closed_port_url(), bound)
    untraced = cli("run", JOB, "--force", "--no-trace")
    assert untraced.code == 0
    runs = []
    for _ in range(3):
        started = time.monotonic()
        result = cli("run", JOB, "--force", "--json")
        elapsed = time.monotonic() - started
        assert result.code == 0, result.stderr
        assert "spooled for 'sigilctl traces flush'" in result.stderr
        assert result.stderr.count("\n") == 1
        assert elapsed < bound + 2.0, elapsed  # generous: process noise on a shared machine
        runs.append(json_of(result))
    spool = spool_of(workspace)
    expected = spooled_span_ids(spool)
    assert set(expected) == {r["langfuse_trace_id"] for r in runs}
    status = json_of(cli("traces", "status", "--json"))
    assert set(status) == {"spooled_traces", "spooled_bytes", "oldest", "dropped"}
    assert (status["spooled_traces"], status["dropped"]) == (3, 0)
    assert status["spooled_bytes"] == sum(e.bytes for e in spool.entries())
    assert status["oldest"] == spool.entries()[0].spooled_at
    shown = json_of(cli("show", runs[-1]["run_id"], "--json"))
    assert shown["trace_spooled"] is True
    assert "spooled" in cli("show", runs[-1]["run_id"]).stdout

    monkeypatch.setenv("LANGFUSE_BASE_URL", receiver.base_url)  # Langfuse is back
    flushed = cli("traces", "flush", "--json")
    assert flushed.code == 0, flushed.stderr
    assert json_of(flushed) == {"sent": 3, "failed": 0, "remaining": 0}
    assert received_span_ids(receiver) == expected  # every span of every trace, exactly once
    for trace_id in expected:
        view = receiver.trace(trace_id)
        assert view is not None and view["name"] == "job:instagram_copy" and view["input"]
    assert json_of(cli("traces", "status", "--json"))["spooled_traces"] == 0
    assert json_of(cli("show", runs[-1]["run_id"], "--json"))["trace_spooled"] is False
    again = cli("traces", "flush")
    assert again.code == 0 and again.stdout.startswith("sent 0 trace(s)")


@pytest.mark.parametrize(
    ("mode", "cause"), [("error", "server error"), ("unauthorized", "keys rejected")]
)
def test_an_erroring_or_refusing_langfuse_spools_and_trace_health_names_why(
    workspace: Path, cli: Any, monkeypatch: pytest.MonkeyPatch, mode: str, cause: str
) -> None:
    with OtlpReceiver(mode) as failing:  # type: ignore[arg-type]
        point_at(monkeypatch, failing.base_url)
        result = cli("run", JOB, "--json")
        health = cli("trace-health", "--json")
        flushed = cli("traces", "flush", "--json")
    assert result.code == 0
    assert f"({cause} (HTTP " in result.stderr and "spooled" in result.stderr
    assert spool_of(workspace).find(json_of(result)["langfuse_trace_id"]) is not None
    report = json_of(health)
    assert health.code == 1
    assert (report["status"], report["cause"]) == ("unhealthy", cause)
    assert report["spool"]["spooled_traces"] == 1
    assert flushed.code == 1
    assert json_of(flushed) == {"sent": 0, "failed": 1, "remaining": 1}
    for text in (result.stderr, health.stdout, flushed.stdout, flushed.stderr):
        assert SECRET not in text


def test_a_trace_the_server_refuses_stays_spooled_and_the_others_still_go(
    workspace: Path, cli: Any, monkeypatch: pytest.MonkeyPatch, receiver: OtlpReceiver
) -> None:
    point_at(monkeypatch, closed_port_url())
    assert cli("run", JOB, "--json").code == 0
    spool = spool_of(workspace)
    garbage = spool.put("f" * 32, b"\xff\xfe not a protobuf request")
    assert garbage is not None
    monkeypatch.setenv("LANGFUSE_BASE_URL", receiver.base_url)
    flushed = cli("traces", "flush", "--json")
    assert flushed.code == 1
    assert json_of(flushed) == {"sent": 1, "failed": 1, "remaining": 1}
    assert [e.trace_id for e in spool.entries()] == ["f" * 32]  # kept: evidence is never lost


def test_flush_needs_langfuse_configured(workspace: Path, cli: Any) -> None:
    result = cli("traces", "flush")
    assert result.code == 2
    assert "Langfuse is not configured" in result.stderr and "LANGFUSE_PUBLIC_KEY" in result.stderr


def test_the_spool_can_move_and_is_capped_with_every_drop_counted(
    workspace: Path, tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "spool-elsewhere"
    point_at(monkeypatch, closed_port_url())
    monkeypatch.setenv("SIGILCTL_TRACE_SPOOL", str(elsewhere))
    first = cli("run", JOB, "--json")
    assert TraceSpool(elsewhere).find(json_of(first)["langfuse_trace_id"]) is not None
    assert not (workspace / "artifacts" / ".sigilctl" / "trace-spool").exists()
    monkeypatch.setenv("SIGILCTL_TRACE_SPOOL_MAX_MB", "0.00001")  # ~10 bytes: nothing fits
    capped = cli("run", JOB, "--force", "--json")
    assert capped.code == 0
    assert "the spool is full" in capped.stderr
    status = json_of(cli("traces", "status", "--json"))
    assert (status["spooled_traces"], status["dropped"]) == (0, 2)  # the older one went first


# --- crash safety: SIGKILL during a flush loses nothing ---------------------------------------

KILL_POINTS = {
    # after the server accepted the 2nd trace, before its spool file is deleted
    "accepted-not-deleted": ("sigilctl.observability.spool", "TraceSpool.remove", "before", 2),
    # while the 2nd trace is being sent
    "mid-send": ("sigilctl.observability.resend", "send_otlp", "before", 2),
    # right after the 1st spool file was deleted
    "after-delete": ("sigilctl.observability.spool", "TraceSpool.remove", "after", 1),
}


@pytest.mark.parametrize("point", sorted(KILL_POINTS))
def test_sigkill_during_flush_loses_no_trace(
    workspace: Path, cli: Any, monkeypatch: pytest.MonkeyPatch, receiver: OtlpReceiver, point: str
) -> None:
    point_at(monkeypatch, closed_port_url())
    for _ in range(3):
        assert cli("run", JOB, "--force").code == 0
    spool = spool_of(workspace)
    expected = spooled_span_ids(spool)
    assert len(expected) == 3
    module, attr, when, nth = KILL_POINTS[point]
    env = langfuse_env(receiver.base_url, 0.5)
    child = CHILD.format(inject=wrap(module, attr, when, nth))
    proc = run_python("-c", child, "traces", "flush", cwd=workspace, env=env)
    assert proc.code == -signal.SIGKILL, (proc.code, proc.stderr)
    survivors = set(spooled_span_ids(spool))
    delivered = set(received_span_ids(receiver))
    assert survivors | delivered == set(expected)  # every trace is somewhere, whole
    # the next flush finishes the job; a trace sent twice is the same trace (same ids)
    after = run_subprocess("traces", "flush", "--json", cwd=workspace, env=env)
    assert after.code == 0, after.stderr
    assert json.loads(after.stdout)["remaining"] == 0
    got: dict[str, set[str]] = {}
    for span in receiver.spans:
        got.setdefault(span.trace_id, set()).add(span.span_id)
    assert {t: sorted(ids) for t, ids in got.items()} == expected


def test_sigkill_while_a_run_spools_leaves_no_half_entry(workspace: Path) -> None:
    """Killed after the spool file is written, before it is renamed into place: no entry."""
    child = CHILD.format(inject=wrap("sigilctl.durable", "_rename_in", "before"))
    proc = run_python(
        "-c", child, "run", JOB, cwd=workspace, env=langfuse_env(closed_port_url(), 0.5)
    )
    assert proc.code == -signal.SIGKILL, proc.stderr
    folder = spool_of(workspace).directory
    [left] = folder.iterdir()  # killed at the right point: a whole temp file, no entry
    assert left.name.startswith(".") and ".otlp.tmp-" in left.name
    assert spool_of(workspace).entries() == []
    status = run_subprocess("traces", "status", "--json", cwd=workspace)
    assert status.code == 0 and json.loads(status.stdout)["spooled_traces"] == 0
    assert run_subprocess("verify", "--all", cwd=workspace).code == 0  # the run itself is whole


# --- the bound is the bound --------------------------------------------------------------------


def timed(workspace: Path, env: dict[str, str], *args: str) -> tuple[float, Result]:
    started = time.monotonic()
    result = run_subprocess("run", JOB, "--force", "--json", *args, cwd=workspace, env=env)
    return time.monotonic() - started, result


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["hang", "trickle"])
def test_a_hanging_or_trickling_langfuse_adds_at_most_the_bound(workspace: Path, mode: str) -> None:
    """Everything tracing adds — loading the SDK, building, sending, spooling — is inside the
    bound: wall time ≤ an untraced run + the bound + slack for process noise."""
    bound = 1.0
    timed(workspace, {}, "--no-trace")  # warm caches (bytecode, files)
    untraced = min(timed(workspace, {}, "--no-trace")[0] for _ in range(2))
    with OtlpReceiver(mode, hang_s=60 if mode == "hang" else 0.3) as slow:  # type: ignore[arg-type]
        wall, result = timed(workspace, langfuse_env(slow.base_url, bound))
        assert slow.requests, "the trace reached the slow server"
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "succeeded"
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and f"no answer within {bound:g} s" in lines[0]
    assert "spooled" in lines[0] and SECRET not in result.stderr
    slack = 1.0  # process noise on a busy 2-core machine; the stall it guards against is 60 s
    assert wall <= untraced + bound + slack, (wall, untraced)
    assert len(spool_of(workspace).entries()) == 1
