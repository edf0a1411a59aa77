"""Option types shared by every command, defined once (flag > environment > default)."""

from pathlib import Path
from typing import Annotated

import typer

RootOption = Annotated[
    Path | None,
    typer.Option(
        "--root",
        help="Workspace root holding jobs/ (default: $SIGILCTL_ROOT, else the nearest folder "
        "holding jobs/, walking up from the job's folder when JOB is a path, else from the "
        "current folder).",
        show_default=False,
    ),
]
ArtifactsOption = Annotated[
    Path | None,
    typer.Option(
        "--artifacts",
        help="Artifacts tree (default: $SIGILCTL_ARTIFACTS, else 'artifacts' in "
        "<root>/sigilctl.toml, else <root>/artifacts).",
        show_default=False,
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON document on stdout and nothing else.")
]


def _secret_endpoint(value: object) -> object:
    """An index URL given as ``--db`` may carry a password: the scrubber learns it first."""
    if value is not None:
        from sigilctl import env

        text = str(value)
        if "://" not in text and ":/" in text:  # a Path collapsed "scheme://" to "scheme:/"
            text = text.replace(":/", "://", 1)
        env.register_endpoint(text)
    return value


DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help=(
            "Run index: a SQLite file path or a postgresql:// URL (default: $SIGILCTL_INDEX, "
            "else 'index' in <root>/sigilctl.toml, else <artifacts>/.sigilctl/index.sqlite)."
        ),
        show_default=False,
        callback=_secret_endpoint,
    ),
]
