"""``sigilctl serve``: the HTTP API (SPEC §10), with its own workers unless a broker is set."""

from typing import Annotated

import typer

from sigilctl.cli._options import ArtifactsOption, RootOption


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8787,
    no_auth: Annotated[
        bool,
        typer.Option(
            "--no-auth", help="Serve without SIGILCTL_API_TOKENS (loopback addresses only)."
        ),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            help="Local worker processes when SIGILCTL_BROKER_URL is not set.",
            min=1,
        ),
    ] = 2,
    root: RootOption = None,
    artifacts: ArtifactsOption = None,
) -> None:
    """Serve the HTTP API until SIGTERM (in-flight runs finish or go back to the queue)."""
    from sigilctl.service.server import serve as run_server
    from sigilctl.workspace import Workspace

    workspace = Workspace.locate(root, artifacts)
    run_server(workspace, host=host, port=port, no_auth=no_auth, local_workers=workers)
