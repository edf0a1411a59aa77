"""``sigilctl smoke``: run the invariant suite in a temporary workspace (exit 1 if any fails)."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sigilctl.cli._options import JsonOption

if TYPE_CHECKING:
    from sigilctl.smoke import Check, CheckResult, SmokeResult


def smoke(
    patterns: Annotated[
        list[str] | None,
        typer.Option(
            "-k",
            metavar="PATTERN",
            help="Run only the checks whose name or title contains PATTERN (repeatable).",
            show_default=False,
        ),
    ] = None,
    junit_xml: Annotated[
        Path | None,
        typer.Option(
            "--junit-xml",
            metavar="PATH",
            help="Also write a JUnit XML report to PATH, for CI systems.",
            show_default=False,
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Check the invariants (identity before tracing, silent tracing failures, verify, ...)."""
    from sigilctl.cli import output
    from sigilctl.smoke import run_smoke, select
    from sigilctl.smoke.junit import write_junit

    checks = select(patterns or ())
    if json_output:
        result = run_smoke(checks)
    else:
        result = run_smoke(checks, on_start=_started, on_result=_finished)
    written = write_junit(result, junit_xml) if junit_xml is not None else None
    if json_output:
        output.emit_json(result.as_json())
    else:
        _summary(result)
    if written is not None:
        output.note(f"JUnit report written to {written}")
    if not result.ok:
        raise typer.Exit(1)


def _print(text: str, *, end: str = "\n") -> None:
    from sigilctl.cli import output

    output.stdout().print(
        text, end=end, markup=not output.is_plain(), highlight=False, soft_wrap=True
    )


def _text(text: str) -> str:
    """Text shown as is: escaped where rich markup is on (details may hold brackets)."""
    from rich.markup import escape

    from sigilctl.cli import output

    return text if output.is_plain() else escape(text)


def _started(index: int, total: int, check: "Check") -> None:
    _print(_text(f"[{index}/{total}] {check.title} ... "), end="")


def _finished(index: int, total: int, result: "CheckResult") -> None:
    from sigilctl.cli import output

    verdict = "PASS" if result.ok else "FAIL"
    if not output.is_plain():
        verdict = f"[green]{verdict}[/green]" if result.ok else f"[red]{verdict}[/red]"
    _print(f"{verdict} ({result.ms:.0f} ms)")
    if not result.ok:
        _print(_text(f"    {result.detail}"))


def _summary(result: "SmokeResult") -> None:
    from sigilctl.cli import output

    total = result.passed + result.failed
    verdict = f"all {total} checks hold" if result.ok else f"{result.failed} of {total} failed"
    _print(f"{output.mark(result.ok)} {verdict} ({result.ms / 1000:.2f} s)")
    # The closing line in the form CI systems read: "smoke: N passed, N failed".
    _print(f"smoke: {result.passed} passed, {result.failed} failed")
