"""Step 7 under the run_id's lock: reuse the current run, report one, refuse, or execute.

The rules (SPEC §8): a verified succeeded run is a cache hit; a run that fails verification is
never re-executed silently; a failed run is retried. And exactly once for failures too: when
another process executed this run_id while this one waited for the lock, its result is reported
instead of calling the model again. ``decide`` is a pure function of what was found.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from sigilctl.history import executions_seen, summarize


class Action(StrEnum):
    REUSE = "reuse"  # a verified succeeded current run: a cache hit, no call
    REPORT = "report"  # another process executed this run_id while we waited: report that
    REFUSE = "refuse"  # the current run fails verification: the operator must decide
    EXECUTE = "execute"


class Placement(StrEnum):
    """Where a new execution goes once built."""

    FIRST = "first"  # no current run: it becomes current
    REPLACE = "replace"  # it becomes current; the current one moves to history
    REPLACE_IF_SUCCEEDED = "replace_if_succeeded"  # a failed one goes to history instead


@dataclass(frozen=True)
class CurrentRun:
    """What sits at ``<job_id>/<run_id>/`` now, judged by ``verify``."""

    run_dir: Path
    exists: bool
    status: str | None = None
    problems: tuple[str, ...] = ()

    @property
    def verified(self) -> bool:
        return self.exists and not self.problems

    @property
    def verified_success(self) -> bool:
        return self.verified and self.status == "succeeded"


@dataclass(frozen=True)
class Arrival:
    """An execution published while this process waited for the lock."""

    execution_id: str
    run_dir: Path
    status: str | None


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str
    run_dir: Path | None = None  # REUSE/REPORT: the execution reported
    placement: Placement | None = None  # EXECUTE: where the new execution goes
    problems: tuple[str, ...] = field(default_factory=tuple)  # REFUSE: what verify found


def inspect_current(run_dir: Path) -> CurrentRun:
    from sigilctl.verify import verify_run

    if not run_dir.is_dir() and not run_dir.is_symlink():
        return CurrentRun(run_dir, exists=False)
    report = verify_run(run_dir)
    problems = tuple(f"{p.kind.value}: {p.message}" for p in report.problems)
    return CurrentRun(run_dir, exists=True, status=report.status, problems=problems)


def arrivals(before: Mapping[str, Path], job_dir: Path, run_id: str) -> list[Arrival]:
    """Executions published since ``before`` was taken that started after all of it.

    Execution ids sort by start time and executions of one run_id are serialized by its lock,
    so an execution that ran while we waited starts after every one we had seen; an older one
    appearing (a displaced execution a repair moved to history) is not an arrival.
    """
    newest = max(before, default="")
    found = []
    for execution_id, path in executions_seen(job_dir, run_id).items():
        if execution_id not in before and execution_id > newest:
            found.append(Arrival(execution_id, path, summarize(path, current=False).status))
    return sorted(found, key=lambda a: a.execution_id)


def decide(current: CurrentRun, arrived: list[Arrival], *, force: bool) -> Decision:
    """What to do with this run_id, from what is there now and what arrived while waiting."""
    if current.verified_success and not force:
        return Decision(Action.REUSE, "a verified succeeded run exists", current.run_dir)
    if arrived:
        latest = arrived[-1]
        return Decision(
            Action.REPORT,
            f"another process executed this run while this one waited ({latest.status})",
            latest.run_dir,
        )
    if current.exists and not current.verified and not force:
        return Decision(
            Action.REFUSE, "the run fails verification", current.run_dir, problems=current.problems
        )
    if not current.exists:
        return Decision(Action.EXECUTE, "no run yet", placement=Placement.FIRST)
    if current.verified_success:
        return Decision(
            Action.EXECUTE, "forced re-execution", placement=Placement.REPLACE_IF_SUCCEEDED
        )
    why = "a damaged run, forced" if not current.verified else f"retrying a {current.status} run"
    return Decision(Action.EXECUTE, why, placement=Placement.REPLACE)
