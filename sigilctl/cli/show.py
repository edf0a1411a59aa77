"""``sigilctl show RUN``: ids, status, timings, snapshots, artifacts, usage, trace, preview."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from sigilctl.cli._options import ArtifactsOption, JsonOption, RootOption

if TYPE_CHECKING:
    from sigilctl.manifest import ProviderRecord
    from sigilctl.run_view import RunView


def show(
    run: Annotated[
        str,
        typer.Argument(help="A run dir, a run_id, a unique run_id prefix (≥ 6) or a job id."),
    ],
    root: RootOption = None,
    artifacts: ArtifactsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show one run as its manifest records it."""
    from sigilctl.cli import output
    from sigilctl.lookup import locate_run
    from sigilctl.observability.settings import spool_dir
    from sigilctl.run_view import load_run_view
    from sigilctl.workspace import Workspace

    workspace = Workspace.locate(root, artifacts)
    view = load_run_view(locate_run(run, workspace), spool_dir(workspace.artifacts))
    if json_output:
        output.emit_json(view.as_json())
    else:
        render(view)


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
        ids.add_row(key, value)
    if m.error:
        ids.add_row("error", m.error)
    if m.usage:
        usage = m.usage
        ids.add_row(
            "usage",
            f"prompt {usage.prompt_tokens}, completion {usage.completion_tokens}, "
            f"total {usage.total_tokens} tokens",
        )
    console.print(Panel(ids, title=f"run {m.run_id[:12]}", title_align="left", expand=False))
    snapshots = output.table("snapshot", "sha256", "bytes", title="Input snapshots")
    for name, entry in sorted(m.input_snapshots.items()):
        snapshots.add_row(name, entry.sha256, str(entry.bytes))
    console.print(snapshots)
    files = output.table("artifact", "sha256", "bytes", title="Artifacts")
    for artifact in m.artifacts:
        files.add_row(artifact.path, artifact.sha256, str(artifact.bytes))
    if not m.artifacts:
        files.add_row("(none)", "", "")
    console.print(files)
    if view.preview:
        body = "\n\n".join(f"{i}. {line}" for i, line in enumerate(view.preview, start=1))
        console.print(Panel(body, title="Preview", title_align="left", expand=False), markup=False)
