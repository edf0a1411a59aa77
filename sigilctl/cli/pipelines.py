"""``sigilctl pipelines``: the registered job types, their versions, packages and params."""

from typing import TYPE_CHECKING, Annotated

import typer

from sigilctl.cli._options import JsonOption

if TYPE_CHECKING:
    from sigilctl.pipelines.catalog import Catalog


def pipelines(
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 when a registered job type cannot be loaded.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """List the registered job types; a plugin that fails to load is listed with its error."""
    from sigilctl.cli import output
    from sigilctl.pipelines.catalog import catalog

    result = catalog()
    if json_output:
        output.emit_json(result.as_json())
    else:
        render(result)
    if check and not result.ok:
        raise typer.Exit(1)


def render(result: "Catalog") -> None:
    from rich.markup import escape

    from sigilctl.cli import output
    from sigilctl.text import printable

    def text(value: str) -> str:
        shown = printable(value)
        return shown if output.is_plain() else escape(shown)

    if not result.entries:
        output.note("no job types are registered (is sigilctl installed? pip install -e .)")
        return
    table = output.table("job type", "version", "package", "outputs", "params")
    for entry in result.entries:
        if entry.error is not None:
            table.add_row(
                text(entry.name),
                "-",
                text(entry.package),
                "-",
                output.status_text("failed") + ": " + text(entry.error),
            )
            continue
        table.add_row(
            entry.name,
            entry.version or "?",
            text(entry.package),
            text(", ".join(entry.outputs)),
            text(", ".join(entry.params_summary())),
        )
    console = output.stdout()
    console.print(table, markup=not output.is_plain(), highlight=False)
    for entry in result.entries:
        if entry.error is not None:
            output.warning(entry.error)
