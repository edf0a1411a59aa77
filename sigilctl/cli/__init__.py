"""The command line: one thin module per command, and one ``main()`` that maps errors to exits.

Command modules import only typer and the shared option types at import time; each imports its
core module inside the command body, so ``sigilctl --help`` stays as fast as typer itself.
Exit codes (SPEC §7): 0 ok, 1 the thing checked is not ok, 2 bad input or usage.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence
from typing import Annotated

import typer

from sigilctl import __version__
from sigilctl.cli import attest as attest_cmd
from sigilctl.cli import diff as diff_cmd
from sigilctl.cli import export as export_cmd
from sigilctl.cli import gc as gc_cmd
from sigilctl.cli import pipelines as pipelines_cmd
from sigilctl.cli import reindex as reindex_cmd
from sigilctl.cli import replay as replay_cmd
from sigilctl.cli import run as run_cmd
from sigilctl.cli import runs as runs_cmd
from sigilctl.cli import schema as schema_cmd
from sigilctl.cli import serve as serve_cmd
from sigilctl.cli import show as show_cmd
from sigilctl.cli import smoke as smoke_cmd
from sigilctl.cli import stats as stats_cmd
from sigilctl.cli import submit as submit_cmd
from sigilctl.cli import trace_health as trace_health_cmd
from sigilctl.cli import traces as traces_cmd
from sigilctl.cli import verify as verify_cmd
from sigilctl.cli import worker as worker_cmd

app = typer.Typer(
    name="sigilctl",
    help="Run governed, reproducible LLM content jobs and prove what produced every output.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain click-style help: typer's rich help pulls in rich.markdown and markdown_it, which
    # doubles start-up time (measured in scripts/benchmarks/startup.py).
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class _State:
    verbose = False


state = _State()


def _version(value: bool) -> None:
    if value:
        typer.echo(f"sigilctl {__version__}")
        raise typer.Exit(0)


@app.callback()
def _global(
    verbose: Annotated[
        bool, typer.Option("-v", "--verbose", help="More detail, and tracebacks on errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Run governed, reproducible LLM content jobs and prove what produced every output."""
    state.verbose = verbose
    if verbose:
        from sigilctl import logs

        logs.set_verbose(True)


# In the order an operator meets them.
app.command("run", short_help="Run a job (a cache hit when nothing changed).")(run_cmd.run)
app.command("show", short_help="Show one run as its manifest records it.")(show_cmd.show)
app.command("verify", short_help="Recompute every hash; name drift and tampering.")(
    verify_cmd.verify
)
app.command("runs", short_help="List runs from the index.")(runs_cmd.runs)
app.command("reindex", short_help="Rebuild the run index from the manifests.")(reindex_cmd.reindex)
app.command("stats", short_help="Runs, outcomes, tokens and cost per job, brand, type or day.")(
    stats_cmd.stats
)
app.command("gc", short_help="Delete history executions (never a current run).")(gc_cmd.gc)
app.command("trace-health", short_help="Is Langfuse disabled, healthy or unhealthy?")(
    trace_health_cmd.trace_health
)
app.add_typer(traces_cmd.app, name="traces", short_help="Re-send or inspect spooled traces.")
app.command("smoke", short_help="Check the invariants in a temporary workspace.")(smoke_cmd.smoke)
app.command("diff", short_help="Which inputs and outputs of two runs differ, and where.")(
    diff_cmd.diff
)
app.command("replay", short_help="Re-execute a run from its own inputs and compare.")(
    replay_cmd.replay
)
app.command("attest", short_help="Sign a run's provenance (in-toto, DSSE); make keys.")(
    attest_cmd.attest
)
app.command("export", short_help="Archive a run with its history and attestation.")(
    export_cmd.export
)
app.command("pipelines", short_help="List the registered job types and their params.")(
    pipelines_cmd.pipelines
)
app.command("schema", short_help="Print the JSON Schema of the brief or manifest.")(
    schema_cmd.schema
)
app.command("serve", short_help="Serve the HTTP API (runs queued work).")(serve_cmd.serve)
app.command("worker", short_help="Execute queued runs from the broker.")(worker_cmd.worker)
app.command("submit", short_help="Queue a run on the broker; --wait follows it.")(submit_cmd.submit)


def run_cli(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code; every sigilctl error becomes one sentence."""
    from sigilctl.errors import SigilError

    state.verbose = False
    if "sigilctl.logs" in sys.modules:  # a previous in-process call may have set -v
        sys.modules["sigilctl.logs"].set_verbose(False)
    try:
        app(args=list(argv) if argv is not None else None, prog_name="sigilctl")
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except SigilError as exc:
        _report(str(exc), exc)
        return exc.exit_code
    except KeyboardInterrupt:
        _report("interrupted", None)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last net: one sentence, traceback with -v
        _report(
            f"unexpected {type(exc).__name__}: {_scrub(str(exc))} (run with -v for details)", exc
        )
        return 1
    return 0


def _scrub(text: str) -> str:
    from sigilctl.env import scrub

    return scrub(text)


def _report(message: str, exc: BaseException | None) -> None:
    """The error sentence; with -v the traceback before it, scrubbed of secrets and escaped
    (an exception message can quote a hostile file name or a server's echo of a key)."""
    from sigilctl.cli import output
    from sigilctl.text import printable_lines

    if state.verbose and exc is not None:
        detail = "".join(traceback.format_exception(exc))
        sys.stderr.write(printable_lines(_scrub(detail)))
    output.error(_scrub(message))


def main() -> None:
    sys.exit(run_cli())
