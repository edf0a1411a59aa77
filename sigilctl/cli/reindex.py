"""``sigilctl reindex``: rebuild the run index from manifests alone, atomically."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sigilctl.cli._options import ArtifactsOption, JsonOption, RootOption

if TYPE_CHECKING:
    from sigilctl.index.build import ReindexResult

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help="Index file (default: $SIGILCTL_INDEX, else <artifacts>/.sigilctl/index.sqlite).",
        show_default=False,
    ),
]
PROGRESS_MIN_RUNS = 500


def reindex(
    root: RootOption = None,
    artifacts: ArtifactsOption = None,
    db: DbOption = None,
    json_output: JsonOption = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 if any run directory was skipped.")
    ] = False,
) -> None:
    """Rebuild the run index from every manifest; unreadable ones are skipped and named."""
    from sigilctl import output
    from sigilctl.index import default_db_path
    from sigilctl.index.build import reindex as rebuild
    from sigilctl.workspace import Workspace

    workspace = Workspace.locate(root, artifacts)
    with progress_bar("indexing runs") as progress:
        result = rebuild(workspace.artifacts, default_db_path(workspace.artifacts, db), progress)
    if json_output:
        output.emit_json(result.as_json())
    else:
        render(result)
    if strict and result.skipped:
        raise typer.Exit(1)


@contextlib.contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr for long rebuilds, only when stderr is a terminal."""
    import sys

    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress

    from sigilctl import output

    with Progress(console=output.stderr(), transient=True) as bar:
        task = bar.add_task(label, total=None, visible=False)

        def advance(done: int, total: int) -> None:
            if total >= PROGRESS_MIN_RUNS and (done % 50 == 0 or done == total):
                bar.update(task, completed=done, total=total, visible=True)

        yield advance


def render(result: ReindexResult) -> None:
    from sigilctl import output

    for skipped in result.skipped:
        output.warning(f"skipped {skipped.path}: {skipped.reason}")
    output.stdout().print(
        f"indexed {result.indexed} run(s), skipped {len(result.skipped)}, "
        f"in {result.seconds:.2f} s → {result.db}",
        markup=False,
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command("reindex")(reindex)
