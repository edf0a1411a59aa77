"""``sigilctl jobs``: every job, its latest run, and current / stale / failed / never run."""

from typing import TYPE_CHECKING, Annotated

import typer

from sigilctl.cli._options import ArtifactsOption, JsonOption, RootOption

if TYPE_CHECKING:
    from sigilctl.job_status import JobsReport, JobStatus

PROGRESS_MIN_JOBS = 50


def jobs(
    job_ids: Annotated[
        list[str] | None,
        typer.Argument(
            help="Only these jobs (default: every job under jobs/).", show_default=False
        ),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 unless every job is current (for CI).")
    ] = False,
    root: RootOption = None,
    artifacts: ArtifactsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Every job with its latest run: current, stale (and what changed), failed or never run.

    Re-resolves each job from jobs/ as run would (no model call, nothing written) and compares
    it with the latest run's snapshots; a stale job names the changed file or brief field.
    """
    from sigilctl.cli import output
    from sigilctl.cli.suggest import checked_job_ids
    from sigilctl.job_status import job_statuses
    from sigilctl.workspace import Workspace

    workspace = Workspace.locate(root, artifacts)
    chosen = checked_job_ids(workspace, job_ids) if job_ids else None
    with output.progress("resolving jobs", PROGRESS_MIN_JOBS) as advance:
        report = job_statuses(workspace, chosen, advance)
    if json_output:
        output.emit_json(report.as_json())
    else:
        render(report)
    if check and not report.ok:
        raise typer.Exit(1)


def render(report: "JobsReport") -> None:
    from sigilctl.cli import output
    from sigilctl.cli._fit import Col, fit

    columns = (
        Col("job", shrink=((3, 16),)),
        Col("state"),
        Col("latest run"),
        Col("finished", drop=2),
        Col("detail", shrink=((1, 20),), fold=True),
    )
    table = fit(columns, [_row(job) for job in report.jobs], output.width())
    console = output.stdout()
    if report.jobs:
        console.print(table)
    output.line(summary(report))


def _row(job: "JobStatus") -> tuple[str, str, str, str, str]:
    from sigilctl.cli import output
    from sigilctl.cli._format import ago, first_words, short_id

    detail = ""
    if job.state == "stale":
        detail = job.changes[0] if job.changes else ""
        if len(job.changes) > 1:
            detail += f" (+{len(job.changes) - 1} more)"
    elif job.state in ("failed", "invalid"):
        detail = first_words(job.error, 8)
    return (
        output.cell(job.job_id),
        output.status_text(job.state),
        short_id(job.run_id) if job.run_id else "-",
        ago(job.finished_at) if job.run_id else "-",
        output.cell(detail),
    )


def summary(report: "JobsReport") -> str:
    counts = ", ".join(f"{n} {state}" for state, n in report.counts().items())
    return f"{len(report.jobs)} job(s): {counts or 'none'}"
