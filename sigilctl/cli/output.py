"""The one place that writes to the terminal: data on stdout, everything else on stderr.

``--json`` prints exactly one JSON document on stdout. Human output uses rich and is plain (no
colour, no markup styling) when stdout is not a terminal or ``NO_COLOR`` is set, so pipes and CI
logs stay readable. Off a terminal the width is ``COLUMNS``, else 80, like any other program in
a pipe; tables are built so that ids are shortened, never split across lines. A reader that
goes away (``sigilctl runs | head``) ends the command quietly (``OutputClosed``). Core modules
never import this file.

Everything written here is scrubbed of secrets (sigilctl.env.scrub) as a last net, whatever a
command put in its result; text that comes from files or manifests goes into tables through
``cell()`` so control characters and rich markup in a name are shown, never obeyed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

import orjson

from sigilctl.cli import OutputClosed
from sigilctl.env import scrub
from sigilctl.text import printable

if TYPE_CHECKING:
    from rich.box import Box
    from rich.console import Console
    from rich.table import Table


DEFAULT_WIDTH = 80
_TRAILING = re.compile(r" +\n")


class _Stream:
    """The current ``sys.stdout``/``sys.stderr`` (looked up at each write, as print does); a
    closed pipe becomes OutputClosed instead of an OSError deep inside rich or typer."""

    def __init__(self, name: str) -> None:
        self._name = name

    def _stream(self) -> Any:
        return getattr(sys, self._name)

    def write(self, text: str) -> int:
        text = scrub(text)
        if " \n" in text:  # rich pads every cell: no line ends in spaces in a log or a file
            text = _TRAILING.sub("\n", text)
        with _pipe_guard():
            return int(self._stream().write(text))

    def flush(self) -> None:
        with _pipe_guard():
            self._stream().flush()

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._stream(), attribute)


@contextlib.contextmanager
def _pipe_guard() -> Iterator[None]:
    try:
        yield
    except BrokenPipeError:
        raise OutputClosed from None
    except OSError as exc:
        if exc.errno == errno.EPIPE:
            raise OutputClosed from None
        raise


def emit_json(document: Any) -> None:
    """Print one JSON document (and a newline) on stdout, nothing else."""
    data = orjson.dumps(document, default=str, option=orjson.OPT_INDENT_2)
    clean = scrub(data.decode("utf-8")).encode("utf-8")
    with _pipe_guard():
        sys.stdout.buffer.write(clean + b"\n")
        sys.stdout.flush()


def emit_csv(fields: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    """Print a CSV document (a header row, then one row per item) on stdout, nothing else.
    None is an empty cell; text from files is written as is (CSV quotes it)."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(fields), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    with _pipe_guard():
        sys.stdout.write(scrub(buffer.getvalue()))
        sys.stdout.flush()


def _plain(stream: Any) -> bool:
    return bool(os.environ.get("NO_COLOR")) or not stream.isatty()


def width_for(stream: Any) -> int | None:
    """``COLUMNS`` when set, else 80 off a terminal; None on a terminal (rich measures it)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    return None if stream.isatty() else DEFAULT_WIDTH


def _console(name: str, **options: Any) -> Console:
    from rich.console import Console

    class ScrubbingConsole(Console):
        """Scrubs every string before rich wraps it (a wrapped secret would not match)."""

        def print(self, *objects: Any, **kwargs: Any) -> None:
            super().print(*(scrub(o) if isinstance(o, str) else o for o in objects), **kwargs)

    stream = getattr(sys, name)
    plain = _plain(stream)
    return ScrubbingConsole(
        file=cast(IO[str], _Stream(name)),
        no_color=plain,
        highlight=False,
        emoji=False,
        width=width_for(stream),
        **options,
    )


@cache
def stdout() -> Console:
    """Console for the data a command shows (tables, key/value blocks)."""
    return _console("stdout")


@cache
def stderr() -> Console:
    """Console for messages, warnings, spinners and progress: never stdout."""
    return _console("stderr")


def print_unbounded(renderable: Any) -> None:
    """Print at the renderable's natural width, even past the terminal's (``--wide``)."""
    console = _console("stdout")
    console.width = 10_000
    console.print(renderable)


def reset() -> None:
    """Forget the consoles (a new command in the same process may have another width)."""
    stdout.cache_clear()
    stderr.cache_clear()


def is_plain() -> bool:
    return _plain(sys.stdout)


def width() -> int:
    """The width stdout output must fit in."""
    return stdout().width


def border() -> Box:
    """The one border style: a rule under the header, no frame (ASCII when plain)."""
    from rich import box

    if is_plain():
        return box.Box("    \n    \n -- \n    \n    \n    \n    \n    \n", ascii=True)
    return box.SIMPLE_HEAD


def table(*columns: str, title: str | None = None, right: tuple[str, ...] = ()) -> Table:
    """A table in the house style; columns named in ``right`` hold numbers (right-aligned)."""
    from rich.table import Table

    result = Table(
        title=title,
        box=border(),
        title_justify="left",
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    for column in columns:
        result.add_column(column, justify="right" if column in right else "left")
    return result


def cell(text: str, *, markup: bool = True) -> str:
    """Text from a file, manifest or index for a table cell (or a line printed with
    ``markup``): scrubbed before rich can wrap it, control characters escaped, rich markup
    brackets shown literally."""
    if not markup:
        return printable(scrub(text))
    from rich.markup import escape

    return escape(printable(scrub(text)))


def keyvalues(rows: list[tuple[str, str]]) -> None:
    """``key  value`` lines, keys padded to one width; long values wrap under the value column.
    Values are rich markup: text from files goes through ``cell()``."""
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for key, value in rows:
        grid.add_row(key, value)
    stdout().print(grid)


def shown_path(path: Path) -> str:
    """A path as an operator would type it: relative to the current folder when inside it."""
    try:
        relative = path.relative_to(Path.cwd())
    except ValueError:
        return str(path)
    return str(relative) if relative.parts else "."


def heading(text: str) -> None:
    """A section title between blocks of one command's output."""
    console = stdout()
    console.print()
    console.print(text if is_plain() else f"[bold]{text}[/bold]", markup=not is_plain())


def line(text: str) -> None:
    """One line of data on stdout, exactly as given (no markup, no wrapping)."""
    stdout().print(text, markup=False, highlight=False, soft_wrap=True)


def error(message: str) -> None:
    """One sentence on stderr, prefixed so it stands out in CI logs."""
    _stderr_line(f"sigilctl: error: {printable(scrub(message))}")


def warning(message: str) -> None:
    _stderr_line(f"sigilctl: warning: {printable(scrub(message))}")


def note(message: str) -> None:
    """A side message for humans (never stdout, so --json stays clean)."""
    _stderr_line(printable(scrub(message)))


def _stderr_line(text: str) -> None:
    with contextlib.suppress(BrokenPipeError):
        sys.stderr.write(f"{text}\n")
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
    "cached": "green",
    "failed": "red",
    "unhealthy": "red",
    "damaged": "red",
    "invalid": "red",
    "partial": "yellow",
    "stale": "yellow",
    "disabled": "yellow",
    "never run": "yellow",
    "would run": "yellow",
    "queued": "cyan",
    "running": "cyan",
}


def status_text(status: str) -> str:
    """A status word, coloured where colour is allowed."""
    if is_plain():
        return status
    colour = STATUS_COLOURS.get(status, "white")
    return f"[{colour}]{status}[/{colour}]"


@contextlib.contextmanager
def progress(label: str, min_total: int) -> Iterator[Callable[[int, int], None]]:
    """A ``(done, total)`` callback that draws a bar with its count (``120/3000``) on stderr.

    Nothing is drawn when stderr is not a terminal or the work is shorter than ``min_total``
    items, so logs and ``--json`` pipelines never see it.
    """
    if not sys.stderr.isatty():
        yield lambda done, total: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=stderr(), transient=True) as bar:
        task = bar.add_task(label, total=None, visible=False)

        def advance(done: int, total: int) -> None:
            if total >= min_total:
                bar.update(task, completed=done, total=total, visible=True)

        yield advance
