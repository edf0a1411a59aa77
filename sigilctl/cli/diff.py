"""``sigilctl diff A B``: which inputs of two runs differ, where (JSON Patch), and which outputs."""

from typing import TYPE_CHECKING, Annotated, Any

import typer

from sigilctl.cli._options import ArtifactsOption, JsonOption, RootOption

if TYPE_CHECKING:
    from sigilctl.audit.diff import Change, RunDiff

VALUE_CHARS = 100


def diff(
    run_a: Annotated[
        str, typer.Argument(metavar="A", help="A run (dir, run_id, unique prefix or job id).")
    ],
    run_b: Annotated[
        str | None,
        typer.Argument(metavar="B", help="The run to compare with (omit with --source)."),
    ] = None,
    source: Annotated[
        bool,
        typer.Option("--source", help="Compare A with what its job in jobs/ resolves to now."),
    ] = False,
    root: RootOption = None,
    artifacts: ArtifactsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show which input snapshots differ (RFC 6902 patches) and which outputs (exit 1 if inputs
    differ)."""
    from sigilctl.audit.diff import diff_runs, diff_source
    from sigilctl.audit.loaded import load_run
    from sigilctl.cli import output
    from sigilctl.errors import InputError
    from sigilctl.lookup import locate_run
    from sigilctl.workspace import Workspace

    if source == (run_b is not None):
        raise InputError("give two runs (A B), or one run with --source")
    workspace = Workspace.locate(root, artifacts)
    first = load_run(locate_run(run_a, workspace))
    if run_b is None:
        result = diff_source(first, workspace)
    else:
        result = diff_runs(first, load_run(locate_run(run_b, workspace)))
    for warning in result.warnings:
        output.warning(warning)
    if json_output:
        output.emit_json(result.as_json())
    else:
        render(result)
    if not result.same_inputs:
        raise typer.Exit(1)


def render(result: "RunDiff") -> None:
    from sigilctl.cli import output
    from sigilctl.text import printable

    console = output.stdout()

    def say(text: str = "") -> None:
        console.print(printable(text), markup=False, highlight=False, soft_wrap=True)

    changed = [s for s in result.snapshots.values() if s.status != "same"]
    say(f"a  {result.a_label}")
    say(f"b  {result.b_label}")
    if result.same_inputs:
        say(f"inputs: same ({len(result.snapshots)} snapshots, run_id {result.a})")
    else:
        say(f"inputs: differ ({len(changed)} of {len(result.snapshots)} snapshots)")
    for name, snapshot in sorted(result.snapshots.items()):
        if snapshot.status == "same":
            continue
        say()
        say(f"{name}: {snapshot.status}")
        for change in snapshot.changes:
            for line in _change_lines(change):
                say(f"  {line}")
    same = [name for name, s in sorted(result.snapshots.items()) if s.status == "same"]
    if same and not result.same_inputs:
        say()
        say(f"same: {', '.join(same)}")
    if result.outputs:
        say()
        say("outputs:")
        width = max(len(path) for path in result.outputs)
        for path, status in sorted(result.outputs.items()):
            say(f"  {path:<{width}}  {status}")


def _change_lines(change: "Change") -> list[str]:
    head = f"{change.op} {change.path or '/'}"
    if change.op in ("move", "copy"):
        return [f"{head} (from {change.from_path})"]
    delta = change.text_delta()
    if delta is not None:
        return [f"{head}:", *(f"    {line}" for line in delta)]
    if change.op == "replace":
        return [f"{head}: {_short(change.old)} → {_short(change.new)}"]
    if change.op == "remove":
        return [f"{head} (was {_short(change.old)})"]
    return [f"{head}: {_short(change.new)}"]


def _short(value: Any) -> str:
    import orjson

    text = orjson.dumps(value).decode()
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"
