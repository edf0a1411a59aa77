"""``sigilctl run JOB``: resolve, freeze, identify, then execute (or reuse) one job."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from sigilctl.cli._options import ArtifactsOption, JsonOption, RootOption

if TYPE_CHECKING:
    from sigilctl.run_lock import LockWait
    from sigilctl.runner import RunOutcome

DEFAULT_LOCK_TIMEOUT_S = 3600.0  # sigilctl.run_lock.DEFAULT_LOCK_TIMEOUT_S (kept import-free)


def run(
    job: Annotated[str, typer.Argument(help="A job id, a job folder or a brief path.")],
    root: RootOption = None,
    artifacts: ArtifactsOption = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Re-execute even a succeeded or damaged run. The new execution becomes current "
            "only if it succeeds (or the old one was damaged); the other is kept in history.",
        ),
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
    lock_timeout: Annotated[
        float,
        typer.Option(
            "--lock-timeout",
            min=0,
            help="Seconds to wait for a concurrent run of the same inputs before giving up "
            "(exit 1).",
        ),
    ] = DEFAULT_LOCK_TIMEOUT_S,
    json_output: JsonOption = False,
) -> None:
    """Run a job: same inputs give the same run_id, and a succeeded run is reused."""
    from sigilctl.cli import output
    from sigilctl.runner import RunOptions, run_job
    from sigilctl.workspace import Workspace

    workspace = Workspace.locate(root, artifacts, job_ref=job)
    options = RunOptions(
        force=force, provider=provider, trace=not no_trace, lock_timeout=lock_timeout
    )
    outcome = run_job(job, workspace, options, on_lock_wait=_report_wait)
    if outcome.trace_warning:
        output.warning(outcome.trace_warning)
    if outcome.note:
        output.note(f"{outcome.note}; nothing was executed")
    if outcome.error:
        output.error(f"run {outcome.run_id} failed: {outcome.error}")
    if json_output:
        output.emit_json(outcome.as_json())
    else:
        _render(outcome)
    if outcome.status != "succeeded":
        raise typer.Exit(1)


def _report_wait(wait: LockWait) -> None:
    """Say who holds the run's lock: once at first, then each time the core reports again."""
    from sigilctl.cli import output

    bound = f"giving up after {wait.timeout_s:g} s" if wait.timeout_s is not None else "no bound"
    if wait.first:
        output.note(
            f"run {wait.run_id} is locked by {wait.holder.describe()}; waiting for it "
            f"({bound}, --lock-timeout)"
        )
    else:
        output.note(
            f"still waiting after {wait.waited_s:.0f} s for run {wait.run_id}, locked by "
            f"{wait.holder.describe()} ({bound})"
        )


def _render(outcome: RunOutcome) -> None:
    from sigilctl.cli import output

    console = output.stdout()
    cached = "yes (no LLM call)" if outcome.cached else "no"
    where = str(outcome.run_dir) + ("" if outcome.current else " (history; the current run stays)")
    rows = [
        ("job_id", outcome.job_id),
        ("run_id", outcome.run_id),
        ("inputs_hash", outcome.inputs_hash),
        ("status", output.status_text(outcome.status)),
        ("cached", cached),
        ("execution", outcome.execution_id or "?"),
        ("run dir", where),
        ("trace", outcome.langfuse_trace_id or "none"),
    ]
    if outcome.error:
        rows.append(("error", outcome.error))
    width = max(len(key) for key, _ in rows)
    markup = not output.is_plain()
    for key, value in rows:
        shown = value if key == "status" else output.cell(value, markup=markup)
        console.print(f"{key:<{width}}  {shown}", markup=markup, highlight=False)
