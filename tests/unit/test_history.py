"""Execution history, the run decision, the lock, repair and gc, called directly."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from sigilctl.cli.run import DEFAULT_LOCK_TIMEOUT_S as CLI_LOCK_TIMEOUT
from sigilctl.decision import Action, Arrival, CurrentRun, Placement, decide
from sigilctl.errors import InputError
from sigilctl.gc import GcRequest, gc
from sigilctl.history import (
    execution_id_of,
    execution_time,
    executions_seen,
    list_executions,
    new_execution_id,
)
from sigilctl.run_lock import DEFAULT_LOCK_TIMEOUT_S, LockTimeout, LockWait, hold
from sigilctl.runner import RunChangedError, RunOptions, prepare, run_job
from sigilctl.store import RunStore
from sigilctl.workspace import Workspace

JOB = "ig-test-001"


# --- execution ids -------------------------------------------------------------------------


def test_execution_ids_name_their_start_and_sort_by_it() -> None:
    first = new_execution_id("2026-11-26T10:15:00.123Z")
    assert (
        first.startswith("20261126T101500.123Z-") and len(first) == len("20261126T101500.123Z-") + 8
    )
    later = new_execution_id("2026-11-26T10:15:00.124Z")
    assert first < later
    assert execution_time(first) == datetime(2026, 11, 26, 10, 15, 0, 123000, tzinfo=UTC)
    assert execution_time("not-an-execution") is None
    other_zone = new_execution_id("2026-11-26T11:15:00.123+01:00")
    assert other_zone[:20] == first[:20]  # always UTC


def test_an_old_manifest_gets_a_stable_derived_id(tmp_path: Path) -> None:
    data = b'{"started_at": "2025-01-02T03:04:05.678Z", "status": "succeeded"}'
    (tmp_path / "manifest.json").write_bytes(data)
    derived = execution_id_of(tmp_path)
    assert derived == "20250102T030405.678Z-" + __import__("hashlib").sha256(data).hexdigest()[:8]
    assert execution_id_of(tmp_path) == derived
    (tmp_path / "manifest.json").write_bytes(b"garbage")  # a damaged copy still gets an id
    assert execution_time(execution_id_of(tmp_path)) is not None


# --- the decision --------------------------------------------------------------------------

HERE = Path("/a/job/run")
SUCCEEDED = CurrentRun(HERE, exists=True, status="succeeded")
FAILED = CurrentRun(HERE, exists=True, status="failed")
DAMAGED = CurrentRun(HERE, exists=True, status="succeeded", problems=("artifact_hash_mismatch",))
NONE = CurrentRun(HERE, exists=False)
ARRIVED = [Arrival("20261126T101500.123Z-00000000", HERE, "failed")]


@pytest.mark.parametrize(
    ("current", "arrived", "force", "action", "placement"),
    [
        (SUCCEEDED, [], False, Action.REUSE, None),
        (SUCCEEDED, ARRIVED, False, Action.REUSE, None),
        (SUCCEEDED, [], True, Action.EXECUTE, Placement.REPLACE_IF_SUCCEEDED),
        (SUCCEEDED, ARRIVED, True, Action.REPORT, None),
        (FAILED, [], False, Action.EXECUTE, Placement.REPLACE),
        (FAILED, ARRIVED, False, Action.REPORT, None),
        (DAMAGED, [], False, Action.REFUSE, None),
        (DAMAGED, [], True, Action.EXECUTE, Placement.REPLACE),
        (NONE, [], False, Action.EXECUTE, Placement.FIRST),
        (NONE, ARRIVED, False, Action.REPORT, None),
    ],
)
def test_decide(
    current: CurrentRun,
    arrived: list[Arrival],
    force: bool,
    action: Action,
    placement: Placement | None,
) -> None:
    decision = decide(current, arrived, force=force)
    assert (decision.action, decision.placement) == (action, placement)


# --- the lock ------------------------------------------------------------------------------


def test_a_waiter_names_the_holder_periodically_then_gives_up(tmp_path: Path) -> None:
    path = tmp_path / "run.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, orjson.dumps({"pid": 4242, "host": "box", "since": "2026-11-26T10:00:00.000Z"}))
    seen: list[LockWait] = []
    try:
        with (
            pytest.raises(LockTimeout, match=r"held by pid 4242 on host box since 2026-11-26"),
            hold(path, run_id="r1", timeout=0.6, on_wait=seen.append, report_every=0.15),
        ):
            raise AssertionError("the lock was taken while held")
    finally:
        os.close(fd)
    assert len(seen) >= 3
    assert [w.first for w in seen] == [True] + [False] * (len(seen) - 1)
    assert seen[0].holder.describe() == "pid 4242 on host box since 2026-11-26T10:00:00.000Z"
    assert seen[-1].waited_s > seen[0].waited_s


def test_the_holder_writes_who_it_is_and_clears_it(tmp_path: Path) -> None:
    path = tmp_path / "run.lock"
    with hold(path, run_id="r1"):
        note = json.loads(path.read_text())
        assert note["pid"] == os.getpid() and note["host"] and note["since"]
    assert path.read_text() == ""
    with hold(path, run_id="r1", timeout=0):  # free again: no wait at all
        pass


def test_the_cli_default_lock_timeout_is_the_core_one() -> None:
    assert CLI_LOCK_TIMEOUT == DEFAULT_LOCK_TIMEOUT_S


# --- runs, repair and gc on a real workspace -----------------------------------------------


def ws(workspace: Path) -> Workspace:
    return Workspace(workspace, workspace / "artifacts")


def test_params_merge_over_the_brief_and_change_the_run_id(workspace: Path) -> None:
    plain = prepare(JOB, ws(workspace))
    merged = prepare(JOB, ws(workspace), RunOptions(params={"count": 2}))
    assert merged.run_id != plain.run_id
    brief = json.loads(merged.identity.snapshots["brief"])
    assert brief["params"]["count"] == 2 and brief["params"]["topic"]  # topic kept
    with pytest.raises(InputError, match=r"params\.count"):
        prepare(JOB, ws(workspace), RunOptions(params={"count": 0}))
    assert not (workspace / "artifacts" / JOB).exists()  # prepare writes nothing


def test_a_queued_run_whose_job_changed_runs_nothing(workspace: Path) -> None:
    expected = prepare(JOB, ws(workspace)).run_id
    brief = workspace / "jobs" / JOB / "brief.yaml"
    brief.write_text(brief.read_text().replace("count: 3", "count: 2"))
    with pytest.raises(RunChangedError, match=f"not {expected} as when it was queued"):
        run_job(JOB, ws(workspace), RunOptions(expected_run_id=expected))
    assert not (workspace / "artifacts" / JOB).exists()


def test_the_queue_job_id_is_recorded(workspace: Path) -> None:
    outcome = run_job(JOB, ws(workspace), RunOptions(queue_job_id="task-17"))
    assert json.loads((outcome.run_dir / "manifest.json").read_text())["queue_job_id"] == "task-17"


def two_executions(workspace: Path) -> tuple[Path, Path]:
    """A current run and a copy of it renamed as a second, newer execution (in a build dir)."""
    first = run_job(JOB, ws(workspace))
    newer = run_job(JOB, ws(workspace), RunOptions(force=True))
    assert newer.run_dir == first.run_dir
    (old,) = (first.run_dir.parent / ".history" / first.run_id).iterdir()
    return first.run_dir, old


def test_repair_rolls_a_swapped_in_execution_forward(workspace: Path) -> None:
    current, old = two_executions(workspace)
    store = RunStore(workspace / "artifacts")
    new_id = execution_id_of(current)
    # A crash after "build → .swap-" and before the exchange: the new one waits under its name.
    swap = current.parent / f".swap-{current.name}-{new_id}"
    current.rename(swap)
    old.rename(current)
    assert store.repair(JOB, held_run_id=current.name) == [current]
    assert execution_id_of(current) == new_id
    assert {p.name for p in executions_seen(current.parent, current.name).values()} == {
        current.name,
        old.name,
    }
    # A crash after the exchange: the swap name holds the old execution; it goes to history.
    old_in_history = current.parent / ".history" / current.name / old.name
    old_in_history.rename(current.parent / f".swap-{current.name}-{new_id}")
    store.repair(JOB, held_run_id=current.name)
    assert old_in_history.is_dir() and execution_id_of(current) == new_id
    # The fallback cut between its two renames: no current, the new one under its swap name.
    current.rename(swap)
    store.repair(JOB, held_run_id=current.name)
    assert execution_id_of(current) == new_id
    assert [p.name for p in current.parent.iterdir() if p.name.startswith(".swap-")] == []


def test_repair_removes_unpublished_builds_only_under_their_lock(workspace: Path) -> None:
    current, _old = two_executions(workspace)
    store = RunStore(workspace / "artifacts")
    build = current.parent / f".tmp-{current.name}-999-deadbeef"
    shutil.copytree(current, build)
    with store.lock(JOB, current.name):
        assert store.repair(JOB) == []  # held by someone: left alone
        assert build.is_dir()
    store.repair(JOB)
    assert not build.exists()


def test_gc_deletes_only_what_its_flags_name(workspace: Path) -> None:
    current, _ = two_executions(workspace)
    for _ in range(2):
        run_job(JOB, ws(workspace), RunOptions(force=True))
    listed = list_executions(current.parent, current.name)
    assert [e.current for e in listed] == [False, False, False, True]
    with pytest.raises(InputError, match="--keep N and/or --older-than DAYS"):
        gc(ws(workspace), GcRequest())
    dry = gc(ws(workspace), GcRequest(keep=1, dry_run=True))
    assert len(dry.deleted) == 2 and dry.kept == 1
    assert len(list_executions(current.parent, current.name)) == 4
    now = datetime.now(UTC)
    assert gc(ws(workspace), GcRequest(older_than_days=1, keep=0), now=now).deleted == []
    later = now + timedelta(days=2)
    done = gc(ws(workspace), GcRequest(keep=1, older_than_days=1), now=later)
    assert [e.execution_id for e in done.deleted] == [e.execution_id for e in listed[:2]]
    assert done.bytes > 0
    left = list_executions(current.parent, current.name)
    assert [e.execution_id for e in left] == [e.execution_id for e in listed[2:]]
    gc(ws(workspace), GcRequest(keep=0))
    (only,) = list_executions(current.parent, current.name)
    assert only.current and (current / "manifest.json").is_file()  # never the current run
    leftovers = [p for p in current.parent.rglob("*") if p.name.startswith(".trash-")]
    assert leftovers == []


def test_the_trace_flush_happens_after_the_lock_is_released(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Waiters of the same run_id never wait for Langfuse: the lock is free while flushing."""
    from sigilctl.observability import RunObservability
    from sigilctl.run_lock import try_hold

    free_while_flushing: list[bool] = []

    def deliver(self: RunObservability) -> None:
        (lock,) = (workspace / "artifacts" / JOB / ".locks").iterdir()
        fd = try_hold(lock)
        free_while_flushing.append(fd is not None)
        if fd is not None:
            os.close(fd)

    monkeypatch.setattr(RunObservability, "deliver", deliver)
    run_job(JOB, ws(workspace))
    assert free_while_flushing == [True]
