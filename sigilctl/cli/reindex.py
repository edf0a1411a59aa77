"""``sigilctl reindex``: rebuild the run index from manifests alone, atomically."""

from typing import TYPE_CHECKING, Annotated

import typer

from sigilctl.cli._options import ArtifactsOption, DbOption, JsonOption, RootOption

if TYPE_CHECKING:
    from sigilctl.index.build import ReindexResult

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
    from sigilctl.cli import output
    from sigilctl.index import index_location, open_index
    from sigilctl.workspace import Workspace

    workspace = Workspace.locate(root, artifacts)
    location = index_location(workspace.artifacts, db, workspace.index)
    with (
        open_index(location, workspace.artifacts) as index,
        output.progress("indexing runs", PROGRESS_MIN_RUNS) as advance,
    ):
        result = index.reindex(advance)
    if json_output:
        output.emit_json(result.as_json())
    else:
        render(result)
    if strict and result.skipped:
        raise typer.Exit(1)


def render(result: "ReindexResult") -> None:
    from sigilctl.cli import output

    for skipped in result.skipped:
        output.warning(f"skipped {skipped.path}: {skipped.reason}")
    output.stdout().print(
        f"indexed {result.indexed} run(s), skipped {len(result.skipped)}, "
        f"in {result.seconds:.2f} s → {result.db}",
        markup=False,
        highlight=False,
    )
