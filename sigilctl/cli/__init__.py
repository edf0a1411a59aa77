"""The command line: one thin module per command, and one ``main()`` that maps errors to exits.

Command modules import only typer and the shared option types at import time; each imports its
core module inside the command body, so ``sigilctl --help`` stays as fast as typer itself.
Exit codes (SPEC §7): 0 ok, 1 the thing checked is not ok, 2 bad input or usage.
"""

import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import Annotated

import typer

from sigilctl import __version__
from sigilctl.cli import attest as attest_cmd
from sigilctl.cli import check as check_cmd
from sigilctl.cli import diff as diff_cmd
from sigilctl.cli import export as export_cmd
from sigilctl.cli import gc as gc_cmd
from sigilctl.cli import jobs as jobs_cmd
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
    if verbose:  # run_cli takes -v from anywhere on the line; this is its --help entry
        state.verbose = True
        from sigilctl import logs

        logs.set_verbose(True)


# In the order an operator meets them: (name, function, one line for the command list).
COMMANDS: tuple[tuple[str, Callable[..., None], str], ...] = (
    ("jobs", jobs_cmd.jobs, "Every job: current, stale (what changed), failed, never run."),
    ("check", check_cmd.check, "Validate jobs; the run_id, cache hit, prompt. Writes nothing."),
    ("run", run_cmd.run, "Run jobs, -j N at a time (a cache hit when nothing changed)."),
    ("show", show_cmd.show, "Show one run as its manifest records it."),
    ("verify", verify_cmd.verify, "Recompute every hash; name drift and tampering."),
    ("runs", runs_cmd.runs, "List runs from the index."),
    ("reindex", reindex_cmd.reindex, "Rebuild the run index from the manifests."),
    ("stats", stats_cmd.stats, "Runs, outcomes, tokens and cost per job, brand, type or day."),
    ("gc", gc_cmd.gc, "Delete history executions (never a current run)."),
    ("trace-health", trace_health_cmd.trace_health, "Is Langfuse disabled, healthy or unhealthy?"),
    ("smoke", smoke_cmd.smoke, "Check the invariants in a temporary workspace."),
    ("diff", diff_cmd.diff, "Which inputs and outputs of two runs differ, and where."),
    ("replay", replay_cmd.replay, "Re-execute a run from its own inputs and compare."),
    ("attest", attest_cmd.attest, "Sign a run's provenance (in-toto, DSSE); make keys."),
    ("export", export_cmd.export, "Archive a run with its history and attestation."),
    ("pipelines", pipelines_cmd.pipelines, "List the registered job types and their params."),
    ("schema", schema_cmd.schema, "Print the JSON Schema of the brief or manifest."),
    ("serve", serve_cmd.serve, "Serve the HTTP API (runs queued work)."),
    ("worker", worker_cmd.worker, "Execute queued runs from the broker."),
    ("submit", submit_cmd.submit, "Queue a run on the broker; --wait follows it."),
)
# Command groups: (name, the group's app, one line); `--help` lists them after the commands.
GROUPS = (("traces", traces_cmd.app, "Re-send or inspect spooled traces."),)
for _name, _function, _summary in COMMANDS:
    app.command(_name, short_help=_summary)(_function)
for _group, _app, _line in GROUPS:
    app.add_typer(_app, name=_group, short_help=_line)


def run_cli(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code; every error becomes one sentence on stderr.

    ``-v`` may stand anywhere before ``--`` (``sigilctl -v run x`` or ``sigilctl run x -v``).
    Usage errors (an unknown command or option) get the same ``sigilctl: error:`` line as any
    other error, with click's "did you mean" when there is one. A reader that closes the pipe
    early (``sigilctl runs | head``) ends the command quietly with 0.
    """
    from sigilctl.errors import SigilError

    args, verbose = split_verbose(list(sys.argv[1:] if argv is None else argv))
    state.verbose = verbose
    if verbose or "sigilctl.logs" in sys.modules:  # a previous in-process call may have set -v
        from sigilctl import logs

        logs.set_verbose(verbose)
    if "sigilctl.cli.output" in sys.modules:  # consoles of a previous in-process call
        sys.modules["sigilctl.cli.output"].reset()
    try:
        result = app(args=args, prog_name="sigilctl", standalone_mode=False)
    except OutputClosed:
        _silence_stdout()
        return 0
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
        if _is_parser_error(exc):
            return _parser_error(exc)
        _report(
            f"unexpected {type(exc).__name__}: {_scrub(str(exc))} (run with -v for details)", exc
        )
        return 1
    return result if isinstance(result, int) else 0


class OutputClosed(Exception):
    """stdout's reader went away (``sigilctl runs | head``): stop writing, exit 0."""


VERBOSE_FLAGS = ("-v", "--verbose")


def split_verbose(args: list[str]) -> tuple[list[str], bool]:
    """The arguments without ``-v``/``--verbose`` (before any ``--``), and whether one was
    there: the flag is global, so it may follow the command too."""
    kept: list[str] = []
    verbose = False
    for index, arg in enumerate(args):
        if arg == "--":
            kept.extend(args[index:])
            break
        if arg in VERBOSE_FLAGS:
            verbose = True
        else:
            kept.append(arg)
    return kept, verbose


def _is_parser_error(exc: Exception) -> bool:
    """An exception of typer's own command-line parser (its click is private, so it is known
    by where it comes from and what it carries, not by class)."""
    module = type(exc).__module__
    return module.startswith(("typer.", "click.")) and hasattr(exc, "exit_code")


def _parser_error(exc: Exception) -> int:
    """A usage error as one ``sigilctl: error:`` sentence; no arguments at all shows help."""
    ctx = getattr(exc, "ctx", None)
    name = type(exc).__name__
    if name == "NoArgsIsHelpError" and ctx is not None:
        typer.echo(ctx.get_help())
        return 2
    if name == "Abort":
        _report("interrupted", None)
        return 130
    format_message = getattr(exc, "format_message", None)
    message = format_message() if callable(format_message) else str(exc)
    message = " ".join(str(message).split()).rstrip(".")
    message = message.replace(". Did you mean", "; did you mean")
    message = re.sub(
        r"\((?:Possible options|Did you mean):? ([^)]*?)\??\)", r"(did you mean \1?)", message
    )
    where = ctx.command_path if ctx is not None else "sigilctl"
    prefix = f"{where.removeprefix('sigilctl').strip()}: " if where != "sigilctl" else ""
    _report(f"{prefix}{message[:1].lower()}{message[1:]} (see '{where} --help')", None)
    code = getattr(exc, "exit_code", 2)
    return code if isinstance(code, int) else 2


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's last flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real descriptor (an in-process test's capture)
        pass


def _scrub(text: str) -> str:
    from sigilctl.env import scrub

    return scrub(text)


def _report(message: str, exc: BaseException | None) -> None:
    """The error sentence; with -v the traceback before it, scrubbed of secrets and escaped
    (an exception message can quote a hostile file name or a server's echo of a key)."""
    from sigilctl.cli import output
    from sigilctl.text import printable_lines

    if state.verbose and exc is not None:
        import traceback

        detail = "".join(traceback.format_exception(exc))
        sys.stderr.write(printable_lines(_scrub(detail)))
    output.error(_scrub(message))


def main() -> None:
    sys.exit(run_cli())
