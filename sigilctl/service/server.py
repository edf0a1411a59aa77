"""``sigilctl serve``: check the settings, then run the API on uvicorn until SIGTERM.

On SIGTERM (or Ctrl-C) uvicorn stops taking connections and lets open requests end; then the
queue stops: the embedded workers finish their running task within ``SIGILCTL_SHUTDOWN_GRACE``
seconds (default 60), and a task that does not finish in time is put back in the queue, whole,
for the next start. Nothing is half-published: a run is renamed into place or not at all.
"""

from __future__ import annotations

import ipaddress
import signal

from sigilctl.errors import InputError, StorageError
from sigilctl.workspace import Workspace

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787
DEFAULT_LOCAL_WORKERS = 2


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_auth(host: str, no_auth: bool, tokens: tuple[str, ...]) -> None:
    """SPEC §10: tokens or --no-auth, and --no-auth only on a loopback address."""
    if no_auth and not is_loopback(host):
        raise InputError(
            f"--no-auth is refused with the non-loopback host '{host}': anyone who can reach it "
            "could run jobs; set SIGILCTL_API_TOKENS instead"
        )
    if not no_auth and not tokens:
        raise InputError(
            "SIGILCTL_API_TOKENS is not set: set it to one or more comma-separated tokens, "
            "or pass --no-auth to serve on a loopback address without authentication"
        )


def serve(
    workspace: Workspace,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    no_auth: bool = False,
    local_workers: int = DEFAULT_LOCAL_WORKERS,
    access_log: bool = True,
) -> None:
    from sigilctl.service.settings import ServiceSettings

    settings = ServiceSettings.from_env()
    check_auth(host, no_auth, settings.tokens)
    if not 1 <= port <= 65535:
        raise InputError(f"--port must be between 1 and 65535, not {port}")
    if local_workers < 1:
        raise InputError(f"--workers must be at least 1, not {local_workers}")

    try:
        workspace.artifacts.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        where = workspace.artifacts
        raise StorageError(f"cannot create the artifacts tree {where}: {exc.strerror}") from None

    import uvicorn

    from sigilctl.service.api import Service, create_app
    from sigilctl.service.index_view import ensure_index
    from sigilctl.service.metrics import Metrics
    from sigilctl.service.queue import open_queue

    ensure_index(workspace)
    queue = open_queue(settings, workspace, local_workers)
    service = Service(workspace, settings, queue, Metrics(workspace, queue))
    config = uvicorn.Config(
        create_app(service, auth=not no_auth),
        host=host,
        port=port,
        lifespan="on",
        access_log=access_log,
        server_header=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace) or None,
        log_level="info",
    )
    # uvicorn re-raises the stop signal once it has shut down gracefully; a SIGTERM that ends
    # in a clean shutdown is a normal end (exit 0), not a death by signal.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: None)
    queue.start()
    try:
        uvicorn.Server(config).run()
    finally:
        queue.stop(settings.shutdown_grace)
