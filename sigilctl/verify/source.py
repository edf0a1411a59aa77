"""``verify --source``: would the job, resolved from jobs/ today, give the run's snapshots?

Resolves exactly as ``run`` does (same resolver, same identity code) but calls no provider and
writes nothing. The provider recorded in the run's model_config snapshot is used as the
override, so a run made with ``--provider offline`` is compared with an offline resolution.
Like ``dvc status``, but proven by hashes: a changed snapshot is named, not guessed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from sigilctl.errors import SigilError
from sigilctl.identity import compute_identity
from sigilctl.manifest import MANIFEST_NAME
from sigilctl.resolve import resolve_job
from sigilctl.run_files import RunFolder, is_plain_path
from sigilctl.verify.report import SourceReport
from sigilctl.workspace import Workspace, brief_path_for

MAX_MODEL_CONFIG_BYTES = 1024 * 1024
# (job_id, provider) -> snapshot hashes and run_id, or the reason the job does not resolve.
Resolved = tuple[dict[str, str], str] | str


class SourceChecker:
    """Checks runs against jobs/, resolving each (job, provider) pair once."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._cache: dict[tuple[str, str | None], Resolved] = {}

    def check(self, run_dir: Path) -> SourceReport:
        try:
            with RunFolder.open(run_dir) as folder:
                manifest = folder.read_json(MANIFEST_NAME)
                job_id = manifest["job_id"]
                recorded = {n: e["sha256"] for n, e in manifest["input_snapshots"].items()}
                entry = manifest["input_snapshots"].get("model_config")
                provider = _recorded_provider(folder, entry)
        except (SigilError, OSError, ValueError, KeyError, TypeError, AttributeError):
            return SourceReport(
                "unresolvable", [], "the manifest cannot be read, so its job is unknown"
            )
        if not isinstance(job_id, str):
            return SourceReport("unresolvable", [], "the manifest names no job_id")
        resolved = self._resolve(job_id, provider)
        if isinstance(resolved, str):
            return SourceReport(
                "unresolvable", [], f"job '{job_id}' no longer resolves: {resolved}"
            )
        hashes, run_id = resolved
        changed = sorted(
            n for n in recorded.keys() | hashes.keys() if recorded.get(n) != hashes.get(n)
        )
        if not changed:
            return SourceReport(
                "current", [], f"jobs/{job_id} still resolves to these snapshots", run_id
            )
        return SourceReport(
            "stale",
            changed,
            f"jobs/{job_id} has changed since this run: {', '.join(changed)} would hash "
            f"differently (a run now would be {run_id})",
            run_id,
        )

    def _resolve(self, job_id: str, provider: str | None) -> Resolved:
        key = (job_id, provider)
        if key not in self._cache:
            try:
                brief = brief_path_for(job_id, self.workspace)
                job = resolve_job(brief, self.workspace, provider_override=provider)
                identity = compute_identity(job.snapshots)
                self._cache[key] = (identity.snapshot_hashes, identity.run_id)
            except SigilError as exc:
                self._cache[key] = exc.message
        return self._cache[key]


def _recorded_provider(folder: RunFolder, entry: Any) -> str | None:
    """The provider in the run's model_config snapshot, read only from inside the run."""
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
        return None
    path = entry["path"]
    if not is_plain_path(path, "inputs"):
        return None
    try:
        snapshot = orjson.loads(folder.read(path, limit=MAX_MODEL_CONFIG_BYTES))
    except (SigilError, OSError, orjson.JSONDecodeError):
        return None
    provider = snapshot.get("provider") if isinstance(snapshot, dict) else None
    return provider if isinstance(provider, str) else None
