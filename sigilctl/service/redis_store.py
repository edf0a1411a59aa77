"""Task records in Redis, beside the Celery queue they describe (one key per task, with a TTL).

Keys, under the deployment's prefix (``SIGILCTL_QUEUE_PREFIX``, default ``sigilctl:``):
``task:<queue_job_id>`` holds the record as JSON; ``run:<run_id>`` names the latest task
queued for that run_id (so ``GET /jobs/<run_id>`` can say "queued" before the run exists).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sigilctl.service.tasks import RecordedTasks, TaskRecord

if TYPE_CHECKING:
    import redis

RECORD_TTL_S = 7 * 24 * 3600


def connect(url: str) -> redis.Redis:
    """A client that fails fast when Redis is away (a request must not hang on it)."""
    import redis

    return redis.Redis.from_url(
        url, socket_connect_timeout=3, socket_timeout=10, health_check_interval=30
    )


class RedisTaskStore(RecordedTasks):
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def _key(self, queue_job_id: str) -> str:
        return f"{self.prefix}task:{queue_job_id}"

    def _run_key(self, run_id: str) -> str:
        return f"{self.prefix}run:{run_id}"

    def create(self, record: TaskRecord) -> None:
        pipe = self.client.pipeline()
        pipe.set(self._key(record.queue_job_id), record.model_dump_json(), ex=RECORD_TTL_S)
        pipe.set(self._run_key(record.run_id), record.queue_job_id, ex=RECORD_TTL_S)
        pipe.execute()

    def get(self, queue_job_id: str) -> TaskRecord | None:
        raw = self.client.get(self._key(queue_job_id))
        return TaskRecord.model_validate_json(raw) if raw else None

    def latest_for_run(self, run_id: str) -> TaskRecord | None:
        raw = self.client.get(self._run_key(run_id))
        return self.get(raw.decode() if isinstance(raw, bytes) else str(raw)) if raw else None

    def _change(self, queue_job_id: str, **fields: Any) -> TaskRecord | None:
        current = self.get(queue_job_id)
        if current is None:
            return None
        record = current.model_copy(update=fields)
        self.client.set(self._key(queue_job_id), record.model_dump_json(), ex=RECORD_TTL_S)
        return record
