"""Deliberate faults for the tests: a child process that SIGKILLs itself at an injected point,
and a broken build that folds a trace id into a run's identity.

Production code has no test-only branch: each fault wraps or replaces a real function from the
outside (in a child process, or as a smoke hook).
"""

from __future__ import annotations

import dataclasses
import signal
from pathlib import Path

import orjson

from sigilctl.canonical import canonical_bytes
from sigilctl.identity import compute_inputs_hash, derive_run_id, sha256_hex
from sigilctl.manifest import MANIFEST_NAME
from sigilctl.runner import RunOutcome
from tests.helpers import run_python

CHILD = """
import importlib, os, signal, sys
def die():
    os.kill(os.getpid(), signal.SIGKILL)
{inject}
from sigilctl.cli import main
sys.argv = ["sigilctl", *sys.argv[1:]]
main()
"""

WRAP = """
owner = importlib.import_module({module!r})
for part in {attr_path!r}[:-1]:
    owner = getattr(owner, part)
orig = getattr(owner, {attr_path!r}[-1])
calls = []
def wrapped(*args, **kwargs):
    calls.append(1)
    if {when!r} == "before" and len(calls) == {nth}:
        die()
    result = orig(*args, **kwargs)
    if {when!r} == "after" and len(calls) == {nth}:
        die()
    return result
setattr(owner, {attr_path!r}[-1], wrapped)
"""


def wrap(module: str, attr: str, when: str, nth: int = 1) -> str:
    """Injected code that SIGKILLs the child right ``before`` or ``after`` the ``nth`` call of
    ``module.attr`` (``attr`` may be dotted: ``Class.method``)."""
    return WRAP.format(module=module, attr_path=attr.split("."), when=when, nth=nth)


def killed(workspace: Path, inject: str, *args: str) -> None:
    """Run ``sigilctl ARGS`` in a child that SIGKILLs itself at the injected point."""
    proc = run_python("-c", CHILD.format(inject=inject), *args, cwd=workspace)
    assert proc.code == -signal.SIGKILL, (proc.code, proc.stderr)


def leak_trace_id_into_brief(outcome: RunOutcome) -> RunOutcome:
    """What a build that folds the trace id into the brief snapshot would publish: a run whose
    files are self-consistent (hashes, inputs_hash, run_id recomputed) but whose identity now
    depends on the trace."""
    run_dir = outcome.run_dir
    snapshot = run_dir / "inputs" / "brief.resolved.json"
    brief = orjson.loads(snapshot.read_bytes())
    brief["langfuse_trace_id"] = outcome.langfuse_trace_id
    data = canonical_bytes(brief)
    snapshot.write_bytes(data)
    manifest = orjson.loads((run_dir / MANIFEST_NAME).read_bytes())
    manifest["input_snapshots"]["brief"].update(sha256=sha256_hex(data), bytes=len(data))
    hashes = {name: e["sha256"] for name, e in manifest["input_snapshots"].items()}
    manifest["inputs_hash"] = compute_inputs_hash(hashes)
    manifest["run_id"] = derive_run_id(manifest["inputs_hash"])
    (run_dir / MANIFEST_NAME).write_bytes(orjson.dumps(manifest))
    moved = run_dir.rename(run_dir.parent / manifest["run_id"])
    return dataclasses.replace(
        outcome, run_id=manifest["run_id"], inputs_hash=manifest["inputs_hash"], run_dir=moved
    )
