"""``sigilctl export RUN --out FILE.tar.gz``: the run, its history and attestation, for audit."""

from pathlib import Path
from typing import Annotated

import typer

from sigilctl.cli._options import ArtifactsOption, JsonOption, RootOption


def export(
    run: Annotated[str, typer.Argument(help="A run dir, a run_id, a unique prefix or a job id.")],
    out: Annotated[
        Path, typer.Option("--out", help="The archive to write (.tar.gz).", show_default=False)
    ],
    attestation: Annotated[
        Path | None,
        typer.Option(
            "--attestation",
            help="Include this envelope (default: the run's own, if it was attested).",
            show_default=False,
        ),
    ] = None,
    root: RootOption = None,
    artifacts: ArtifactsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Write one archive an auditor can check with sha256sum and any RFC 8785 tool."""
    from sigilctl.audit.export import export_run
    from sigilctl.cli import output
    from sigilctl.lookup import locate_run
    from sigilctl.workspace import Workspace

    workspace = Workspace.locate(root, artifacts)
    outcome = export_run(
        locate_run(run, workspace), out, artifacts=workspace.artifacts, attestation=attestation
    )
    if json_output:
        output.emit_json(outcome.as_json())
        return
    lines = [
        f"archive      {outcome.path}",
        f"run_id       {outcome.run_id}",
        f"files        {outcome.files} ({outcome.history_files} from history)",
        f"attestation  {'included' if outcome.attestation else 'none'}",
        f"verify       {'clean' if outcome.verified else 'NOT clean (see README.md inside)'}",
    ]
    output.stdout().print("\n".join(lines), markup=False, highlight=False)
