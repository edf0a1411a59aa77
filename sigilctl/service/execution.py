"""The one place the service calls the runner: derive a promise, then keep it.

``derive`` is SPEC §5 steps 1–6 plus the cache check (no tracing, no writes), so the API can
answer with the run_id before anything is queued. ``execute_task`` runs a queued task through
``run_job`` with the promised run_id, the task id, and an optional cross-machine lock, and
records how it ended. A redelivered task whose run this very task already published is
recognised from the manifest and not executed again.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sigilctl import env
from sigilctl.decision import inspect_current
from sigilctl.errors import InputError, LeaseLostError, SigilError
from sigilctl.logs import get_logger
from sigilctl.manifest import MANIFEST_NAME, Manifest, read_manifest
from sigilctl.prepare import identify
from sigilctl.runner import RunLock, RunOptions, run_job
from sigilctl.service.promises import Derived, PromiseCache
from sigilctl.service.tasks import TaskRecord, TaskRequest, TaskStore
from sigilctl.store import RunStore
from sigilctl.workspace import BRIEF_NAME, Workspace, check_job_id

log = get_logger("service")


class UnknownJobError(InputError):
    """No brief for this job id under jobs/."""


@dataclass(frozen=True)
class Promise:
    """The identity a request derives, and whether a current succeeded run already has it."""

    job_id: str
    run_id: str
    inputs_hash: str
    cached: bool


def derive(
    workspace: Workspace,
    job_id: str,
    params: Mapping[str, Any] | None,
    memo: PromiseCache | None = None,
) -> Promise:
    """Steps 1–6 and the cache check; raises UnknownJobError or InputError (bad brief/params).

    With ``memo``, an unchanged job is not resolved again (sigilctl/service/promises.py)."""
    check_job_id(job_id, source="job_id")
    brief = workspace.jobs / job_id / BRIEF_NAME
    if not brief.is_file():
        raise UnknownJobError(f"no job '{job_id}' under {workspace.jobs}")
    derived = memo.lookup(job_id, params) if memo else None
    if derived is None:
        identified = identify(job_id, workspace, RunOptions(params=params))
        derived = Derived(identified.run_id, identified.inputs_hash)
        if memo:
            snapshots = identified.job.snapshots
            memo.remember(workspace, job_id, params, brief.resolve(), snapshots, derived)
    run_dir = RunStore(workspace.artifacts).run_dir(job_id, derived.run_id)
    cached = inspect_current(run_dir).verified_success
    return Promise(job_id, derived.run_id, derived.inputs_hash, cached)


def log_cache_hit(workspace: Workspace, promise: Promise) -> None:
    """A promise answered from a current succeeded run is a cache hit: logged, like one of
    ``sigilctl run``, so ``stats`` can say what the cache saved (never fails the answer)."""
    from sigilctl.cache_log import record_cache_hit

    run_dir = RunStore(workspace.artifacts).run_dir(promise.job_id, promise.run_id)
    try:
        manifest = read_manifest(run_dir)
    except SigilError as exc:
        log.warning("the cache hit of %s was not logged (%s)", promise.run_id, exc)
        return
    record_cache_hit(workspace.artifacts, manifest)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _published_by(workspace: Workspace, record: TaskRecord) -> Manifest | None:
    """The run's manifest if this very task published it (an earlier delivery of it)."""
    run_dir = RunStore(workspace.artifacts).run_dir(record.job_id, record.run_id)
    if not (run_dir / MANIFEST_NAME).is_file():
        return None
    try:
        manifest = read_manifest(run_dir)
    except InputError:
        return None
    return manifest if manifest.queue_job_id == record.queue_job_id else None


def execute_task(
    workspace: Workspace,
    store: TaskStore,
    queue_job_id: str,
    request: TaskRequest,
    *,
    run_lock: RunLock | None = None,
) -> TaskRecord | None:
    """Run one delivery of a task and record its end. Raises LeaseLostError to hand it back."""
    record = store.get(queue_job_id)
    if record is None:  # its record expired or was never written: start one from the message
        record = TaskRecord(
            queue_job_id=queue_job_id,
            job_id=request.job_id,
            run_id=request.expected_run_id,
            inputs_hash=request.inputs_hash,
            params=request.params,
            force=request.force,
        )
        store.create(record)
    if record.final:
        log.info("task %s already ended %s; not running it again", queue_job_id, record.status)
        return record
    store.mark_running(queue_job_id, worker_name())
    done = _published_by(workspace, record)
    if done is not None:
        store.finish(queue_job_id, done.status, cached=False, error=done.error)
        return store.get(queue_job_id)
    options = RunOptions(
        force=request.force,
        params=request.params or None,
        expected_run_id=request.expected_run_id,
        queue_job_id=queue_job_id,
        run_lock=run_lock,
    )
    try:
        outcome = run_job(request.job_id, workspace, options)
    except LeaseLostError:
        raise
    except SigilError as exc:
        store.finish(queue_job_id, "failed", cached=None, error=env.scrub(str(exc)))
        return store.get(queue_job_id)
    except Exception as exc:  # noqa: BLE001 - a task always ends with a recorded state
        message = env.scrub(f"unexpected {type(exc).__name__}: {exc}")
        log.warning("task %s failed: %s", queue_job_id, message)
        store.finish(queue_job_id, "failed", cached=None, error=message)
        return store.get(queue_job_id)
    cached = outcome.cached and _published_by(workspace, record) is None
    store.finish(queue_job_id, outcome.status, cached=cached, error=outcome.error)
    return store.get(queue_job_id)
