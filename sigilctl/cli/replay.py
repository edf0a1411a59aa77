"""``sigilctl replay RUN``: re-execute a run from its own snapshots and compare (exit 1 if not
identical)."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sigilctl.cli._options import ArtifactsOption, JsonOption, RootOption

if TYPE_CHECKING:
    from sigilctl.audit.replay import ReplayResult


def replay(
    run: Annotated[str, typer.Argument(help="A run dir, a run_id, a unique prefix or a job id.")],
    provider: Annotated[
        str | None,
        typer.Option(
            "--provider",
            help="offline: replay a model run's prompt only (no call). Default: the run's own.",
            show_default=False,
        ),
    ] = None,
    keep: Annotated[
        Path | None,
        typer.Option("--keep", help="Keep the replay in this new folder.", show_default=False),
    ] = None,
    root: RootOption = None,
    artifacts: ArtifactsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Rebuild a run's prompt and outputs from its inputs/ alone and compare them."""
    from sigilctl.audit.replay import replay_run
    from sigilctl.cli import output
    from sigilctl.lookup import locate_run
    from sigilctl.workspace import Workspace

    # A run given as a folder needs no jobs/: it may be a copy far from its workspace.
    run_dir = locate_run(run, Workspace.locate(root, artifacts))
    result = replay_run(run_dir, provider=provider, keep=keep)
    if json_output:
        output.emit_json(result.as_json())
    else:
        render(result)
    if not result.identical:
        raise typer.Exit(1)


def render(result: "ReplayResult") -> None:
    from sigilctl.cli import output
    from sigilctl.text import printable

    console = output.stdout()

    def say(text: str) -> None:
        console.print(printable(text), markup=False, highlight=False, soft_wrap=True)

    prompt = {True: "identical", False: "DIFFERENT", None: "not comparable"}[
        result.prompt_identical
    ]
    say(f"run_id         {result.run_id}")
    say(f"replay run_id  {result.replay_run_id}")
    say(f"provider       {result.provider}" + (" (prompt only)" if result.prompt_only else ""))
    say(f"prompt         {prompt}")
    for path, status in sorted(result.outputs.items()):
        say(f"output         {path}: {status}")
    for problem in result.problems:
        say(f"problem        {problem}")
    if result.error:
        say(f"error          {result.error}")
    if result.kept:
        say(f"kept in        {result.kept}")
    verdict = "identical" if result.identical else "NOT identical"
    console.print(f"{output.mark(result.identical)} replay {verdict}", markup=not output.is_plain())
