"""The one place that writes to the terminal: data on stdout, everything else on stderr.

``--json`` prints exactly one JSON document on stdout. Human output uses rich and is plain (no
colour, no markup styling) when stdout is not a terminal or ``NO_COLOR`` is set, so pipes and CI
logs stay readable. Core modules never import this file.

Everything written here is scrubbed of secrets (sigilctl.env.scrub) as a last net, whatever a
command put in its result; text that comes from files or manifests goes into tables through
``cell()`` so control characters and rich markup in a name are shown, never obeyed.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from functools import cache
from typing import IO, TYPE_CHECKING, Any, cast

import orjson

from sigilctl.env import scrub
from sigilctl.text import printable

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table


PLAIN_WIDTH = 160


def emit_json(document: Any) -> None:
    """Print one JSON document (and a newline) on stdout, nothing else."""
    data = orjson.dumps(document, default=str, option=orjson.OPT_INDENT_2)
    clean = scrub(data.decode("utf-8"))
    sys.stdout.buffer.write(clean.encode("utf-8") + b"\n")
    sys.stdout.flush()


class _ScrubbedStream:
    """The current ``sys.stdout``/``sys.stderr`` (looked up at each write, as print does),
    with every write scrubbed of secrets."""

    def __init__(self, name: str) -> None:
        self._name = name

    def _stream(self) -> Any:
        return getattr(sys, self._name)

    def write(self, text: str) -> int:
        return int(self._stream().write(scrub(text)))

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._stream(), attribute)


def cell(text: str, *, markup: bool = True) -> str:
    """Text from a file, manifest or index for a rich table (or a line printed with ``markup``):
    scrubbed before rich can wrap it, control characters escaped, markup brackets literal."""
    if not markup:
        return printable(scrub(text))
    from rich.markup import escape

    return escape(printable(scrub(text)))


def _console(stream: str, **options: Any) -> Console:
    """A rich console on ``sys.<stream>`` that scrubs every string it is asked to print
    before wrapping it (a wrapped secret would no longer match), and every write after."""
    from rich.console import Console

    class ScrubbingConsole(Console):
        def print(self, *objects: Any, **kwargs: Any) -> None:
            super().print(*(scrub(o) if isinstance(o, str) else o for o in objects), **kwargs)

    return ScrubbingConsole(file=cast(IO[str], _ScrubbedStream(stream)), **options)


def _plain(stream: Any) -> bool:
    return bool(os.environ.get("NO_COLOR")) or not stream.isatty()


@cache
def stdout() -> Console:
    """Console for the data a command shows (tables, panels)."""
    plain = _plain(sys.stdout)
    # Off a terminal rich would assume 80 columns and cut hashes; logs want them whole.
    width = (
        None if sys.stdout.isatty() else max(PLAIN_WIDTH, int(os.environ.get("COLUMNS", 0) or 0))
    )
    return _console("stdout", no_color=plain, highlight=not plain, emoji=False, width=width)


@cache
def stderr() -> Console:
    """Console for messages, warnings and progress: never stdout."""
    plain = _plain(sys.stderr)
    return _console("stderr", no_color=plain, highlight=False, emoji=False)


def is_plain() -> bool:
    return _plain(sys.stdout)


def table(*columns: str, title: str | None = None) -> Table:
    """A table in the house style: ASCII borders when plain, so logs stay greppable."""
    from rich import box
    from rich.table import Table

    result = Table(title=title, box=box.ASCII if is_plain() else box.ROUNDED, title_justify="left")
    for column in columns:
        result.add_column(column)
    return result


def error(message: str) -> None:
    """One sentence on stderr, prefixed so it stands out in CI logs."""
    sys.stderr.write(f"sigilctl: error: {printable(scrub(message))}\n")
    sys.stderr.flush()


def warning(message: str) -> None:
    sys.stderr.write(f"sigilctl: warning: {printable(scrub(message))}\n")
    sys.stderr.flush()


def note(message: str) -> None:
    """A side message for humans (never stdout, so --json stays clean)."""
    sys.stderr.write(f"{printable(scrub(message))}\n")
    sys.stderr.flush()


def mark(ok: bool) -> str:
    """✓ / ✗ with colour where colour is allowed."""
    if is_plain():
        return "✓" if ok else "✗"
    return "[green]✓[/green]" if ok else "[red]✗[/red]"


# The one colour map: every status word any command prints (runs, jobs, health, checks).
STATUS_COLOURS = {
    "succeeded": "green",
    "current": "green",
    "healthy": "green",
    "ok": "green",
    "failed": "red",
    "unhealthy": "red",
    "damaged": "red",
    "partial": "yellow",
    "stale": "yellow",
    "disabled": "yellow",
    "never run": "yellow",
    "queued": "cyan",
    "running": "cyan",
}


def status_text(status: str) -> str:
    """A status word, coloured where colour is allowed (an unknown one, e.g. from a tampered
    manifest, is shown literally)."""
    shown = status if status in STATUS_COLOURS else cell(status)
    if is_plain():
        return shown
    colour = STATUS_COLOURS.get(status, "white")
    return f"[{colour}]{shown}[/{colour}]"


@contextlib.contextmanager
def progress(label: str, min_total: int) -> Iterator[Callable[[int, int], None]]:
    """A ``(done, total)`` callback that draws a bar on stderr for long work.

    Nothing is drawn when stderr is not a terminal or the work is shorter than ``min_total``
    items, so logs and ``--json`` pipelines never see it.
    """
    if not sys.stderr.isatty():
        yield lambda done, total: None
        return
    from rich.progress import Progress

    with Progress(console=stderr(), transient=True) as bar:
        task = bar.add_task(label, total=None, visible=False)

        def advance(done: int, total: int) -> None:
            if total >= min_total:
                bar.update(task, completed=done, total=total, visible=True)

        yield advance
