"""``sigilctl show RUN``: ids, status, timings, snapshots, artifacts, usage, trace, preview."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from sigilctl.cli._options import ArtifactsOption, JsonOption, RootOption

STATUSES = ("succeeded", "failed", "partial")

if TYPE_CHECKING:
    from sigilctl.history import ExecutionSummary
    from sigilctl.manifest import ProviderRecord
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
    """Show one run as its manifest records it."""
    from sigilctl.cli import output
    from sigilctl.history import executions_of
    from sigilctl.lookup import locate_run
    from sigilctl.observability.settings import spool_dir
    from sigilctl.run_view import load_run_view
    from sigilctl.workspace import Workspace

    workspace = Workspace.locate(root, artifacts)
    run_dir = locate_run(run, workspace)
    view = load_run_view(run_dir, spool_dir(workspace.artifacts))
    executions = executions_of(run_dir) if history else None
    if json_output:
        document = view.as_json()
        if executions is not None:
            document["executions"] = [e.as_json() for e in executions]
        output.emit_json(document)
    else:
        render(view)
        if executions is not None:
            render_executions(executions)


def _provider_text(provider: ProviderRecord | None) -> str:
    if provider is None:
        return "?"
    if provider.offline:
        return f"{provider.name} (deterministic, no network: not model output)"
    where = f" at {provider.endpoint}" if provider.endpoint else ""
    attempts = f", {provider.attempts} attempt(s)" if provider.attempts else ""
    return f"{provider.name} / {provider.model}{where}{attempts}"


def _trace_text(view: RunView) -> str:
    trace_id = view.manifest.langfuse_trace_id
    if not trace_id:
        return "not traced"
    where = view.trace_url or f"{trace_id} (the manifest does not record the Langfuse host)"
    if view.trace_spooled:
        return f"{where} (not in Langfuse yet: spooled; 'sigilctl traces flush' sends it)"
    return where


def render(view: RunView) -> None:
    from rich.panel import Panel
    from rich.table import Table

    from sigilctl.cli import output

    m = view.manifest
    console = output.stdout()
    ids = Table.grid(padding=(0, 2))
    ids.add_column(style="bold")
    ids.add_column()
    provider = m.provider
    for key, value in (
        ("job_id", m.job_id),
        ("run_id", m.run_id),
        ("inputs_hash", m.inputs_hash),
        ("job_type", m.job_type or "?"),
        ("brand", m.brand or "?"),
        ("status", output.status_text(m.status)),
        (
            "provider",
            _provider_text(provider),
        ),
        ("started", m.started_at or "?"),
        ("finished", m.finished_at or "?"),
        ("duration", f"{m.duration_ms} ms" if m.duration_ms is not None else "?"),
        ("trace", _trace_text(view)),
        ("run dir", str(view.run_dir)),
        ("sigilctl", m.sigilctl_version or "?"),
    ):
        ids.add_row(key, value if key == "status" else output.cell(value))
    if m.error:
        ids.add_row("error", output.cell(m.error))
    if m.usage:
        usage = m.usage
        ids.add_row(
            "usage",
            f"prompt {usage.prompt_tokens}, completion {usage.completion_tokens}, "
            f"total {usage.total_tokens} tokens",
        )
    title = output.cell(f"run {m.run_id[:12]}")
    console.print(Panel(ids, title=title, title_align="left", expand=False))
    snapshots = output.table("snapshot", "sha256", "bytes", title="Input snapshots")
    for name, entry in sorted(m.input_snapshots.items()):
        snapshots.add_row(output.cell(name), entry.sha256, str(entry.bytes))
    console.print(snapshots)
    files = output.table("artifact", "sha256", "bytes", title="Artifacts")
    for artifact in m.artifacts:
        files.add_row(output.cell(artifact.path), artifact.sha256, str(artifact.bytes))
    if not m.artifacts:
        files.add_row("(none)", "", "")
    console.print(files)
    if view.preview:
        lines = (output.cell(line, markup=False) for line in view.preview)
        body = "\n\n".join(f"{i}. {line}" for i, line in enumerate(lines, start=1))
        console.print(Panel(body, title="Preview", title_align="left", expand=False), markup=False)


def render_executions(executions: list[ExecutionSummary]) -> None:
    from rich.markup import escape

    from sigilctl.cli import output
    from sigilctl.text import printable

    def safe(text: str | None, default: str = "") -> str:
        """Text from a manifest: control characters and rich markup escaped."""
        return escape(printable(text)) if text else default

    table = output.table(
        "execution", "started", "status", "provider / model", "trace", "where", "error",
        title="Executions (oldest first)",
    )  # fmt: skip
    for e in executions:
        provider = " / ".join(part for part in (e.provider, e.model) if part)
        table.add_row(
            safe(e.execution_id),
            safe(e.started_at, "?"),
            output.status_text(e.status) if e.status in STATUSES else safe(e.status, "unknown"),
            safe(provider, "?"),
            safe(e.trace_id, "none"),
            "current" if e.current else "history",
            safe(e.error),
        )
    output.stdout().print(table)
