"""A queued task's record: what was asked, what identity was promised, and how it ended.

The enqueuer writes the record (``queued``) before the task can be delivered; the worker that
executes it moves it to ``running`` and then to the run's final status. ``GET /jobs/{id}`` and
``submit --wait`` read it. Two stores share this shape: SQLite beside the artifacts (the
embedded queue) and Redis (the Celery queue).
"""

from __future__ import annotations

import uuid
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from sigilctl.manifest import utc_now

TaskStatus = Literal["queued", "running", "succeeded", "failed", "partial"]
FINAL_STATUSES: frozenset[str] = frozenset({"succeeded", "failed", "partial"})


class TaskRequest(BaseModel):
    """What a worker needs to run a task: never a path, so any machine can execute it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    job_id: str
    params: dict[str, Any] = Field(default_factory=dict)
    force: bool = False
    expected_run_id: str
    inputs_hash: str


class TaskRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    queue_job_id: str
    job_id: str
    run_id: str
    inputs_hash: str
    params: dict[str, Any] = Field(default_factory=dict)
    force: bool = False
    status: TaskStatus = "queued"
    cached: bool | None = None
    error: str | None = None
    enqueued_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    worker: str | None = None
    attempts: int = 0

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES

    def request(self) -> TaskRequest:
        return TaskRequest(
            job_id=self.job_id,
            params=self.params,
            force=self.force,
            expected_run_id=self.run_id,
            inputs_hash=self.inputs_hash,
        )

    def state(self) -> dict[str, Any]:
        """What ``GET /jobs/{id}`` answers while there is no run to show."""
        document: dict[str, Any] = {
            "queue_job_id": self.queue_job_id,
            "job_id": self.job_id,
            "run_id": self.run_id,
            "status": self.status,
            "enqueued_at": self.enqueued_at,
            "started_at": self.started_at,
            "worker": self.worker,
            "attempts": self.attempts,
        }
        if self.error is not None:
            document["error"] = self.error
        return document


def new_task_id() -> str:
    """A Celery-style task id (a UUID4): never mistaken for a run_id, which has no dashes."""
    return str(uuid.uuid4())


class TaskStore(Protocol):
    def create(self, record: TaskRecord) -> None: ...

    def get(self, queue_job_id: str) -> TaskRecord | None: ...

    def latest_for_run(self, run_id: str) -> TaskRecord | None: ...

    def mark_running(self, queue_job_id: str, worker: str) -> TaskRecord | None: ...

    def finish(
        self, queue_job_id: str, status: str, *, cached: bool | None, error: str | None
    ) -> None: ...


class RecordedTasks:
    """What both task stores do the same way on top of ``get`` and ``_change`` (the embedded
    queue's SQLite file, the Celery deployment's Redis keys)."""

    def get(self, queue_job_id: str) -> TaskRecord | None:
        raise NotImplementedError

    def _change(self, queue_job_id: str, **fields: Any) -> TaskRecord | None:
        raise NotImplementedError

    def mark_running(self, queue_job_id: str, worker: str) -> TaskRecord | None:
        """The task is running on ``worker`` now (one more attempt, unless it already is)."""
        current = self.get(queue_job_id)
        if current is None:
            return None
        if current.status == "running" and current.worker == worker:
            return current  # claimed by this worker just now
        return self._change(
            queue_job_id,
            status="running",
            worker=worker,
            started_at=utc_now(),
            attempts=current.attempts + 1,
        )

    def finish(
        self, queue_job_id: str, status: str, *, cached: bool | None, error: str | None
    ) -> None:
        self._change(queue_job_id, status=status, cached=cached, error=error, finished_at=utc_now())
