"""``sigilctl verify``: prove runs are intact from their bytes and hashes (exit 1 names why)."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sigilctl.cli._options import ArtifactsOption, JsonOption, RootOption

if TYPE_CHECKING:
    from rich.console import Group

    from sigilctl.verify import RunReport, VerifyResult

# Beyond this many runs the human output is one row per run, with details for bad runs only.
DETAIL_LIMIT = 20
PROGRESS_MIN_RUNS = 200


def verify(
    run_dirs: Annotated[
        list[str] | None,
        typer.Argument(
            help="Run directories (or a run_id, a unique prefix, a job id).", show_default=False
        ),
    ] = None,
    all_runs: Annotated[
        bool, typer.Option("--all", help="Verify every run under the artifacts tree.")
    ] = False,
    job: Annotated[
        str | None, typer.Option("--job", help="With --all: only this job's runs.")
    ] = None,
    source: Annotated[
        bool,
        typer.Option(
            "--source", help="Also re-resolve each run's job from jobs/ and report drift."
        ),
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Worker processes (default: every usable core)."),
    ] = None,
    attestation: Annotated[
        Path | None,
        typer.Option(
            "--attestation",
            help="With --pubkey: the envelope to check (default: the run's own under "
            "<artifacts>/.sigilctl/attestations/).",
            show_default=False,
        ),
    ] = None,
    pubkey: Annotated[
        Path | None,
        typer.Option(
            "--pubkey",
            help="Check the run's attestation: signed by this Ed25519 public key (PEM), "
            "every digest current.",
            show_default=False,
        ),
    ] = None,
    latest: Annotated[
        bool,
        typer.Option(
            "--latest",
            help="With --all: only each job's latest run, and every job with no run is a "
            "problem. With --source it is the CI gate that stays green when history exists.",
        ),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only the problems and the summary.")
    ] = False,
    root: RootOption = None,
    artifacts: ArtifactsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Recompute every hash and id of runs and name every problem (exit 1 if any)."""
    from functools import cache

    from sigilctl.cli import output
    from sigilctl.verify.request import VerifyRequest
    from sigilctl.verify.request import verify as run_verify
    from sigilctl.workspace import Workspace

    located = cache(lambda: Workspace.locate(root, artifacts))
    request = VerifyRequest(
        located,
        tuple(run_dirs or ()),
        all_runs,
        job,
        source,
        workers,
        attestation,
        pubkey,
        latest=latest,
    )
    with output.progress("verifying runs", PROGRESS_MIN_RUNS) as advance:
        result = run_verify(request, advance)
    if json_output:
        output.emit_json(result.as_json())
    else:
        render(result, quiet=quiet)
    if not result.ok:
        raise typer.Exit(1)


def render(result: "VerifyResult", *, quiet: bool = False) -> None:
    """One block per run (a table of every run beyond DETAIL_LIMIT, then a block per bad run);
    ``quiet``: the bad runs' blocks and the summary only."""
    from sigilctl.cli import output

    console = output.stdout()
    if quiet:
        for report in result.runs:
            if not report.ok:
                console.print(_run_table(report))
    elif len(result.runs) <= DETAIL_LIMIT:
        for report in result.runs:
            console.print(_run_table(report))
    else:
        console.print(_runs_table(result))
        for report in result.runs:
            if not report.ok:
                console.print(_run_table(report))
    for job_id in result.never_run or []:
        console.print(
            f"{output.mark(False)} job {output.cell(job_id)} has never run "
            "(run it, or remove its folder under jobs/)",
            markup=not output.is_plain(),
        )
    bad = [r for r in result.runs if not r.ok]
    problems = sum(len(r.problems) for r in result.runs)
    stale = sum(1 for r in result.runs if r.source and r.source.state != "current")
    unsigned = sum(1 for r in result.runs if r.attestation and not r.attestation.ok)
    history = sum(1 for r in result.runs if r.history)
    kept = f" ({history} kept in history)" if history else ""
    summary = (
        f"{len(result.runs)} run(s) verified{kept}: {len(result.runs) - len(bad)} ok, "
        f"{len(bad)} not ok"
    )
    if problems:
        summary += f" ({problems} problem(s))"
    if stale:
        summary += f", {stale} drifted from jobs/"
    if unsigned:
        summary += ", the attestation does not hold"
    if result.never_run:
        summary += f", {len(result.never_run)} job(s) never run"
    console.print(f"{output.mark(result.ok)} {summary}", markup=not output.is_plain())


def _run_table(report: "RunReport") -> "Group":
    from rich.console import Group
    from rich.markup import escape
    from rich.text import Text

    from sigilctl.cli import output
    from sigilctl.verify.report import CheckGroup

    status = output.status_text(report.status) if report.status else "unknown"
    names = output.cell(f"{report.job_id or '?'}/{report.run_id or '?'}")
    heading = f"{names}  status: {status}"
    if report.history:
        heading += f"  (history: execution {output.cell(report.run_dir.name)})"
    counts = {
        CheckGroup.SNAPSHOT_FILES: f"{report.snapshot_count} snapshot(s)",
        CheckGroup.ARTIFACTS: f"{report.artifact_count} artifact(s)",
    }
    table = output.table("", "check", "detail")
    table.columns[1].no_wrap = False
    table.columns[2].overflow = "fold"
    by_group: dict[CheckGroup, list[str]] = {}
    for problem in report.problems:
        by_group.setdefault(problem.kind.group, []).append(
            f"{problem.kind.value}: {problem.message}"
        )
    for group in CheckGroup:
        found = by_group.get(group, [])
        detail = "\n".join(found) if found else counts.get(group, "")
        table.add_row(output.mark(not found), group.label, escape(detail))
    if report.source is not None:
        state = report.source
        table.add_row(
            output.mark(state.state == "current"), f"source: {state.state}", escape(state.message)
        )
    if report.attestation is not None:
        signed = report.attestation
        detail = "\n".join(signed.problems) or (
            f"signed by keyid {signed.keyid[:16]}…; {signed.subjects} subject(s), "
            f"{signed.dependencies} dependency(ies) match"
        )
        table.add_row(output.mark(signed.ok), "attestation", escape(detail))
    return Group(
        heading, Text(output.cell(str(report.run_dir), markup=False), overflow="fold"), table
    )


def _runs_table(result: "VerifyResult") -> object:
    from sigilctl.cli import output

    table = output.table("", "job_id", "run_id", "status", "problems", title="Runs")
    table.columns[1].no_wrap = True
    table.columns[2].no_wrap = True
    table.columns[4].overflow = "fold"
    for report in result.runs:
        kinds = sorted({p.kind.value for p in report.problems})
        if report.source and report.source.state != "current":
            kinds.append(f"source {report.source.state}")
        table.add_row(
            output.mark(report.ok),
            output.cell(report.job_id or "?"),
            output.cell((report.run_id or "?") + (" (history)" if report.history else "")),
            output.status_text(report.status) if report.status else "?",
            ", ".join(kinds),
        )
    return table
