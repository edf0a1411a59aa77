"""The Celery queue on Redis: its configuration, the task a worker runs, and the enqueuer.

Delivery is at least once; execution is made once by the run lock plus "a finished run is a cache
hit" (docs/service.md). The settings below make redelivery fast and harmless:
``task_acks_late`` (a task is acknowledged only when it ended), ``task_reject_on_worker_lost``
(a killed pool process re-queues its task at once), ``worker_prefetch_multiplier=1`` (no task
waits, unacknowledged, behind another), and a short visibility timeout (default 5 minutes, not
Redis's hour) that a running worker keeps renewing for its own message.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from sigilctl.service.queue import QueueUnavailableError
from sigilctl.service.redis_store import RedisTaskStore, connect
from sigilctl.service.settings import QUEUE_NAME, ServiceSettings, redact_url
from sigilctl.service.tasks import TaskRecord
from sigilctl.workspace import Workspace

if TYPE_CHECKING:
    import redis
    from celery import Celery, Task

TASK_NAME = "sigilctl.run"
PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")  # kombu's priority lists


def make_celery(settings: ServiceSettings) -> Celery:
    from celery import Celery

    assert settings.broker_url is not None
    app = Celery("sigilctl", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_default_queue=QUEUE_NAME,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        broker_transport_options={
            "visibility_timeout": settings.visibility_timeout,
            "global_keyprefix": settings.prefix,
            # Sweep for abandoned messages often enough for the timeout to mean what it says.
            "unacked_restore_interval": max(1, min(10, int(settings.visibility_timeout / 4))),
            "unacked_restore_throttle": 1,
            "socket_connect_timeout": 3,
        },
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=3,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.2},
        worker_enable_remote_control=False,
        worker_send_task_events=False,
        worker_redirect_stdouts=False,
    )
    app.task(name=TASK_NAME, bind=True)(run_task)
    return app


_workspace: list[Workspace] = []  # set by ``sigilctl worker`` before its pool forks


def set_worker_workspace(workspace: Workspace) -> None:
    _workspace[:] = [workspace]


@functools.cache
def _worker_client() -> tuple[ServiceSettings, redis.Redis]:
    settings = ServiceSettings.from_env()
    assert settings.broker_url is not None
    return settings, connect(settings.broker_url)


def run_task(
    task: Task[Any, Any],
    job_id: str,
    params: dict[str, Any],
    force: bool,
    expected_run_id: str,
    inputs_hash: str,
) -> str | None:
    """The Celery task: execute one queued run in this worker's own workspace."""
    from celery.exceptions import Reject

    from sigilctl.errors import LeaseLostError
    from sigilctl.service.execution import execute_task
    from sigilctl.service.leases import message_visibility, redis_run_lock
    from sigilctl.service.tasks import TaskRequest

    settings, client = _worker_client()
    request = TaskRequest(
        job_id=job_id,
        params=params,
        force=force,
        expected_run_id=expected_run_id,
        inputs_hash=inputs_hash,
    )
    properties = getattr(task.request, "properties", None) or {}
    tag = properties.get("delivery_tag")
    run_lock = functools.partial(redis_run_lock, client, settings.prefix, settings.lock_lease)
    with message_visibility(client, settings.prefix, settings.visibility_timeout, tag):
        try:
            record = execute_task(
                _workspace[0] if _workspace else Workspace.locate(),
                RedisTaskStore(client, settings.prefix),
                str(task.request.id),
                request,
                run_lock=run_lock,
            )
        except LeaseLostError as exc:
            raise Reject(str(exc), requeue=True) from None
    return record.status if record else None


class CeleryQueue:
    """The enqueuer's side (the API and ``submit``): write the record, then send the task."""

    kind = "celery"

    def __init__(self, settings: ServiceSettings) -> None:
        assert settings.broker_url is not None
        self.settings = settings
        self.client = connect(settings.broker_url)
        self.store = RedisTaskStore(self.client, settings.prefix)
        self._app: Celery | None = None

    @property
    def app(self) -> Celery:
        if self._app is None:
            self._app = make_celery(self.settings)
        return self._app

    def start(self) -> None:
        """Build the Celery app now, in the starting thread: importing celery for the first
        time from several request threads at once fails (a half-imported module)."""
        self.app  # noqa: B018 - built for its side effect

    def enqueue(self, record: TaskRecord) -> None:
        from kombu.exceptions import OperationalError
        from redis.exceptions import RedisError

        try:
            self.store.create(record)
            self.app.send_task(
                TASK_NAME,
                kwargs={
                    "job_id": record.job_id,
                    "params": record.params,
                    "force": record.force,
                    "expected_run_id": record.run_id,
                    "inputs_hash": record.inputs_hash,
                },
                task_id=record.queue_job_id,
            )
        except (RedisError, OperationalError, OSError) as exc:
            raise QueueUnavailableError(self._unreachable(exc)) from None

    def _unreachable(self, exc: BaseException) -> str:
        from sigilctl import env

        where = redact_url(self.settings.broker_url or "")
        return env.scrub(f"the queue broker at {where} is unreachable ({type(exc).__name__})")

    def problem(self) -> str | None:
        from redis.exceptions import RedisError

        try:
            self.client.ping()
        except (RedisError, OSError) as exc:
            return self._unreachable(exc)
        return None

    def depth(self) -> int:
        keys = [f"{self.settings.prefix}{QUEUE_NAME}{suffix}" for suffix in PRIORITY_SUFFIXES]
        pipe = self.client.pipeline()
        for key in keys:
            pipe.llen(key)
        return sum(int(n) for n in pipe.execute())

    def stop(self, grace: float) -> None:
        if self._app is not None:
            self._app.close()
        self.client.close()
