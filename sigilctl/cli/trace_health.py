"""``sigilctl trace-health``: disabled (no keys), healthy (auth check passed) or unhealthy."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from sigilctl.cli._options import JsonOption

if TYPE_CHECKING:
    from sigilctl.observability.health import HealthReport


def trace_health(
    require: Annotated[
        bool, typer.Option("--require", help="Exit 1 when tracing is disabled (keys missing).")
    ] = False,
    timeout: Annotated[
        float,
        typer.Option("--timeout", min=0.1, max=120, help="Give up on the check after S seconds."),
    ] = 5.0,
    json_output: JsonOption = False,
) -> None:
    """Check the Langfuse connection: exit 0 healthy or disabled, 1 unhealthy."""
    from sigilctl.cli import output
    from sigilctl.observability.health import check_health

    report = check_health(timeout)
    if json_output:
        output.emit_json(report.as_json())
    else:
        render(report)
    code = report.exit_code(require=require)
    if code:
        raise typer.Exit(code)


def render(report: HealthReport) -> None:
    from sigilctl.cli import output

    console = output.stdout()
    rows = [("status", output.status_text(report.status)), ("host", report.host or "?")]
    if report.status == "disabled":
        rows.append(("reason", report.error or "?"))
    if report.latency_ms is not None:
        rows.append(("latency", f"{report.latency_ms:.1f} ms"))
    if report.sdk_version:
        rows.append(("sdk", f"langfuse {report.sdk_version}"))
    if report.status == "unhealthy" and report.error:
        rows.append(("error", report.error))
    width = max(len(key) for key, _ in rows)
    for key, value in rows:
        console.print(f"{key:<{width}}  {value}", markup=not output.is_plain(), highlight=False)
