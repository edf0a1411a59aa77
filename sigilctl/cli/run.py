"""``sigilctl run JOB``: resolve, freeze, identify, then execute (or reuse) one job."""

from __future__ import annotations

from typing import Annotated

import typer

from sigilctl.cli._options import ArtifactsOption, JsonOption, RootOption


def run(
    job: Annotated[str, typer.Argument(help="A job id, a job folder or a brief path.")],
    root: RootOption = None,
    artifacts: ArtifactsOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Re-execute a succeeded run and replace it atomically.")
    ] = False,
    provider: Annotated[
        str | None,
        typer.Option(
            "--provider",
            help="Use this provider instead of the brief's (offline, openai). "
            "It is part of model_config, so it gives another run_id.",
            show_default=False,
        ),
    ] = None,
    no_trace: Annotated[bool, typer.Option("--no-trace", help="Do not trace this run.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Run a job: same inputs give the same run_id, and a succeeded run is reused."""
    from sigilctl.cli import output
    from sigilctl.runner import RunOptions, run_job
    from sigilctl.workspace import Workspace

    workspace = Workspace.locate(root, artifacts)
    outcome = run_job(
        job, workspace, RunOptions(force=force, provider=provider, trace=not no_trace)
    )
    if outcome.trace_warning:
        output.warning(outcome.trace_warning)
    if json_output:
        output.emit_json(outcome.as_json())
    else:
        _render(outcome)
    if outcome.status != "succeeded":
        raise typer.Exit(1)


def _render(outcome: object) -> None:
    from sigilctl.cli import output
    from sigilctl.runner import RunOutcome

    assert isinstance(outcome, RunOutcome)
    console = output.stdout()
    rows = [
        ("job_id", outcome.job_id),
        ("run_id", outcome.run_id),
        ("inputs_hash", outcome.inputs_hash),
        ("status", output.status_text(outcome.status)),
        ("cached", "yes (no LLM call)" if outcome.cached else "no"),
        ("run dir", str(outcome.run_dir)),
        ("trace", outcome.langfuse_trace_id or "none"),
    ]
    if outcome.error:
        rows.append(("error", outcome.error))
    width = max(len(key) for key, _ in rows)
    markup = not output.is_plain()
    for key, value in rows:
        shown = value if key == "status" else output.cell(value, markup=markup)
        console.print(f"{key:<{width}}  {shown}", markup=markup, highlight=False)
