"""What ``sigilctl verify`` was asked to check, turned into one VerifyResult.

RUN_DIR arguments are run directories; an argument that is not a path may also be a run_id, a
unique run_id prefix or a job id (its latest run), as ``show`` accepts. ``--all`` verifies every
published run under the artifacts tree (``--job`` narrows it to one job).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sigilctl.errors import InputError
from sigilctl.manifest import MANIFEST_NAME
from sigilctl.verify.batch import discover_runs, verify_many
from sigilctl.verify.report import RunReport, VerifyResult
from sigilctl.workspace import Workspace, check_job_id, is_path_like

# Called with (runs done, runs in total) as work completes.
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class VerifyRequest:
    """What to verify. ``workspace`` locates the workspace only when it is needed: run
    directories given as paths verify anywhere, even outside a workspace."""

    workspace: Callable[[], Workspace]
    targets: Sequence[str] = ()
    all_runs: bool = False
    job_id: str | None = None
    source: bool = False
    workers: int | None = None
    # An attestation of the one run to check, and the public key it must be signed with.
    attestation: Path | None = None
    pubkey: Path | None = None
    # With all_runs: only each job's latest run (the CI gate); jobs with no run are flagged.
    latest: bool = False


def verify(request: VerifyRequest, progress: ProgressCallback | None = None) -> VerifyResult:
    """Verify the requested runs; bad usage or a path that is no run is an InputError."""
    located = request.workspace

    if request.targets and request.all_runs:
        raise InputError("give RUN_DIR arguments or --all, not both")
    if request.job_id is not None and not request.all_runs:
        raise InputError("--job narrows --all; add --all (or give the run directory instead)")
    if request.latest and not request.all_runs:
        raise InputError("--latest narrows --all to each job's latest run; add --all")
    never_run: list[str] | None = None
    if request.all_runs and request.latest:
        run_dirs, never_run = latest_runs(located(), request.job_id)
        if not run_dirs and not never_run:
            raise InputError(f"nothing to verify: no jobs and no runs under {located().root}")
    elif request.all_runs:
        artifacts = located().artifacts
        run_dirs = discover_runs(artifacts, request.job_id)
        if not run_dirs:
            where = f"job '{request.job_id}'" if request.job_id else str(artifacts)
            raise InputError(f"nothing to verify: no runs under {where}")
    elif request.targets:
        run_dirs = [_run_dir(target, located) for target in request.targets]
    else:
        raise InputError("nothing to verify: give one or more RUN_DIR arguments, or --all")
    total = len(run_dirs)
    done = 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if progress:
            progress(done, total)

    if request.attestation is not None or request.pubkey is not None:
        _check_attestation_usage(request, run_dirs)
    reports = verify_many(run_dirs, workers=request.workers, on_progress=advance)
    if request.pubkey is not None:
        _attach_attestation(request, reports[0], located)
    if request.source:
        from sigilctl.verify.source import SourceChecker

        checker = SourceChecker(located())
        for report in reports:
            report.source = checker.check(report.run_dir)
    return VerifyResult(reports, never_run)


def latest_runs(workspace: Workspace, job_id: str | None = None) -> tuple[list[Path], list[str]]:
    """Each job's latest run (SPEC §7: latest finished_at, ties by run_id), and the jobs under
    jobs/ that have none. Jobs are those under jobs/ and those with runs under artifacts/."""
    from sigilctl.lookup import latest_run
    from sigilctl.store import RunStore, is_hidden

    store = RunStore(workspace.artifacts)
    if job_id is not None:
        check_job_id(job_id, source="--job")
        names = [job_id]
    else:
        with_runs = (
            {p.name for p in workspace.artifacts.iterdir() if p.is_dir() and not is_hidden(p.name)}
            if workspace.artifacts.is_dir()
            else set()
        )
        names = sorted(set(workspace.job_ids()) | with_runs)
    run_dirs: list[Path] = []
    never_run: list[str] = []
    for name in names:
        latest = latest_run(store, name) if (workspace.artifacts / name).is_dir() else None
        if latest is None:
            never_run.append(name)
        else:
            run_dirs.append(latest)
    return run_dirs, never_run


def _check_attestation_usage(request: VerifyRequest, run_dirs: list[Path]) -> None:
    if request.pubkey is None:
        raise InputError("--attestation needs --pubkey PEM (the key it must be signed with)")
    if request.all_runs or len(run_dirs) != 1:
        raise InputError("--attestation and --pubkey check one run: give exactly one RUN_DIR")


def _attach_attestation(
    request: VerifyRequest, report: RunReport, located: Callable[[], Workspace]
) -> None:
    """Check the run's attestation (the default one when --attestation is not given)."""
    from sigilctl.audit.attest import default_path
    from sigilctl.audit.attest_check import check_attestation

    assert request.pubkey is not None
    envelope = request.attestation
    if envelope is None:
        if report.job_id is None or report.run_id is None:
            raise InputError("--attestation FILE is needed: the run's manifest names no ids")
        envelope = default_path(located().artifacts, report.job_id, report.run_id)
        if not envelope.is_file():
            raise InputError(f"no attestation at {envelope}; give --attestation FILE")
    report.attestation = check_attestation(report.run_dir, envelope, request.pubkey)


def _run_dir(target: str, located: Callable[[], Workspace]) -> Path:
    path = Path(target)
    if path.is_dir():
        if not any((path / name).exists() for name in (MANIFEST_NAME, "inputs", "outputs")):
            raise InputError(
                f"{path} is not a run directory (it has no {MANIFEST_NAME}, inputs/ or outputs/)"
            )
        return path.absolute()
    if path.exists():
        raise InputError(f"{path} is not a run directory (it is not a folder)")
    if is_path_like(target):
        raise InputError(f"run directory {path} does not exist")
    from sigilctl.lookup import locate_run

    return locate_run(target, located())
