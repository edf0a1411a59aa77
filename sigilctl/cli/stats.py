"""``sigilctl stats``: runs, outcomes, tokens and cost per job, brand, job type or day."""

from typing import TYPE_CHECKING, Annotated

import typer

from sigilctl.cli._options import ArtifactsOption, DbOption, JsonOption, RootOption

if TYPE_CHECKING:
    from sigilctl.index.stats import StatsRow


def stats(
    root: RootOption = None,
    artifacts: ArtifactsOption = None,
    db: DbOption = None,
    by: Annotated[
        str, typer.Option("--by", help="Group by job_id, brand, job_type or day (UTC).")
    ] = "job_id",
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Only executions started at or after YYYY-MM-DD or an ISO 8601 datetime (UTC).",
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Count every execution (history included): outcomes, tokens and cost per group."""
    from sigilctl.accounting import stats as accounted
    from sigilctl.cli import output
    from sigilctl.cli._index import ready_index
    from sigilctl.index.query import parse_since
    from sigilctl.index.stats import check_by

    check_by(by)
    if since is not None:
        parse_since(since)
    with ready_index(root, artifacts, db) as index:
        rows = accounted(index, index.artifacts, by, since)
    if json_output:
        output.emit_json([row.as_json() for row in rows])
    else:
        render(rows, by)


def render(rows: "list[StatsRow]", by: str) -> None:
    from sigilctl.cli import output

    hits = sum(r.cache_hits for r in rows)
    columns = [by, "runs", "succeeded", "failed", "input tokens", "output tokens", "cost"]
    table = output.table(*columns, *(["cache hits", "saved"] if hits else []))
    for column in table.columns[1:]:
        column.justify = "right"
    for r in rows:
        cost = "?" if r.cost_usd is None else f"${r.cost_usd:,.4f}"
        if r.cost_usd is not None and r.cost_unknown:
            cost += f" (+{r.cost_unknown} unknown)"
        saved = [f"{r.cache_hits:,}", "?" if r.saved_usd is None else f"${r.saved_usd:,.4f}"]
        table.add_row(
            r.key or "?",
            f"{r.runs:,}",
            f"{r.succeeded:,}",
            f"{r.failed:,}",
            f"{r.input_tokens:,}",
            f"{r.output_tokens:,}",
            cost,
            *(saved if hits else []),
        )
    console = output.stdout()
    if rows:
        console.print(table)
    summary = f"{sum(r.runs for r in rows)} execution(s) in {len(rows)} group(s)"
    if hits:
        known = [r.saved_usd for r in rows if r.saved_usd is not None]
        summary += (
            f"; {hits} cache hit(s) saved ${sum(known):,.4f}"
            if known
            else (f"; {hits} cache hit(s)")
        )
    console.print(summary, markup=False, highlight=False)
