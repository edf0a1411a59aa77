"""Option types shared by every command, defined once (flag > environment > default)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

RootOption = Annotated[
    Path | None,
    typer.Option(
        "--root",
        help="Workspace root holding jobs/ (default: $SIGILCTL_ROOT, else the current folder).",
        show_default=False,
    ),
]
ArtifactsOption = Annotated[
    Path | None,
    typer.Option(
        "--artifacts",
        help="Artifacts tree (default: $SIGILCTL_ARTIFACTS, else <root>/artifacts).",
        show_default=False,
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON document on stdout and nothing else.")
]

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help=(
            "Run index: a SQLite file path or a postgresql:// URL (default: $SIGILCTL_INDEX, "
            "else <artifacts>/.sigilctl/index.sqlite)."
        ),
        show_default=False,
    ),
]
