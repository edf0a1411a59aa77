"""``sigilctl runs``: list runs from the index, newest first, with filters.

At 80 columns: age (time since it finished), job, short run id, status with the error's first
words, model (``offline`` says the output is not a model's), duration, tokens and cost, as many
as fit (an empty column goes first, a job id is cut last);
``--wide`` adds the absolute UTC time, the full run_id, brand, job type and the whole error.
``--format json`` (or ``--json``) and ``--format csv`` print every field of the rows shown.
"""

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sigilctl.cli._options import ArtifactsOption, DbOption, JsonOption, RootOption

if TYPE_CHECKING:
    from sigilctl.index.rows import RunRecord

DEFAULT_LIMIT = 50
CSV_FIELDS = (
    "run_id", "job_id", "status", "started_at", "finished_at", "duration_ms", "provider",
    "model", "offline", "prompt_tokens", "completion_tokens", "total_tokens", "cost_usd",
    "brand", "job_type", "error", "execution_id", "current", "inputs_hash", "run_dir",
)  # fmt: skip


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


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
        int,
        typer.Option("--limit", help="At most N runs, newest first (0: all of them).", min=0),
    ] = DEFAULT_LIMIT,
    wide: Annotated[
        bool,
        typer.Option(
            "--wide", help="Every column: UTC times, full run ids, brand, job type, errors."
        ),
    ] = False,
    output_format: Annotated[
        Format, typer.Option("--format", help="table, json (as --json) or csv.")
    ] = Format.table,
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

    # One row past the limit says whether there are more, without reading a million rows.
    asked = limit + 1 if limit else None
    filters = RunFilters(job, brand, job_type, status, since, asked, history).checked()
    with ready_index(root, artifacts, db) as index:
        records = index.runs(filters)
    shown = records[:limit] if limit else records
    more = len(records) > len(shown)
    chosen = Format.json if json_output else output_format
    if chosen is Format.table:
        render(shown, more=more, wide=wide)
        return
    if more:
        output.note(f"showing the newest {len(shown)} runs; there are more (--limit 0 for all)")
    if chosen is Format.json:
        output.emit_json([record.as_json() for record in shown])
    else:
        output.emit_csv(CSV_FIELDS, [flat(record.as_json()) for record in shown])


def flat(document: dict[str, Any]) -> dict[str, Any]:
    """A run's JSON document as one CSV row (usage flattened; missing fields empty)."""
    usage = document.get("usage") or {}
    return {field: document.get(field, usage.get(field)) for field in CSV_FIELDS}


def render(records: "list[RunRecord]", *, more: bool = False, wide: bool = False) -> None:
    """Newest first; ``show`` and ``diff`` take any unique run_id prefix (≥ 6)."""
    from sigilctl.cli import output

    table = _wide_table(records) if wide else _table(records)
    console = output.stdout()
    if records and wide:  # for a wide terminal or a file: columns are never squeezed
        output.print_unbounded(table)
    elif records:
        console.print(table)
    if more:
        output.line(f"showing the newest {len(records)} runs; there are more (--limit 0 for all)")
    else:
        output.line(f"{len(records)} run(s)")


def _table(records: "list[RunRecord]") -> Any:
    from sigilctl.cli import output
    from sigilctl.cli._fit import Col, fit
    from sigilctl.cli._format import age, count, duration, short_id, usd

    columns = (
        Col("age", right=True, drop=9),
        Col("job", shrink=((8, 16),)),
        Col("run"),
        Col("status", shrink=((1, 18), (6, 9))),
        Col("model", shrink=((2, 14), (7, 7))),
        Col("time", right=True, drop=3),  # what a run took matters less than what it cost
        Col("tokens", right=True, drop=4),
        Col("cost", right=True, drop=5),
    )
    rows = []
    for r in records:
        v = r.as_json()
        run = short_id(v.get("run_id")) + ("" if v.get("current", True) else " (history)")
        rows.append(
            (
                age(v.get("finished_at")),
                output.cell(str(v.get("job_id"))),
                run,
                _status(v, words=4),
                output.cell(_model(v, wide=False)),
                duration(v.get("duration_ms")),
                count((v.get("usage") or {}).get("total_tokens")),
                usd(v.get("cost_usd")),
            )
        )
    return fit(columns, rows, output.width())


def _wide_table(records: "list[RunRecord]") -> Any:
    from sigilctl.cli import output
    from sigilctl.cli._format import count, duration, usd, utc

    table = output.table(
        "finished (UTC)", "job", "run_id", "status", "provider/model", "time", "tokens", "cost",
        "brand", "job type", "error",
        right=("time", "tokens", "cost"),
    )  # fmt: skip
    for r in records:
        v = r.as_json()
        usage = v.get("usage") or {}
        tokens = count(usage.get("total_tokens"))
        if usage.get("prompt_tokens") is not None:
            tokens += f" ({count(usage['prompt_tokens'])}+{count(usage.get('completion_tokens'))})"
        history = "" if v.get("current", True) else " (history)"
        table.add_row(
            utc(v.get("finished_at")),
            output.cell(str(v.get("job_id"))),
            str(v.get("run_id")) + history,
            output.status_text(str(v.get("status"))),
            output.cell(_model(v, wide=True)),
            duration(v.get("duration_ms")),
            tokens,
            usd(v.get("cost_usd")),
            output.cell(v.get("brand") or "?"),
            output.cell(v.get("job_type") or "?"),
            output.cell(v.get("error") or ""),
        )
    return table


def _model(v: dict[str, Any], *, wide: bool) -> str:
    """``gpt-4o-mini`` (``openai/gpt-4o-mini`` when ``wide``); ``offline`` for the
    deterministic provider, whose output is not a model's."""
    if v.get("offline") or v.get("provider") == "offline":
        return "offline"
    provider, model = v.get("provider"), v.get("model")
    if not wide and model:
        return str(model)
    return "/".join(str(part) for part in (provider, model) if part) or "?"


def _status(v: dict[str, Any], *, words: int) -> str:
    """The status word, and the first words of the error of a run that did not succeed."""
    from sigilctl.cli import output
    from sigilctl.cli._format import first_words

    status = str(v.get("status"))
    text = output.status_text(status)
    if status != "succeeded" and v.get("error"):
        text += ": " + output.cell(first_words(str(v["error"]), words))
    return text
