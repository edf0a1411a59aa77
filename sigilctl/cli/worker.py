"""``sigilctl worker``: execute queued runs from SIGILCTL_BROKER_URL (a Celery worker)."""

from typing import Annotated

import typer

from sigilctl.cli._options import ArtifactsOption, RootOption


def worker(
    concurrency: Annotated[
        int, typer.Option("--concurrency", help="Runs executed at once.", min=1)
    ] = 2,
    root: RootOption = None,
    artifacts: ArtifactsOption = None,
) -> None:
    """Execute queued runs until SIGTERM (running tasks finish; the rest stay queued)."""
    from sigilctl.cli import state
    from sigilctl.service.worker import run_worker
    from sigilctl.workspace import Workspace

    workspace = Workspace.locate(root, artifacts)
    run_worker(workspace, concurrency, verbose=state.verbose)
