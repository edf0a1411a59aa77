"""``sigilctl schema brief|manifest``: the JSON Schemas other tools validate against."""

from enum import StrEnum
from typing import Annotated

import typer

from sigilctl.cli._options import JsonOption


class SchemaName(StrEnum):
    brief = "brief"
    manifest = "manifest"


def schema(
    name: Annotated[SchemaName, typer.Argument(help="Which schema to print.")],
    json_output: JsonOption = False,
) -> None:
    """Print the JSON Schema of the brief (with each job type's params) or of the manifest.

    The output is always JSON; --json is accepted like on every other command.
    """
    from sigilctl.cli import output
    from sigilctl.schemas import schema_document

    document = schema_document(name.value)
    for warning in document.warnings:
        output.warning(f"left out of the schema: {warning}")
    output.emit_json(document.schema)
