"""``sigilctl worker``: a Celery worker that executes queued runs from the broker.

SIGTERM is Celery's warm shutdown: the worker stops taking tasks and finishes the ones it runs;
a task it had reserved but not started is handed back to the queue (acknowledged only when it
ends). A worker killed outright has its tasks re-delivered (docs/service.md).
"""

from __future__ import annotations

import os
import socket

from sigilctl.errors import InputError
from sigilctl.workspace import Workspace


def run_worker(workspace: Workspace, concurrency: int, *, verbose: bool = False) -> None:
    from sigilctl.service.settings import ServiceSettings

    settings = ServiceSettings.from_env()
    if not settings.broker_url:
        raise InputError(
            "sigilctl worker needs SIGILCTL_BROKER_URL (e.g. redis://127.0.0.1:6379/0); "
            "without a broker, 'sigilctl serve' runs queued work in its own processes"
        )
    if concurrency < 1:
        raise InputError(f"--concurrency must be at least 1, not {concurrency}")
    # Loaded once here, before the pool forks, so no task pays for these imports.
    import sigilctl.providers.offline
    import sigilctl.runner
    import sigilctl.service.execution
    import sigilctl.verify  # noqa: F401
    from sigilctl.service.celery_queue import make_celery, set_worker_workspace

    set_worker_workspace(workspace)
    app = make_celery(settings)
    app.worker_main(
        [
            "worker",
            f"--concurrency={concurrency}",
            "--pool=prefork",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            f"--loglevel={'DEBUG' if verbose else 'INFO'}",
            f"--hostname=sigilctl.{os.getpid()}@{socket.gethostname()}",
        ]
    )
