"""``sigilctl run``: the run sequence of SPEC §5 as named stages.

1. ``prepare`` — load, resolve, check the provider, freeze snapshots, inputs_hash, run_id (no
   lock, no trace, no write);
2. under the run_id's lock: ``repair`` what a crashed run left, ``decide`` (reuse, report,
   refuse or execute), ``execute`` (build folder, snapshots, trace, model call, outputs,
   manifest), ``publish`` (current or history, never destroying an execution), record it in
   the index;
3. after the lock is released: the bounded trace flush, so waiters never wait for Langfuse.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sigilctl.decision import Action, Decision, Placement, arrivals, decide, inspect_current
from sigilctl.errors import DamagedRunError, RunChangedError
from sigilctl.execution import Execution, execute
from sigilctl.history import executions_seen, summarize
from sigilctl.index import record_run
from sigilctl.prepare import Prepared, RunOptions, prepare
from sigilctl.run_lock import Fence, LockTimeout, LockWait, OnWait, RunLock
from sigilctl.store import RunStore
from sigilctl.workspace import Workspace

__all__ = [
    "DamagedRunError",
    "Fence",
    "LockTimeout",
    "LockWait",
    "Prepared",
    "RunChangedError",
    "RunLock",
    "RunOptions",
    "RunOutcome",
    "prepare",
    "run_job",
]

MAX_PROBLEMS_NAMED = 3


@dataclass
class RunOutcome:
    """What one ``run`` did, for the CLI, the API and the smoke suite."""

    job_id: str
    run_id: str
    inputs_hash: str
    status: str
    cached: bool
    run_dir: Path
    langfuse_trace_id: str | None = None
    error: str | None = None
    trace_warning: str | None = None
    events: list[str] = field(default_factory=list)
    execution_id: str | None = None
    # False when the execution reported lives in history (a forced run that failed while the
    # succeeded run stayed current).
    current: bool = True
    # Why nothing was executed, when another process's execution is reported.
    note: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "run_id": self.run_id,
            "inputs_hash": self.inputs_hash,
            "status": self.status,
            "cached": self.cached,
            "run_dir": str(self.run_dir),
            "langfuse_trace_id": self.langfuse_trace_id,
            "error": self.error,
            "execution_id": self.execution_id,
            "current": self.current,
        }


def run_job(
    job_ref: str,
    workspace: Workspace,
    options: RunOptions | None = None,
    *,
    on_lock_wait: OnWait | None = None,
) -> RunOutcome:
    """Run one job end to end and return what happened (never raises for a failed LLM call)."""
    options = options or RunOptions()
    prepared = prepare(job_ref, workspace, options)
    _check_expected(prepared, options)
    store = RunStore(workspace.artifacts)
    job_dir = store.job_dir(prepared.job_id)
    final = store.run_dir(prepared.job_id, prepared.run_id)
    before = executions_seen(job_dir, prepared.run_id)
    extra_lock = (
        options.run_lock(prepared.job_id, prepared.run_id)
        if options.run_lock is not None
        else contextlib.nullcontext(_no_fence)
    )
    with (
        extra_lock as fence,
        store.lock(
            prepared.job_id, prepared.run_id, timeout=options.lock_timeout, on_wait=on_lock_wait
        ),
    ):
        repaired = store.repair(prepared.job_id, held_run_id=prepared.run_id)
        if repaired:  # what a crashed run left, put right: the index hears of it
            record_run(workspace.artifacts, *repaired, configured=workspace.index)
        decision = decide(
            inspect_current(final),
            arrivals(before, job_dir, prepared.run_id),
            force=options.force,
        )
        if decision.action is Action.REFUSE:
            raise DamagedRunError(_damaged_message(prepared, decision))
        if decision.action is not Action.EXECUTE:
            if decision.action is Action.REUSE:
                _log_cache_hit(store, decision)
            return _reported(prepared, decision)
        assert decision.placement is not None
        execution = execute(prepared, store, options)
        where = publish(store, execution, final, decision.placement, fence)
        record_run(workspace.artifacts, final, configured=workspace.index)
    warning = execution.observability.deliver()  # bounded; the lock is released already
    manifest = execution.manifest
    return RunOutcome(
        job_id=prepared.job_id,
        run_id=prepared.run_id,
        inputs_hash=prepared.inputs_hash,
        status=manifest.status,
        cached=False,
        run_dir=where,
        langfuse_trace_id=manifest.langfuse_trace_id,
        error=manifest.error,
        trace_warning=warning,
        events=prepared.job.steps.events,
        execution_id=execution.execution_id,
        current=where == final,
    )


def publish(
    store: RunStore,
    execution: Execution,
    final: Path,
    placement: Placement,
    fence: Fence | None = None,
) -> Path:
    """Make the execution evidence: current, or history when it must not replace a succeeded
    run. Returns where it lives. A failure removes the build and raises StorageError; a lost
    cross-machine lease (``fence`` raises) removes it too and publishes nothing."""
    staging = execution.staging
    try:
        if fence is not None:
            fence()
        if placement is Placement.FIRST:
            store.publish(staging, final)
            return final
        if placement is Placement.REPLACE or execution.succeeded:
            store.publish_replacing(staging, final, execution.execution_id)
            return final
        return store.publish_to_history(staging, final, execution.execution_id)
    finally:
        if staging.exists():
            store.discard(staging)


def _no_fence() -> None:
    return None


def _check_expected(prepared: Prepared, options: RunOptions) -> None:
    expected = options.expected_run_id
    if expected is not None and expected != prepared.run_id:
        raise RunChangedError(
            f"job '{prepared.job_id}' now derives run_id {prepared.run_id}, not {expected} as "
            "when it was queued: its inputs changed since, so nothing was run"
        )


def _log_cache_hit(store: RunStore, decision: Decision) -> None:
    """What ``stats`` says the cache saved: one line per hit (never fails the run)."""
    from sigilctl.cache_log import record_cache_hit
    from sigilctl.manifest import read_manifest

    assert decision.run_dir is not None
    record_cache_hit(store.artifacts, read_manifest(decision.run_dir))


def _reported(prepared: Prepared, decision: Decision) -> RunOutcome:
    """A cache hit, or another process's execution of this run_id (no model call here)."""
    assert decision.run_dir is not None
    summary = summarize(decision.run_dir, current=decision.run_dir.name == prepared.run_id)
    status = summary.status or "failed"
    return RunOutcome(
        job_id=prepared.job_id,
        run_id=prepared.run_id,
        inputs_hash=prepared.inputs_hash,
        status=status,
        cached=status == "succeeded",
        run_dir=decision.run_dir,
        langfuse_trace_id=summary.trace_id,
        error=summary.error,
        events=prepared.job.steps.events,
        execution_id=summary.execution_id,
        current=summary.current,
        note=decision.reason if decision.action is Action.REPORT else None,
    )


def _damaged_message(prepared: Prepared, decision: Decision) -> str:
    problems = decision.problems
    named = "; ".join(problems[:MAX_PROBLEMS_NAMED])
    extra = len(problems) - MAX_PROBLEMS_NAMED
    more = f"; and {extra} more" if extra > 0 else ""
    return (
        f"run {prepared.run_id} of job '{prepared.job_id}' at {decision.run_dir} fails "
        f"verification ({named}{more}), so it was not re-executed: inspect it with "
        f"'sigilctl verify {decision.run_dir}', or re-execute it with 'sigilctl run "
        f"{prepared.job_id} --force' (the damaged copy is kept in history)"
    )
