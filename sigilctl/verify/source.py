"""``verify --source``: would the job, resolved from jobs/ today, give the run's snapshots?

Resolves exactly as ``run`` does (same resolver, same identity code) but calls no provider and
writes nothing. The provider recorded in the run's model_config snapshot is used as the
override, so a run made with ``--provider offline`` is compared with an offline resolution.
Like ``dvc status``, but proven by hashes: a changed snapshot is found by its hash, then what
changed in it is named (sigilctl.drift): the file, or the brief field. Many runs share one
``SharedReads``, so a brand folder used by 500 jobs is read once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from sigilctl.errors import SigilError
from sigilctl.identity import Identity, compute_identity
from sigilctl.manifest import MANIFEST_NAME
from sigilctl.resolve import resolve_job
from sigilctl.run_files import RunFolder
from sigilctl.run_inputs import read_snapshot
from sigilctl.shared_reads import SharedReads
from sigilctl.verify.report import SourceReport
from sigilctl.workspace import Workspace, brief_path_for

MAX_MODEL_CONFIG_BYTES = 1024 * 1024
# A recorded snapshot read to name what changed (the context one holds the documents' text).
MAX_SNAPSHOT_BYTES = 16 * 1024 * 1024
MAX_CHANGES_NAMED = 5
# (job_id, provider) -> the job's identity now, or the reason it does not resolve.
Resolved = Identity | str


class SourceChecker:
    """Checks runs against jobs/, resolving each (job, provider) pair once."""

    def __init__(self, workspace: Workspace, reads: SharedReads | None = None) -> None:
        self.workspace = workspace
        self.reads = reads or SharedReads()
        self._cache: dict[tuple[str, str | None], Resolved] = {}

    def check(self, run_dir: Path) -> SourceReport:
        try:  # never through a link (sigilctl.run_files): a planted run is not followed
            with RunFolder.open(run_dir) as folder:
                manifest = folder.read_json(MANIFEST_NAME)
            job_id = manifest["job_id"]
            entries = manifest["input_snapshots"]
            recorded = {n: e["sha256"] for n, e in entries.items()}
        except (SigilError, OSError, ValueError, KeyError, TypeError, AttributeError):
            return SourceReport(
                "unresolvable", [], "the manifest cannot be read, so its job is unknown"
            )
        if not isinstance(job_id, str):
            return SourceReport("unresolvable", [], "the manifest names no job_id")
        model_config = entries.get("model_config")
        provider = _provider(read_snapshot(run_dir, model_config, MAX_MODEL_CONFIG_BYTES))
        resolved = self.resolve(job_id, provider)
        if isinstance(resolved, str):
            return SourceReport(
                "unresolvable", [], f"job '{job_id}' no longer resolves: {resolved}"
            )
        hashes, run_id = resolved.snapshot_hashes, resolved.run_id
        changed = sorted(
            n for n in recorded.keys() | hashes.keys() if recorded.get(n) != hashes.get(n)
        )
        if not changed:
            return SourceReport(
                "current", [], f"jobs/{job_id} still resolves to these snapshots", run_id
            )
        changes = self._name(run_dir, entries, resolved, changed)
        shown = ", ".join(changes[:MAX_CHANGES_NAMED])
        more = len(changes) - MAX_CHANGES_NAMED
        if more > 0:
            shown += f" and {more} more"
        return SourceReport(
            "stale",
            changed,
            f"jobs/{job_id} has changed since this run: {shown} (a run now would be {run_id})",
            run_id,
            changes,
        )

    def resolve(self, job_id: str, provider: str | None = None) -> Resolved:
        """The job's identity as it resolves now (``provider`` overrides the brief's), or
        the one sentence saying why it does not resolve."""
        key = (job_id, provider)
        if key not in self._cache:
            try:
                brief = brief_path_for(job_id, self.workspace)
                job = resolve_job(
                    brief, self.workspace, provider_override=provider, reads=self.reads
                )
                self._cache[key] = compute_identity(job.snapshots)
            except SigilError as exc:
                self._cache[key] = exc.message
        return self._cache[key]

    @staticmethod
    def _name(
        run_dir: Path, entries: dict[str, Any], now: Identity, changed: list[str]
    ) -> list[str]:
        """The files and fields that changed, by comparing the recorded snapshots with the
        re-resolved ones; snapshot names when the recorded one cannot be read."""
        from sigilctl.drift import name_changes

        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        unreadable = []
        for name in changed:
            if name in now.snapshots:
                after[name] = orjson.loads(now.snapshots[name])
            if name in entries:
                value = read_snapshot(run_dir, entries[name], MAX_SNAPSHOT_BYTES)
                if value is None:
                    unreadable.append(f"{name} snapshot")
                    after.pop(name, None)
                    continue
                before[name] = value
        named = name_changes(before, after) or [
            f"{n} snapshot" for n in changed if f"{n} snapshot" not in unreadable
        ]
        return named + unreadable


def _provider(snapshot: Any) -> str | None:
    """The provider in the run's model_config snapshot."""
    provider = snapshot.get("provider") if isinstance(snapshot, dict) else None
    return provider if isinstance(provider, str) else None
