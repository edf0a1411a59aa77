"""``sigilctl submit``: derive the identity here, then queue straight to the broker (no API).

The same promise as ``POST /jobs/run``: a current succeeded run is reported as cached without
queueing; otherwise a task is queued with the promised run_id, and ``--wait`` follows it to its
end.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from sigilctl.errors import InputError, SigilError
from sigilctl.manifest import utc_now
from sigilctl.service.tasks import TaskRecord, new_task_id
from sigilctl.workspace import Workspace, brief_path_for

POLL_S = 0.2


@dataclass(frozen=True)
class Submitted:
    job_id: str
    run_id: str
    inputs_hash: str
    status: str
    cached: bool
    queue_job_id: str | None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "run_id": self.run_id,
            "inputs_hash": self.inputs_hash,
            "status": self.status,
            "cached": self.cached,
            "queue_job_id": self.queue_job_id,
            "error": self.error,
        }


def parse_params(pairs: Sequence[str]) -> dict[str, Any]:
    """``K=V`` pairs; V is read as JSON when it is JSON (``count=2`` is the number 2,
    ``flag=true`` a boolean), else as a string (``topic=launch day``)."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError(f"--param '{pair}' must be KEY=VALUE")
        try:
            value: Any = orjson.loads(raw)
        except orjson.JSONDecodeError:
            value = raw
        params[key] = value
    return params


def _job_id(job_ref: str, workspace: Workspace) -> str:
    brief = brief_path_for(job_ref, workspace)
    if brief.parent.parent != workspace.jobs.resolve():
        raise InputError(f"{brief} is not a job of the workspace {workspace.root} (under jobs/)")
    return brief.parent.name


def submit(
    workspace: Workspace,
    job_ref: str,
    params: dict[str, Any],
    *,
    force: bool = False,
    wait: bool = False,
    timeout: float = 3600.0,
    on_state: Callable[[str], None] | None = None,
) -> Submitted:
    from sigilctl.service.execution import derive, log_cache_hit
    from sigilctl.service.queue import QueueUnavailableError, open_queue
    from sigilctl.service.settings import ServiceSettings

    settings = ServiceSettings.from_env()
    if not settings.broker_url:
        raise InputError(
            "sigilctl submit needs SIGILCTL_BROKER_URL (the queue the workers read); "
            "without a broker use 'sigilctl run' or POST /jobs/run to a running 'serve'"
        )
    promise = derive(workspace, _job_id(job_ref, workspace), params or None)
    if promise.cached and not force:
        log_cache_hit(workspace, promise)
        return Submitted(
            promise.job_id, promise.run_id, promise.inputs_hash, "succeeded", True, None
        )
    queue = open_queue(settings, workspace, 0)
    record = TaskRecord(
        queue_job_id=new_task_id(),
        job_id=promise.job_id,
        run_id=promise.run_id,
        inputs_hash=promise.inputs_hash,
        params=params,
        force=force,
        enqueued_at=utc_now(),
    )
    try:
        queue.enqueue(record)
        if wait:
            record = _follow(queue.store.get, record, timeout, on_state)
    except QueueUnavailableError as exc:
        raise SigilError(str(exc)) from None
    finally:
        queue.stop(0)
    return Submitted(
        record.job_id,
        record.run_id,
        record.inputs_hash,
        record.status,
        bool(record.cached),
        record.queue_job_id,
        record.error,
    )


def _follow(
    get: Callable[[str], TaskRecord | None],
    record: TaskRecord,
    timeout: float,
    on_state: Callable[[str], None] | None,
) -> TaskRecord:
    from redis.exceptions import RedisError

    from sigilctl.service.queue import QueueUnavailableError

    deadline = time.monotonic() + timeout
    seen = record.status
    while time.monotonic() < deadline:
        try:
            current = get(record.queue_job_id)
        except (RedisError, OSError) as exc:
            message = f"lost the queue while waiting ({type(exc).__name__})"
            raise QueueUnavailableError(message) from None
        if current is not None:
            record = current
            if record.status != seen and on_state:
                on_state(record.status)
            seen = record.status
            if record.final:
                return record
        time.sleep(POLL_S)
    raise SigilError(
        f"task {record.queue_job_id} is still {record.status} after {timeout:g} s; "
        f"follow it with GET /jobs/{record.queue_job_id}"
    )
