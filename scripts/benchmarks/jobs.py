"""``sigilctl jobs`` and ``verify --all --source --latest`` over a generated 1,000-job workspace.

The workspace is what a content team has after a while: three brands, one (northwind) shared by
52 % of the jobs through its doctrine and a folder of ten context files; every job run once,
some briefs edited and run again (so jobs have older runs), some runs forced (executions in
history), and finally one shared northwind context file edited without a new run (so the jobs
that retrieve it are stale). The baseline is re-resolving the same jobs in a plain loop
(``resolve_job`` + ``compute_identity`` per job), the least any status check must do; ours
also finds each job's latest run, reads it, and names what changed for the stale ones.
"""

from __future__ import annotations

import random
import shutil
import tempfile
from pathlib import Path

from benchmarks import Row, best_of
from sigilctl.identity import compute_identity
from sigilctl.resolve import resolve_job
from sigilctl.workspace import Workspace, brief_path_for

BRANDS = ("northwind", "acme", "globex")
WORDS = (
    "audit", "provenance", "cache", "launch", "autumn", "voice", "evidence", "trace", "run",
    "brief", "doctrine", "context", "retrieval", "caption", "honest", "proof", "model", "seed",
)  # fmt: skip


def brand_of(index: int, count: int) -> str:
    return "northwind" if index < count * 0.52 else BRANDS[1 + index % 2]


def job_id(index: int, count: int) -> str:
    return f"{brand_of(index, count)[:2]}-autumn-{index:04d}"


def generate(root: Path, count: int, seed: int = 7) -> Workspace:
    """A workspace of ``count`` offline jobs over three brands (no runs yet)."""
    rng = random.Random(seed)
    jobs = root / "jobs"
    for brand in BRANDS:
        folder = jobs / "_brands" / brand
        (folder / "context").mkdir(parents=True)
        (folder / "doctrine.md").write_text(
            f"# {brand} voice\n\nWe write plainly and never promise what a record cannot show.\n"
        )
        for n in range(10):
            words = " ".join(rng.choice(WORDS) for _ in range(180))
            (folder / "context" / f"{n:02d}.md").write_text(f"# Note {n}\n\n{words}.\n")
    for index in range(count):
        brand = brand_of(index, count)
        name = job_id(index, count)
        (jobs / name).mkdir()
        (jobs / name / "brief.yaml").write_text(
            f"job_id: {name}\njob_type: instagram_copy\nbrand: {brand}\n"
            f'doctrine: {{id: voice, version: "1.0", path: ../_brands/{brand}/doctrine.md}}\n'
            f"context:\n  paths: [../_brands/{brand}/context/*.md]\n"
            f"  query: {rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(WORDS)}\n  top_k: 3\n"
            "model: {provider: offline, name: offline-captioner, temperature: 0.7, "
            "max_tokens: 800, seed: 42}\n"
            f"params: {{topic: autumn launch number {index}, count: 3}}\n"
        )
    return Workspace.locate(root)


def with_history(workspace: Workspace, count: int) -> dict[str, int]:
    """Run every job; edit and re-run 5 % (older runs stay), force 5 % (history), then edit a
    shared northwind context file without running (its readers are stale)."""
    from sigilctl.runner import RunOptions, run_job

    options = RunOptions(trace=False)
    ids = workspace.job_ids()
    for name in ids:
        run_job(name, workspace, options)
    for name in ids[::20]:
        brief = workspace.jobs / name / "brief.yaml"
        brief.write_text(brief.read_text().replace("count: 3", "count: 2"))
        run_job(name, workspace, options)
    for name in ids[7::20]:
        run_job(name, workspace, RunOptions(trace=False, force=True))
    shared = workspace.jobs / "_brands/northwind/context/02.md"
    shared.write_text(shared.read_text() + "\nA new fact about audit provenance and cache.\n")
    from sigilctl.job_status import job_statuses

    return job_statuses(workspace).counts()


def plain_loop(workspace: Workspace) -> None:
    for name in workspace.job_ids():
        compute_identity(resolve_job(brief_path_for(name, workspace), workspace).snapshots)


def run(quick: bool) -> list[Row]:
    from sigilctl.job_status import job_statuses
    from sigilctl.verify.request import VerifyRequest, verify

    count = 200 if quick else 1000
    repeat = 3
    root = Path(tempfile.mkdtemp(prefix="sigilctl-bench-jobs-"))
    try:
        workspace = generate(root, count)
        states = with_history(workspace, count)
        runs = sum(1 for _ in workspace.artifacts.glob("*/*/manifest.json"))
        base = best_of(lambda: plain_loop(workspace), repeat)
        ours = best_of(lambda: job_statuses(workspace), repeat)
        request = VerifyRequest(lambda: workspace, all_runs=True, source=True, latest=True)
        gate = best_of(lambda: verify(request), repeat)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    shape = f"{count} jobs, {runs} runs; " + ", ".join(f"{n} {s}" for s, n in states.items())
    return [
        Row(
            f"jobs core, {count} jobs with history",
            ours,
            "re-resolve every job, plain loop",
            base,
            goal="< 1",
            extra=shape,
        ),
        Row(
            f"verify --all --source --latest core, {count} jobs",
            gate,
            "re-resolve every job, plain loop",
            base,
            goal="< 1.5",
        ),
    ]
