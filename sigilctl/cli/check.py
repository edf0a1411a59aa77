"""``sigilctl check JOB...``: validate briefs and say what a run would do; write nothing."""

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from sigilctl.cli._options import ArtifactsOption, JsonOption, RootOption
from sigilctl.cli.run import AllOption, JobsArgument, PromptOption, ProviderOption, WorkersOption

if TYPE_CHECKING:
    from sigilctl.check import CheckResult
    from sigilctl.prepare import RunOptions
    from sigilctl.workspace import Workspace


def check(
    job: JobsArgument = None,
    all_jobs: AllOption = False,
    workers: WorkersOption = 1,
    prompt: PromptOption = False,
    provider: ProviderOption = None,
    root: RootOption = None,
    artifacts: ArtifactsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Validate jobs without running them: the run_id each would get, whether that is a cache
    hit, the provider it would call and (--prompt) the prompt. Writes nothing: no run, lock,
    index, trace or folder. Exit 2 when a brief is invalid or its provider cannot be driven,
    1 when its run exists but fails verification.
    """
    from sigilctl.cli.run import job_refs
    from sigilctl.prepare import RunOptions

    workspace, refs = job_refs(job, all_jobs, root, artifacts)
    check_refs(
        workspace,
        refs,
        RunOptions(provider=provider),
        workers,
        with_prompt=prompt,
        json_output=json_output,
        single=len(refs) == 1 and not all_jobs,
    )


def check_refs(
    workspace: "Workspace",
    refs: list[str],
    options: "RunOptions",
    workers: int,
    *,
    with_prompt: bool,
    json_output: bool,
    single: bool | None = None,
) -> None:
    """Check each job; one job as a block, several as one line each and a summary."""
    from sigilctl.cli import output
    from sigilctl.many import check_jobs, worst_exit

    single = len(refs) == 1 if single is None else single
    results: list[CheckResult] = []
    for done, result in enumerate(
        check_jobs(refs, workspace, options, workers, with_prompt=with_prompt), start=1
    ):
        results.append(result)
        if result.error is not None:
            output.error(f"{result.job_ref}: {result.error}")
        elif result.provider_problem is not None:
            output.error(f"{result.job_id}: {result.provider_problem}")
        if not single and not json_output:
            output.line(check_line(result, done, len(refs)))
    if json_output:
        documents = [r.as_json() for r in results]
        output.emit_json(documents[0] if single else documents)
    elif single:
        render(results[0])
    else:
        output.line(summary(results))
    code = worst_exit([r.exit_code for r in results])
    if code:
        raise typer.Exit(code)


def check_line(result: "CheckResult", done: int, total: int) -> str:
    """``✓ ig-test-001  c3402d26f034  cache hit  [1/3]``."""
    from sigilctl.cli import output
    from sigilctl.cli._format import first_words, short_id

    if result.error is not None:
        text = f"✗ {result.job_ref}  invalid: {first_words(result.error, 10)}"
    else:
        mark = "✓" if result.ok else "✗"
        text = f"{mark} {result.job_id}  {short_id(result.run_id)}  {result.verdict}"
        if result.provider_problem:
            text += f" (provider not ready: {first_words(result.provider_problem, 6)})"
    return f"{output.cell(text, markup=False)}  [{done}/{total}]"


def summary(results: "list[CheckResult]") -> str:
    hits = sum(1 for r in results if r.error is None and r.cache_hit)
    would = sum(1 for r in results if r.error is None and r.verdict == "would run")
    bad = sum(1 for r in results if not r.ok)
    return f"{len(results)} job(s) checked: {hits} cache hit(s), {would} would run, {bad} not ok"


def render(result: "CheckResult") -> None:
    """The would-be run as a block: ids, verdict, provider, doctrine, context, prompt."""
    from sigilctl.cli import output
    from sigilctl.cli._format import short_id
    from sigilctl.text import printable_lines

    if result.error is not None:
        output.line(f"{output.cell(result.job_ref, markup=False)}: invalid")
        return
    provider = f"{result.provider}/{result.model}"
    if result.endpoint:
        provider += f" at {result.endpoint}"
    if result.provider_problem:
        provider += f" (not ready: {result.provider_problem})"
    doctrine = result.doctrine
    rows = [
        ("job_id", output.cell(result.job_id or "")),
        ("run_id", result.run_id or "?"),
        ("inputs_hash", result.inputs_hash or "?"),
        ("a run now", output.status_text(result.verdict or "?") + f" ({result.reason})"),
        ("run dir", output.cell(output.shown_path(result.run_dir or Path()))),
        ("provider", output.cell(provider)),
        (
            "doctrine",
            output.cell(f"{doctrine['id']} v{doctrine['version']} ({doctrine['path']})"),
        ),
    ]
    output.keyvalues(rows)
    output.heading("Context (retrieved, by rank)")
    context = output.table("rank", "score", "bytes", "file", right=("rank", "score", "bytes"))
    context.columns[3].overflow = "fold"
    for doc in result.context:
        score = f"{doc.score:.3f}" if doc.score is not None else "-"
        context.add_row(str(doc.rank), score, f"{doc.bytes:,}", output.cell(doc.path))
    output.stdout().print(context)
    output.heading("Snapshots")
    snapshots = output.table("snapshot", "sha256", "bytes", right=("bytes",))
    for name, entry in sorted(result.snapshots.items()):
        snapshots.add_row(name, short_id(entry["sha256"]) + "…", f"{entry['bytes']:,}")
    output.stdout().print(snapshots)
    if result.prompt is not None:
        output.heading("System message")
        output.line(printable_lines(result.system or ""))
        output.heading("Prompt")
        output.line(printable_lines(result.prompt))
    output.note("nothing was written (check never runs, locks, indexes or traces)")
