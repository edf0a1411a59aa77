"""``sigilctl schema brief|manifest``: the JSON Schemas other tools validate against."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer


class SchemaName(StrEnum):
    brief = "brief"
    manifest = "manifest"


def schema(
    name: Annotated[SchemaName, typer.Argument(help="Which schema to print.")],
) -> None:
    """Print the JSON Schema of the brief or of the manifest."""
    from sigilctl.cli import output
    from sigilctl.schemas import json_schema

    output.emit_json(json_schema(name.value))
