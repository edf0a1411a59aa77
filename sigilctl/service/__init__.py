"""Service mode (SPEC §10): an HTTP API in front, a queue and workers behind.

The API derives a run's identity before it answers, the queue carries only the job id, the
params and the promised run_id, and a worker runs the job through the same runner as
``sigilctl run``. Without ``SIGILCTL_BROKER_URL`` the queue is a SQLite file under the artifacts
tree worked by ``serve``'s own processes; with it, a Celery queue on Redis worked by
``sigilctl worker``. Everything here is imported only by ``serve``, ``worker`` and ``submit``.
"""
