"""``sigilctl runs``: list runs from the index, newest first, with filters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from sigilctl.cli._options import ArtifactsOption, DbOption, JsonOption, RootOption

if TYPE_CHECKING:
    from sigilctl.index.rows import RunRecord


def runs(
    root: RootOption = None,
    artifacts: ArtifactsOption = None,
    db: DbOption = None,
    job: Annotated[str | None, typer.Option("--job", help="Only this job id.")] = None,
    brand: Annotated[str | None, typer.Option("--brand", help="Only this brand.")] = None,
    job_type: Annotated[
        str | None, typer.Option("--job-type", help="Only this job type (pipeline).")
    ] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="Only this status: succeeded, failed, partial.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Only runs started at or after YYYY-MM-DD or an ISO 8601 datetime (UTC).",
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", help="At most N runs (newest first).", min=1)
    ] = None,
    history: Annotated[
        bool,
        typer.Option(
            "--history", help="Also list executions that are no longer current (flagged)."
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """List runs from the index (built first if there is none yet)."""
    from sigilctl.cli import output
    from sigilctl.cli._index import ready_index
    from sigilctl.index.query import RunFilters

    filters = RunFilters(job, brand, job_type, status, since, limit, history).checked()
    with ready_index(root, artifacts, db) as index:
        records = index.runs(filters)
    if json_output:
        output.emit_json([record.as_json() for record in records])
    else:
        render(records)


def render(records: list[RunRecord]) -> None:
    """Newest first; run_id shortened to 12 characters (``show`` takes any unique prefix)."""
    from sigilctl.cli import output

    table = output.table("finished", "job_id", "run_id", "status", "brand", "job_type")
    for column in table.columns:
        column.overflow = "fold"
    for column in (table.columns[0], table.columns[2], table.columns[3]):
        column.no_wrap = True
    for r in records:
        finished = r["finished_at"]
        table.add_row(
            finished[:19].replace("T", " ") if finished else "?",
            output.cell(r["job_id"]),
            output.cell(r["run_id"][:12] + ("" if r.current else " (history)")),
            output.status_text(r["status"]),
            output.cell(r["brand"] or "?"),
            output.cell(r["job_type"] or "?"),
        )
    console = output.stdout()
    if records:
        console.print(table)
    console.print(f"{len(records)} run(s)", markup=False, highlight=False)
