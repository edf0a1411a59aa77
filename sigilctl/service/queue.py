"""Which queue this deployment uses: the embedded one, or Celery when a broker is named."""

from __future__ import annotations

from typing import Protocol

from sigilctl.service.settings import ServiceSettings
from sigilctl.service.tasks import TaskRecord, TaskStore
from sigilctl.workspace import Workspace


class QueueUnavailableError(Exception):
    """The broker cannot be reached: the API answers 503, ``submit`` exits 1."""


class Queue(Protocol):
    kind: str

    @property
    def store(self) -> TaskStore: ...

    def start(self) -> None: ...

    def enqueue(self, record: TaskRecord) -> None: ...

    def problem(self) -> str | None: ...

    def depth(self) -> int: ...

    def stop(self, grace: float) -> None: ...


def open_queue(settings: ServiceSettings, workspace: Workspace, local_workers: int) -> Queue:
    if settings.broker_url:
        from sigilctl.service.celery_queue import CeleryQueue

        return CeleryQueue(settings)
    from sigilctl.service.local_queue import LocalQueue

    return LocalQueue(workspace, local_workers)
