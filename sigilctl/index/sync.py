"""One run_id as the files say it is now: its current execution and its history.

``record_run`` is called after every publish, every move to history and every ``gc``; it makes
the index's rows of that run_id equal to what this module reads, so the index never keeps an
execution whose folder is gone nor misses one that was moved.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sigilctl.errors import InputError
from sigilctl.index.build import Skipped, load_place
from sigilctl.index.rows import RunRows
from sigilctl.index.walk import HISTORY_DIR, Place
from sigilctl.store import TEMP_PREFIX, TRASH_PREFIX


@dataclass
class RunState:
    """Every readable execution of one run_id, and what could not be read."""

    job_id: str
    run_id: str
    executions: list[RunRows] = field(default_factory=list)
    problems: list[Skipped] = field(default_factory=list)


def run_of(artifacts: Path, run_dir: Path) -> tuple[str, str]:
    """(job_id, run_id) of a current run folder or of one of its history folders."""
    try:
        parts = run_dir.relative_to(artifacts).parts
    except ValueError:
        raise InputError(f"{run_dir} is not under the artifacts tree {artifacts}") from None
    if len(parts) == 2 and not parts[1].startswith("."):
        return parts[0], parts[1]
    if len(parts) in (3, 4) and parts[1] == HISTORY_DIR:
        return parts[0], parts[2]
    raise InputError(f"{run_dir} is not a run folder under {artifacts}")


def read_run(artifacts: Path, job_id: str, run_id: str) -> RunState:
    """Read the current execution (if any) and every history execution of ``run_id``."""
    root = os.fspath(artifacts)
    state = RunState(job_id, run_id)
    places = []
    if os.path.isdir(f"{root}/{job_id}/{run_id}"):
        places.append(Place(job_id, run_id))
    try:
        with os.scandir(f"{root}/{job_id}/{HISTORY_DIR}/{run_id}") as entries:
            names = sorted(
                e.name
                for e in entries
                if e.is_dir(follow_symlinks=False)
                and not e.name.startswith((".", TEMP_PREFIX, TRASH_PREFIX))
            )
    except (FileNotFoundError, NotADirectoryError):
        names = []
    places += [Place(job_id, run_id, name) for name in names]
    seen: set[tuple[str, str, str]] = set()
    for place in places:
        rows, _signature, problem = load_place(root, place)
        if rows is None:
            if problem is not None:
                state.problems.append(problem)
        elif rows.key not in seen:
            seen.add(rows.key)
            state.executions.append(rows)
    return state
