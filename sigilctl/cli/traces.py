"""``sigilctl traces flush|status``: the spool of traces Langfuse has not accepted yet (SPEC §9)."""

from typing import TYPE_CHECKING, Annotated

import typer

from sigilctl.cli._options import ArtifactsOption, JsonOption, RootOption
from sigilctl.text import printable

if TYPE_CHECKING:
    from sigilctl.observability.resend import FlushReport
    from sigilctl.observability.spool import SpoolStatus, TraceSpool

app = typer.Typer(
    name="traces",
    help="The trace spool: traces Langfuse did not accept in time, kept for re-sending.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


def _spool(root: RootOption, artifacts: ArtifactsOption) -> "TraceSpool":
    from sigilctl.observability.settings import spool_dir
    from sigilctl.observability.spool import TraceSpool
    from sigilctl.workspace import Workspace

    return TraceSpool(spool_dir(Workspace.locate(root, artifacts).artifacts))


@app.command("flush", short_help="Re-send spooled traces; remove what Langfuse accepted.")
def flush(
    root: RootOption = None,
    artifacts: ArtifactsOption = None,
    timeout: Annotated[
        float,
        typer.Option("--timeout", min=0.1, max=300, help="Seconds to wait for each answer."),
    ] = 10.0,
    json_output: JsonOption = False,
) -> None:
    """Re-send every spooled trace (original ids) to the configured Langfuse, oldest first.

    A trace leaves the spool only once Langfuse accepted it. Exit 1 if any was not accepted.
    """
    from sigilctl.cli import output
    from sigilctl.errors import InputError
    from sigilctl.observability.resend import flush_spool
    from sigilctl.observability.settings import destination, missing_keys

    spool = _spool(root, artifacts)
    target = destination()
    if target is None:
        why = " and ".join(missing_keys()) + " not set" if missing_keys() else None
        why = why or "LANGFUSE_TRACING_ENABLED=false"
        raise InputError(f"cannot send spooled traces: Langfuse is not configured ({why})")
    report = flush_spool(spool, target, timeout_s=timeout)
    if json_output:
        output.emit_json(report.as_json())
    else:
        _render_flush(report, spool)
    if not report.ok:
        raise typer.Exit(1)


def _render_flush(report: "FlushReport", spool: "TraceSpool") -> None:
    from sigilctl.cli import output

    line = f"sent {report.sent} trace(s) to {report.host}"
    if report.failed:
        line += f"; {report.failed} not accepted ({report.problem})"
    line += f"; {report.remaining} remaining in {spool.directory}"
    output.stdout().print(printable(line), markup=False, highlight=False)


@app.command("status", short_help="Show the spool's backlog.")
def status(
    root: RootOption = None,
    artifacts: ArtifactsOption = None,
    json_output: JsonOption = False,
) -> None:
    """How many traces wait in the spool, their size, the oldest, and how many were dropped."""
    from sigilctl.cli import output

    backlog = _spool(root, artifacts).status()
    if json_output:
        output.emit_json(backlog.as_json())
    else:
        render_status(backlog)


def describe_status(backlog: "SpoolStatus") -> str:
    """One line: ``3 trace(s) spooled (12.3 KB), oldest ...; 0 dropped; in <dir>``."""
    if not backlog.spooled_traces:
        text = "no trace spooled"
    else:
        text = (
            f"{backlog.spooled_traces} trace(s) spooled ({backlog.spooled_bytes / 1024:.1f} KB), "
            f"oldest {backlog.oldest}"
        )
    return f"{text}; {backlog.dropped} dropped (spool full); in {backlog.directory}"


def render_status(backlog: "SpoolStatus") -> None:
    from sigilctl.cli import output

    output.stdout().print(printable(describe_status(backlog)), markup=False, highlight=False)
