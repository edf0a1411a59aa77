"""``sigilctl gc``: delete history executions named by --keep / --older-than; never a current
run."""

from typing import TYPE_CHECKING, Annotated

import typer

from sigilctl.cli._options import ArtifactsOption, JsonOption, RootOption

if TYPE_CHECKING:
    from sigilctl.gc import GcResult


def gc(
    keep: Annotated[
        int | None,
        typer.Option("--keep", help="Keep the N newest history executions of each run_id."),
    ] = None,
    older_than: Annotated[
        float | None,
        typer.Option("--older-than", help="Delete only history executions older than DAYS."),
    ] = None,
    job: Annotated[str | None, typer.Option("--job", help="Only this job's history.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be deleted; delete nothing.")
    ] = False,
    root: RootOption = None,
    artifacts: ArtifactsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Delete history executions (never a current run); both flags given: both must allow it."""
    from sigilctl.cli import output
    from sigilctl.gc import GcRequest
    from sigilctl.gc import gc as collect
    from sigilctl.workspace import Workspace

    workspace = Workspace.locate(root, artifacts)
    result = collect(workspace, GcRequest(keep, older_than, job, dry_run))
    if json_output:
        output.emit_json(result.as_json())
    else:
        render(result)


def render(result: "GcResult") -> None:
    from rich.markup import escape

    from sigilctl.cli import output
    from sigilctl.text import printable

    console = output.stdout()
    verb = "would delete" if result.dry_run else "deleted"
    if result.deleted:
        table = output.table(
            "job_id", "run_id", "execution", "status", "started", "bytes", right=("bytes",)
        )
        for e in result.deleted:
            table.add_row(
                e.job_id,
                e.run_id,
                escape(printable(e.execution_id)),
                escape(printable(e.status or "unknown")),
                escape(printable(e.started_at or "?")),
                str(e.bytes),
            )
        console.print(table)
    console.print(
        f"{verb} {len(result.deleted)} history execution(s) ({result.bytes} bytes); "
        f"kept {result.kept}; current runs are never deleted",
        markup=False,
        highlight=False,
    )
