"""Find a run from what an operator types: a run dir, a run_id, a unique prefix, or a job id.

Order (SPEC §7): anything path-like is a run directory; otherwise a full run_id, then a job id
(its latest run: latest ``finished_at``, ties by run_id), then a unique run_id prefix (≥ 6).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from sigilctl.errors import InputError, SigilError
from sigilctl.manifest import MANIFEST_NAME
from sigilctl.run_files import PathIssue, RunFolder, UnsafeRunPath
from sigilctl.store import RunStore
from sigilctl.workspace import Workspace, is_path_like

MIN_PREFIX = 6
_HEX = re.compile(r"^[0-9a-f]+$")


def locate_run(ref: str, workspace: Workspace) -> Path:
    """Return the run directory ``ref`` names, or raise InputError saying why not."""
    if is_path_like(ref) or (Path(ref).is_dir() and (Path(ref) / MANIFEST_NAME).is_file()):
        path = Path(ref)
        if not (path / MANIFEST_NAME).is_file():
            raise InputError(f"{path} is not a run directory (no {MANIFEST_NAME})")
        # Not resolve(): a run folder that is a link must stay visible as one (run_files).
        return Path(os.path.abspath(path))
    store = RunStore(workspace.artifacts)
    if (workspace.artifacts / ref).is_dir() and not ref.startswith((".", "_")):
        if (workspace.artifacts / ref).is_symlink():
            raise UnsafeRunPath(
                PathIssue.SYMLINK,
                "..",
                f"the job folder {workspace.artifacts / ref} is a symbolic link; runs are never "
                "read through one (`sigilctl verify --all` names it)",
            )
        latest = latest_run(store, ref)
        if latest is None:
            raise InputError(f"job '{ref}' has no runs under {workspace.artifacts}")
        return latest
    if not _HEX.match(ref):
        raise InputError(f"no run or job named '{ref}' under {workspace.artifacts}")
    if len(ref) < MIN_PREFIX:
        raise InputError(f"run_id prefix '{ref}' is too short (at least {MIN_PREFIX} characters)")
    matches = [p for p in store.iter_run_dirs() if p.name.startswith(ref)]
    if not matches:
        raise InputError(f"no run whose run_id starts with '{ref}' under {workspace.artifacts}")
    if len({p.name for p in matches}) > 1:
        names = ", ".join(sorted({p.name for p in matches})[:5])
        raise InputError(f"run_id prefix '{ref}' is ambiguous ({names}); give more characters")
    if len(matches) > 1:
        jobs = ", ".join(p.parent.name for p in matches)
        raise InputError(
            f"run_id '{matches[0].name}' exists under several jobs ({jobs}); give the run dir"
        )
    return matches[0]


def latest_run(store: RunStore, job_id: str) -> Path | None:
    """The run of ``job_id`` that finished last (ties broken by run_id).

    Runs whose manifest cannot be read from inside the run (missing, corrupt, a link) are
    passed over: their finished_at is unknown, and ``verify`` names them.
    """
    best: tuple[str, str] | None = None
    best_dir: Path | None = None
    for run_dir in store.iter_run_dirs(job_id):
        try:
            with RunFolder.open(run_dir) as folder:
                raw = folder.read_json(MANIFEST_NAME)
        except (SigilError, OSError, ValueError):
            continue
        finished = raw.get("finished_at") if isinstance(raw, dict) else None
        key = (str(finished or ""), run_dir.name)
        if best is None or key > best:
            best, best_dir = key, run_dir
    return best_dir
