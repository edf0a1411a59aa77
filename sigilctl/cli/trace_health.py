"""``sigilctl trace-health``: disabled (no keys), healthy (auth check passed) or unhealthy (and
why), the spool's backlog, and with ``--probe`` proof that a trace really arrives."""

from typing import TYPE_CHECKING, Annotated

import typer

from sigilctl.cli._options import ArtifactsOption, JsonOption, RootOption
from sigilctl.text import printable

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
    probe: Annotated[
        bool,
        typer.Option(
            "--probe",
            help="Send a probe trace and wait until Langfuse returns it (exit 1 if it does not).",
        ),
    ] = False,
    probe_timeout: Annotated[
        float,
        typer.Option(
            "--probe-timeout", min=0.5, max=600, help="Seconds to wait for the probe trace."
        ),
    ] = 30.0,
    root: RootOption = None,
    artifacts: ArtifactsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Check the Langfuse connection: exit 0 healthy or disabled, 1 unhealthy."""
    from sigilctl.cli import output
    from sigilctl.observability.health import check_health
    from sigilctl.observability.settings import spool_dir
    from sigilctl.observability.spool import TraceSpool
    from sigilctl.workspace import Workspace

    spool = TraceSpool(spool_dir(Workspace.locate(root, artifacts).artifacts))
    report = check_health(
        timeout, spool=spool.status(), with_probe=probe, probe_timeout_s=probe_timeout
    )
    if json_output:
        output.emit_json(report.as_json())
    else:
        render(report)
    code = report.exit_code(require=require)
    if code:
        raise typer.Exit(code)


def render(report: "HealthReport") -> None:
    from sigilctl.cli import output
    from sigilctl.cli.traces import describe_status

    console = output.stdout()
    rows = [("status", output.status_text(report.status)), ("host", printable(report.host or "?"))]
    if report.status == "disabled":
        rows.append(("reason", report.error or "?"))
    if report.latency_ms is not None:
        rows.append(("latency", f"{report.latency_ms:.1f} ms"))
    if report.sdk_version:
        rows.append(("sdk", f"langfuse {report.sdk_version}"))
    if report.status == "unhealthy" and report.error:
        rows.append(("error", report.error))
    if report.spool is not None:
        rows.append(("spool", printable(describe_status(report.spool))))
    if report.probe is not None:
        probe = report.probe
        verdict = "delivered" if probe.delivered else f"NOT delivered ({probe.error})"
        rows.append(("probe", f"trace {probe.trace_id}: {verdict} in {probe.seconds:.2f} s"))
    width = max(len(key) for key, _ in rows)
    for key, value in rows:
        console.print(f"{key:<{width}}  {value}", markup=not output.is_plain(), highlight=False)
