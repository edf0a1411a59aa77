"""``sigilctl submit JOB``: queue a run straight to the broker; ``--wait`` follows it."""

from typing import Annotated

import typer

from sigilctl.cli._options import ArtifactsOption, JsonOption, RootOption


def submit(
    job: Annotated[str, typer.Argument(help="A job id, a job folder or a brief path.")],
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            help="KEY=VALUE merged over the brief's params (VALUE read as JSON if it is JSON).",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Queue even if a succeeded run exists.")
    ] = False,
    wait: Annotated[bool, typer.Option("--wait", help="Wait for the run to end.")] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds --wait waits at most.", min=1)
    ] = 3600.0,
    root: RootOption = None,
    artifacts: ArtifactsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Queue a run on SIGILCTL_BROKER_URL (a cache hit is reported without queueing)."""
    from sigilctl.cli import output
    from sigilctl.service.submit import parse_params
    from sigilctl.service.submit import submit as submit_run
    from sigilctl.workspace import Workspace

    workspace = Workspace.locate(root, artifacts)
    result = submit_run(
        workspace,
        job,
        parse_params(param or []),
        force=force,
        wait=wait,
        timeout=timeout,
        on_state=None if json_output else lambda status: output.note(f"task is {status}"),
    )
    if json_output:
        output.emit_json(result.as_json())
    else:
        rows = [
            ("job_id", result.job_id),
            ("run_id", result.run_id),
            ("status", output.status_text(result.status)),
            ("cached", "yes (no LLM call)" if result.cached else "no"),
            ("queue_job_id", result.queue_job_id or "none (not queued)"),
        ]
        if result.error:
            rows.append(("error", result.error))
        console = output.stdout()
        for key, value in rows:
            console.print(f"{key:<12}  {value}", markup=not output.is_plain(), highlight=False)
    if result.status in ("failed", "partial"):
        raise typer.Exit(1)
