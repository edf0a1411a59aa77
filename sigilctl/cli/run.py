"""``sigilctl run JOB...``: resolve, freeze, identify, then execute (or reuse) each job.

One JOB prints the run as a block (``--json``: one document); several JOBs, or ``--all``, run
``-j N`` at a time and print one line per job as it finishes, then a summary (``--json``: one
list). The exit is the worst of the jobs': 2 bad input, 1 a run not succeeded, 0 all ok.
``--dry-run`` is ``sigilctl check``: what would happen, nothing written.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sigilctl.cli._options import ArtifactsOption, JsonOption, RootOption

if TYPE_CHECKING:
    from sigilctl.many import JobRun
    from sigilctl.prepare import RunOptions
    from sigilctl.run_lock import LockWait
    from sigilctl.runner import RunOutcome
    from sigilctl.workspace import Workspace

DEFAULT_LOCK_TIMEOUT_S = 3600.0  # sigilctl.run_lock.DEFAULT_LOCK_TIMEOUT_S (kept import-free)

JobsArgument = Annotated[
    list[str] | None,
    typer.Argument(
        help="Job ids, job folders or brief paths (several run -j at a time).",
        show_default=False,
    ),
]
AllOption = Annotated[bool, typer.Option("--all", help="Every job under jobs/.")]
WorkersOption = Annotated[
    int,
    typer.Option(
        "-j",
        "--jobs",
        min=1,
        max=64,
        help="How many jobs at once (a run mostly waits for the model).",
    ),
]
ProviderOption = Annotated[
    str | None,
    typer.Option(
        "--provider",
        help="Use this provider instead of the brief's (offline, openai). "
        "It is part of model_config, so it gives another run_id.",
        show_default=False,
    ),
]
PromptOption = Annotated[
    bool, typer.Option("--prompt", help="Also print the prompt the provider would be sent.")
]


def run(
    job: JobsArgument = None,
    all_jobs: AllOption = False,
    workers: WorkersOption = 1,
    root: RootOption = None,
    artifacts: ArtifactsOption = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Re-execute even a succeeded or damaged run. The new execution becomes current "
            "only if it succeeds (or the old one was damaged); the other is kept in history.",
        ),
    ] = False,
    provider: ProviderOption = None,
    no_trace: Annotated[bool, typer.Option("--no-trace", help="Do not trace this run.")] = False,
    lock_timeout: Annotated[
        float,
        typer.Option(
            "--lock-timeout",
            min=0,
            help="Seconds to wait for a concurrent run of the same inputs before giving up "
            "(exit 1).",
        ),
    ] = DEFAULT_LOCK_TIMEOUT_S,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Only say what would happen (run_id, cache hit or not); write nothing. "
            "The same as 'sigilctl check'.",
        ),
    ] = False,
    prompt: PromptOption = False,
    json_output: JsonOption = False,
) -> None:
    """Run jobs: same inputs give the same run_id, and a succeeded run is reused.

    Several JOBs (or --all) run -j at a time: one line per job as it finishes, a summary, and
    the worst exit (2 bad input, 1 a run that did not succeed); --json prints one list.
    While a model call is in flight, a terminal shows what is called on stderr.
    """
    from sigilctl.prepare import RunOptions

    workspace, refs = job_refs(job, all_jobs, root, artifacts)
    options = RunOptions(
        force=force, provider=provider, trace=not no_trace, lock_timeout=lock_timeout
    )
    if dry_run:
        from sigilctl.cli.check import check_refs

        check_refs(workspace, refs, options, workers, with_prompt=prompt, json_output=json_output)
        return
    if prompt:
        from sigilctl.errors import InputError

        raise InputError("--prompt shows what a run would send: use it with --dry-run")
    if len(refs) == 1 and not all_jobs:
        _run_single(workspace, refs[0], options, json_output)
    else:
        _run_many(workspace, refs, options, workers, json_output)


def job_refs(
    job: list[str] | None, all_jobs: bool, root: Path | None, artifacts: Path | None
) -> "tuple[Workspace, list[str]]":
    """The workspace and the JOB references to work on (checked: an unknown id is refused
    with the closest ids before anything runs)."""
    from sigilctl.cli.suggest import checked_job_ids
    from sigilctl.errors import InputError
    from sigilctl.workspace import Workspace, is_path_like

    refs = list(dict.fromkeys(job or []))
    if all_jobs and refs:
        raise InputError("give JOB arguments or --all, not both")
    if not all_jobs and not refs:
        raise InputError("nothing to do: give one or more JOBs, or --all")
    workspace = Workspace.locate(root, artifacts, job_ref=refs[0] if refs else None)
    if all_jobs:
        refs = workspace.job_ids()
        if not refs:
            raise InputError(f"nothing to do: no jobs under {workspace.jobs}")
    else:
        checked_job_ids(workspace, [ref for ref in refs if not is_path_like(ref)])
    return workspace, refs


def _run_single(workspace: "Workspace", job: str, options: "RunOptions", json_output: bool) -> None:
    from dataclasses import replace

    from sigilctl.cli import output
    from sigilctl.cli.spinner import spinning
    from sigilctl.runner import run_job

    with spinning() as on_call:
        if on_call is not None:
            options = replace(options, on_call=lambda call: on_call(job, call))
        outcome = run_job(job, workspace, options, on_lock_wait=_report_wait)
    if outcome.trace_warning:
        output.warning(outcome.trace_warning)
    if outcome.note:
        output.note(f"{outcome.note}; nothing was executed")
    if outcome.error:
        output.error(f"run {outcome.run_id} failed: {outcome.error}")
    if json_output:
        output.emit_json(outcome.as_json())
    else:
        _render(outcome)
    if outcome.status != "succeeded":
        raise typer.Exit(1)


def _run_many(
    workspace: "Workspace", refs: list[str], options: "RunOptions", workers: int, json_output: bool
) -> None:
    from sigilctl.cli import output
    from sigilctl.cli.spinner import spinning
    from sigilctl.many import run_jobs, worst_exit

    results: list[JobRun] = []
    with spinning() as on_call:
        for done, result in enumerate(run_jobs(refs, workspace, options, workers, on_call), 1):
            results.append(result)
            _report_problems(result)
            if not json_output:
                output.line(job_line(result, done, len(refs)))
    if json_output:
        output.emit_json([result.as_json() for result in results])
    else:
        output.line(summary(results))
    code = worst_exit([result.exit_code for result in results])
    if code:
        raise typer.Exit(code)


def _report_problems(result: "JobRun") -> None:
    """Every failed job is also one sentence on stderr (CI logs keep stdout as data)."""
    from sigilctl.cli import output

    outcome = result.outcome
    if outcome is None:
        output.error(f"{result.job_ref}: {result.error}")
        return
    if outcome.trace_warning:
        output.warning(f"{outcome.job_id}: {outcome.trace_warning}")
    if outcome.error:
        output.error(f"{outcome.job_id}: run {outcome.run_id} failed: {outcome.error}")


def job_line(result: "JobRun", done: int, total: int) -> str:
    """``✓ ig-test-001  c3402d26f034  succeeded (cached)  [3/20]``."""
    from sigilctl.cli import output
    from sigilctl.cli._format import first_words, short_id

    outcome = result.outcome
    counter = f"[{done}/{total}]"
    if outcome is None:
        text = f"✗ {result.job_ref}  error: {first_words(result.error, 10)}"
        return f"{output.cell(text, markup=False)}  {counter}"
    ok = outcome.status == "succeeded"
    status = outcome.status + (" (cached)" if outcome.cached else "")
    mark = "✓" if ok else "✗"
    text = f"{mark} {outcome.job_id}  {short_id(outcome.run_id)}  {status}"
    if outcome.error:
        text += f": {first_words(outcome.error, 8)}"
    return f"{output.cell(text, markup=False)}  {counter}"


def summary(results: "list[JobRun]") -> str:
    """``20 job(s): 18 succeeded (12 cached), 1 failed, 1 error``."""
    succeeded = [r for r in results if r.outcome is not None and r.outcome.status == "succeeded"]
    cached = sum(1 for r in succeeded if r.outcome is not None and r.outcome.cached)
    failed = sum(1 for r in results if r.outcome is not None and r.outcome.status != "succeeded")
    errors = sum(1 for r in results if r.outcome is None)
    parts = [f"{len(succeeded)} succeeded" + (f" ({cached} cached)" if cached else "")]
    if failed:
        parts.append(f"{failed} failed")
    if errors:
        parts.append(f"{errors} not run (bad input)")
    return f"{len(results)} job(s): {', '.join(parts)}"


def _report_wait(wait: "LockWait") -> None:
    """Say who holds the run's lock: once at first, then each time the core reports again."""
    from sigilctl.cli import output

    bound = f"giving up after {wait.timeout_s:g} s" if wait.timeout_s is not None else "no bound"
    if wait.first:
        output.note(
            f"run {wait.run_id} is locked by {wait.holder.describe()}; waiting for it "
            f"({bound}, --lock-timeout)"
        )
    else:
        output.note(
            f"still waiting after {wait.waited_s:.0f} s for run {wait.run_id}, locked by "
            f"{wait.holder.describe()} ({bound})"
        )


def _render(outcome: "RunOutcome") -> None:
    from sigilctl.cli import output

    cached = "yes (no LLM call)" if outcome.cached else "no"
    where = output.shown_path(outcome.run_dir) + (
        "" if outcome.current else " (history; the current run stays)"
    )
    rows = [
        ("job_id", outcome.job_id),
        ("run_id", outcome.run_id),
        ("inputs_hash", outcome.inputs_hash),
        ("status", output.status_text(outcome.status)),
        ("cached", cached),
        ("execution", outcome.execution_id or "?"),
        ("run dir", output.cell(where)),
        ("trace", outcome.langfuse_trace_id or "none"),
    ]
    if outcome.error:
        rows.append(("error", output.cell(outcome.error)))
    output.keyvalues(rows)
