"""``sigilctl show RUN``: ids, status, timings, snapshots, artifacts, usage, trace, preview."""

from typing import TYPE_CHECKING, Annotated

import typer

from sigilctl.cli._options import ArtifactsOption, JsonOption, RootOption

STATUSES = ("succeeded", "failed", "partial")

if TYPE_CHECKING:
    from sigilctl.history import ExecutionSummary
    from sigilctl.manifest import CostRecord, ProviderRecord, UsageRecord
    from sigilctl.run_inputs import RunInputs
    from sigilctl.run_view import RunView


def show(
    run: Annotated[
        str,
        typer.Argument(help="A run dir, a run_id, a unique run_id prefix (≥ 6) or a job id."),
    ],
    root: RootOption = None,
    artifacts: ArtifactsOption = None,
    history: Annotated[
        bool,
        typer.Option(
            "--history",
            help="Also list every execution of the run_id: the current one and those kept "
            "in history (start, status, provider/model, error, trace id).",
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Show one run as its manifest records it: ids, provider, doctrine, retrieved context
    (rank and score), timings, usage, cost, error, snapshots, artifacts and a preview."""
    from sigilctl.cli import output
    from sigilctl.history import executions_of
    from sigilctl.lookup import locate_run
    from sigilctl.observability.settings import spool_dir
    from sigilctl.run_inputs import run_inputs
    from sigilctl.run_view import load_run_view
    from sigilctl.workspace import Workspace

    workspace = Workspace.locate(root, artifacts)
    run_dir = locate_run(run, workspace)
    view = load_run_view(run_dir, spool_dir(workspace.artifacts))
    inputs = run_inputs(view.run_dir, view.manifest)
    executions = executions_of(run_dir) if history else None
    if json_output:
        document = view.as_json()
        document["inputs"] = inputs.as_json()
        if executions is not None:
            document["executions"] = [e.as_json() for e in executions]
        output.emit_json(document)
    else:
        render(view, inputs)
        if executions is not None:
            render_executions(executions)


def _provider_text(provider: "ProviderRecord | None") -> str:
    if provider is None:
        return "?"
    if provider.offline:
        return f"{provider.name} (deterministic, no network: not model output)"
    where = f" at {provider.endpoint}" if provider.endpoint else ""
    attempts = f", {provider.attempts} attempt(s)" if provider.attempts else ""
    return f"{provider.name}/{provider.model}{where}{attempts}"


def _trace_text(view: "RunView") -> str:
    trace_id = view.manifest.langfuse_trace_id
    if not trace_id:
        return "not traced"
    where = view.trace_url or f"{trace_id} (the manifest does not record the Langfuse host)"
    if view.trace_spooled:
        return f"{where} (not in Langfuse yet: spooled; 'sigilctl traces flush' sends it)"
    return where


def _usage_text(usage: "UsageRecord | None") -> str | None:
    from sigilctl.cli._format import count

    if usage is None:
        return None
    return (
        f"{count(usage.total_tokens)} tokens (prompt {count(usage.prompt_tokens)}, "
        f"completion {count(usage.completion_tokens)})"
    )


def _cost_text(cost: "CostRecord | None") -> str | None:
    from sigilctl.cli._format import usd

    if cost is None:
        return None
    if cost.total is None:
        return f"unknown ({cost.reason or 'no price'})"
    source = f", {cost.source}" if cost.source else ""
    return f"{usd(cost.total)}{source}"


def _hash(sha256: str, width: int) -> str:
    """The whole hash where it fits, else its start (``--json`` has every hash whole)."""
    return sha256 if width >= 100 else sha256[:16] + "…"


def render(view: "RunView", inputs: "RunInputs | None" = None) -> None:
    from sigilctl.cli import output
    from sigilctl.cli._format import ago, duration, utc

    m = view.manifest
    console = output.stdout()
    cell = output.cell
    heading = f"run {m.run_id[:12]}  {output.status_text(m.status)}"
    console.print(heading if output.is_plain() else f"[bold]{heading}[/bold]")
    rows = [
        ("job_id", cell(m.job_id)),
        ("run_id", cell(m.run_id)),
        ("inputs_hash", cell(m.inputs_hash)),
        ("job_type", cell(m.job_type or "?")),
        ("brand", cell(m.brand or "?")),
        ("status", output.status_text(m.status)),
        ("provider", cell(_provider_text(m.provider))),
    ]
    if inputs is not None and inputs.doctrine:
        d = inputs.doctrine
        rows.append(("doctrine", cell(f"{d.get('id')} v{d.get('version')} ({d.get('path')})")))
    rows += [
        ("started", utc(m.started_at)),
        ("finished", f"{utc(m.finished_at)} ({ago(m.finished_at)})"),
        ("duration", duration(m.duration_ms)),
    ]
    for key, text in (("usage", _usage_text(m.usage)), ("cost", _cost_text(m.cost))):
        if text is not None:
            rows.append((key, cell(text)))
    if m.error:
        rows.append(("error", cell(m.error)))
    rows += [
        ("trace", cell(_trace_text(view))),
        ("run dir", cell(output.shown_path(view.run_dir))),
        ("sigilctl", cell(m.sigilctl_version or "?")),
    ]
    output.keyvalues(rows)
    if inputs is not None and inputs.context:
        output.heading("Context (retrieved, by rank)")
        context = output.table("rank", "score", "bytes", "file", right=("rank", "score", "bytes"))
        context.columns[3].overflow = "fold"
        for doc in inputs.context:
            score = f"{doc.score:.3f}" if doc.score is not None else "-"
            context.add_row(str(doc.rank), score, f"{doc.bytes:,}", cell(doc.path))
        console.print(context)
    output.heading("Input snapshots")
    snapshots = output.table("snapshot", "sha256", "bytes", right=("bytes",))
    for name, entry in sorted(m.input_snapshots.items()):
        snapshots.add_row(cell(name), _hash(entry.sha256, console.width), f"{entry.bytes:,}")
    console.print(snapshots)
    output.heading("Artifacts")
    files = output.table("file", "sha256", "bytes", right=("bytes",))
    files.columns[0].overflow = "fold"
    for artifact in m.artifacts:
        files.add_row(
            cell(artifact.path), _hash(artifact.sha256, console.width), f"{artifact.bytes:,}"
        )
    if not m.artifacts:
        files.add_row("(none)", "", "")
    console.print(files)
    if view.preview:
        output.heading("Preview")
        preview = output.table("", "")
        preview.show_header = False
        preview.columns[1].overflow = "fold"
        for i, line in enumerate(view.preview, start=1):
            preview.add_row(f"{i}.", cell(line))
        console.print(preview)


def render_executions(executions: "list[ExecutionSummary]") -> None:
    """One row per execution; the execution id says when it started (UTC). The trace id
    column appears where it fits (``--json`` always has it)."""
    from sigilctl.cli import output

    def safe(text: str | None, default: str = "") -> str:
        """Text from a manifest: control characters and rich markup escaped."""
        return output.cell(text) if text else default

    with_trace = output.width() >= 120
    columns = ["execution (UTC start)", "status", "provider/model", "where", "error"]
    if with_trace:
        columns.insert(3, "trace")
    output.heading("Executions (oldest first)")
    table = output.table(*columns)
    for column in table.columns[:-1]:
        column.no_wrap = True
    table.columns[-1].overflow = "fold"
    for e in executions:
        provider = "/".join(part for part in (e.provider, e.model) if part)
        if e.provider == "offline":
            provider = "offline"
        row = [
            safe(e.execution_id),
            output.status_text(e.status) if e.status in STATUSES else safe(e.status, "unknown"),
            safe(provider, "?"),
            "current" if e.current else "history",
            safe(e.error),
        ]
        if with_trace:
            row.insert(3, safe(e.trace_id, "none"))
        table.add_row(*row)
    output.stdout().print(table)
