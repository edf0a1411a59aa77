"""``sigilctl diff``: which input snapshots of two runs differ, and where, as RFC 6902 patches.

A snapshot's status comes from the sha256 of its bytes; its patch is made by the ``jsonpatch``
library, so applying it to A's snapshot gives B's. Outputs are compared by the sha256 their
manifests list (``verify`` proves the files still match those hashes). ``--source`` compares
a run with what its job resolves to today, resolved exactly as ``run`` resolves it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Literal

import jsonpatch
import jsonpointer
import orjson

from sigilctl.audit.loaded import LoadedRun
from sigilctl.identity import compute_identity
from sigilctl.workspace import Workspace, brief_path_for

Status = Literal["same", "changed", "added", "removed"]
TEXT_LINES = 40  # a unified diff longer than this is cut, with a count of what was left out
LONG_TEXT = 120


@dataclass(frozen=True)
class Change:
    """One patch operation with the value it replaced (``old``) where it had one."""

    op: str
    path: str
    old: Any = None
    new: Any = None
    has_old: bool = False
    has_new: bool = False
    from_path: str | None = None

    def text_delta(self) -> list[str] | None:
        """A unified diff of the lines that changed, when both sides are long or multi-line text."""
        if not (isinstance(self.old, str) and isinstance(self.new, str)):
            return None
        if "\n" not in self.old + self.new and max(len(self.old), len(self.new)) <= LONG_TEXT:
            return None
        return text_delta(self.old, self.new)


@dataclass(frozen=True)
class SnapshotDiff:
    name: str
    status: Status
    patch: list[dict[str, Any]] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status, "patch": self.patch}


@dataclass(frozen=True)
class RunDiff:
    """The answer of ``diff``: A and B are run_ids (B is the would-be run_id with ``--source``)."""

    a: str
    b: str
    a_label: str
    b_label: str
    snapshots: dict[str, SnapshotDiff]
    outputs: dict[str, Status]
    # Runs that do not verify: their files may not hold what their manifests list.
    warnings: list[str] = field(default_factory=list)

    @property
    def same_inputs(self) -> bool:
        return all(s.status == "same" for s in self.snapshots.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "same_inputs": self.same_inputs,
            "snapshots": {name: s.as_json() for name, s in sorted(self.snapshots.items())},
            "outputs": dict(sorted(self.outputs.items())),
        }


def text_delta(old: str, new: str) -> list[str]:
    """The changed lines of two texts as unified-diff hunks (headers dropped), bounded."""
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=1))[2:]
    if len(lines) > TEXT_LINES:
        left = len(lines) - TEXT_LINES
        lines = [*lines[:TEXT_LINES], f"… {left} more diff line(s)"]
    return lines


def make_patch(before: Any, after: Any) -> list[dict[str, Any]]:
    """The RFC 6902 operations that turn ``before`` into ``after`` (jsonpatch's differ)."""
    patch: list[dict[str, Any]] = jsonpatch.make_patch(before, after).patch
    return patch


def explain(before: Any, patch: list[dict[str, Any]]) -> list[Change]:
    """Each operation with the value it removed or replaced, applying the patch step by step
    (a patch's paths refer to the document as the previous operations left it)."""
    document = orjson.loads(orjson.dumps(before))
    changes: list[Change] = []
    for operation in patch:
        op, path = operation["op"], operation["path"]
        old: Any = None
        has_old = False
        if op in ("replace", "remove", "move"):
            source = operation.get("from", path) if op == "move" else path
            old, has_old = jsonpointer.resolve_pointer(document, source), True
        changes.append(
            Change(
                op,
                path,
                old=old,
                new=operation.get("value"),
                has_old=has_old,
                has_new="value" in operation,
                from_path=operation.get("from"),
            )
        )
        document = jsonpatch.apply_patch(document, [operation], in_place=True)
    return changes


def compare_snapshots(
    before: dict[str, Any],
    after: dict[str, Any],
    before_hashes: dict[str, str],
    after_hashes: dict[str, str],
) -> dict[str, SnapshotDiff]:
    result: dict[str, SnapshotDiff] = {}
    for name in sorted(before.keys() | after.keys()):
        if name not in after:
            result[name] = SnapshotDiff(name, "removed")
        elif name not in before:
            result[name] = SnapshotDiff(name, "added")
        elif before_hashes[name] == after_hashes[name]:
            result[name] = SnapshotDiff(name, "same")
        else:
            patch = make_patch(before[name], after[name])
            result[name] = SnapshotDiff(name, "changed", patch, explain(before[name], patch))
    return result


def compare_outputs(before: dict[str, str], after: dict[str, str]) -> dict[str, Status]:
    result: dict[str, Status] = {}
    for path in sorted(before.keys() | after.keys()):
        if path not in after:
            result[path] = "removed"
        elif path not in before:
            result[path] = "added"
        else:
            result[path] = "same" if before[path] == after[path] else "changed"
    return result


def integrity_warnings(*runs: LoadedRun) -> list[str]:
    """One line per run that does not verify (outputs are compared by their listed hashes)."""
    from sigilctl.verify import verify_run

    warnings = []
    for run in {run.run_dir: run for run in runs}.values():
        report = verify_run(run.run_dir)
        if report.problems:
            warnings.append(
                f"{run.label} does not verify ({len(report.problems)} problem(s), first: "
                f"{report.problems[0].message}); run 'sigilctl verify' on it"
            )
    return warnings


def diff_runs(a: LoadedRun, b: LoadedRun) -> RunDiff:
    """Compare two runs' input snapshots (patches from A to B) and outputs."""
    return RunDiff(
        a.run_id,
        b.run_id,
        a.label,
        b.label,
        compare_snapshots(a.snapshots, b.snapshots, a.snapshot_hashes(), b.snapshot_hashes()),
        compare_outputs(a.output_hashes(), b.output_hashes()),
        integrity_warnings(a, b),
    )


def diff_source(run: LoadedRun, workspace: Workspace) -> RunDiff:
    """Compare a run with what its job resolves to now (no provider call, nothing written)."""
    from sigilctl.resolve import resolve_job

    model_config = run.snapshots.get("model_config")
    provider = model_config.get("provider") if isinstance(model_config, dict) else None
    job = resolve_job(
        brief_path_for(run.job_id, workspace),
        workspace,
        provider_override=provider if isinstance(provider, str) else None,
    )
    identity = compute_identity(job.snapshots)
    # The values as a snapshot file holds them (RFC 8785 round trip), so 1.0 compares as 1.
    now = {name: orjson.loads(data) for name, data in identity.snapshots.items()}
    return RunDiff(
        run.run_id,
        identity.run_id,
        run.label,
        f"jobs/{run.job_id} now (a run would be {identity.run_id})",
        compare_snapshots(run.snapshots, now, run.snapshot_hashes(), identity.snapshot_hashes),
        {},
        integrity_warnings(run),
    )
