"""Smoke checks on whole runs: identity without trace ids, tracing after run_id, the manifest's
trace id at its root, same inputs → same run_id and a cache hit, verify against tampering, and
the offline example end to end. Every run goes through ``ctx.run`` (the hook point)."""

from __future__ import annotations

import shutil
from itertools import pairwise
from pathlib import Path
from typing import Any

import orjson

from sigilctl.identity import compute_inputs_hash, derive_run_id, sha256_hex
from sigilctl.manifest import MANIFEST_NAME
from sigilctl.runner import RunOutcome
from sigilctl.smoke.context import SmokeContext
from sigilctl.smoke.registry import about, expect
from sigilctl.smoke.traces import root_of, trace_metadata, wait_for_spans
from sigilctl.store import SWAP_PREFIX, TEMP_PREFIX, TRASH_PREFIX

SNAPSHOT_SUFFIX = ".resolved.json"
ENTRY_KEYS = {"path", "sha256", "bytes"}
# SPEC §5: the identity steps, then the tracing boundary, in this order and once each.
IDENTITY_ORDER = ("snapshots_frozen", "inputs_hash", "run_id", "trace_started")


def _manifest(run_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads((run_dir / MANIFEST_NAME).read_bytes())
    return data


def _snapshots(run_dir: Path) -> dict[str, bytes]:
    """The snapshot files of a run, by snapshot name."""
    return {
        p.name.removesuffix(SNAPSHOT_SUFFIX): p.read_bytes()
        for p in sorted((run_dir / "inputs").glob(f"*{SNAPSHOT_SUFFIX}"))
    }


def _ids_from_disk(run_dir: Path) -> tuple[str, str]:
    """inputs_hash and run_id recomputed from the snapshot files alone (SPEC §4)."""
    hashes = {name: sha256_hex(data) for name, data in _snapshots(run_dir).items()}
    inputs_hash = compute_inputs_hash(hashes)
    return inputs_hash, derive_run_id(inputs_hash)


def trace_ids_outside_identity(ctx: SmokeContext) -> str:
    """The same snapshots give the same inputs_hash and run_id with and without tracing.

    Checked for the example job of every built-in job type.
    """
    examples = ctx.builtin_examples()
    untraced = ctx.workspace("untraced")
    plain = [ctx.run_example(untraced, job_id=job_id) for _, job_id in examples]
    traced_ws = ctx.workspace("traced")
    with ctx.receiver() as receiver, ctx.tracing(receiver.base_url):
        traced = [ctx.run_example(traced_ws, job_id=job_id) for _, job_id in examples]
    proved = []
    for (job_type, _), without, with_trace in zip(examples, plain, traced, strict=True):
        with about(job_type):
            _same_identity(without, with_trace)
        proved.append(f"{job_type} {with_trace.run_id}")
    return f"run_id and inputs_hash identical with and without a trace ({', '.join(proved)})"


def _same_identity(plain: RunOutcome, traced: RunOutcome) -> None:
    expect(plain.langfuse_trace_id is None, "the run without Langfuse keys was traced")
    expect(traced.langfuse_trace_id, "the run with Langfuse configured was not traced")
    expect(
        traced.inputs_hash == plain.inputs_hash,
        f"inputs_hash differs with tracing: {traced.inputs_hash} traced, "
        f"{plain.inputs_hash} untraced",
    )
    expect(
        traced.run_id == plain.run_id,
        f"run_id differs with tracing: {traced.run_id} traced, {plain.run_id} untraced",
    )
    mine, theirs = _snapshots(traced.run_dir), _snapshots(plain.run_dir)
    differ = sorted(n for n in mine.keys() | theirs.keys() if mine.get(n) != theirs.get(n))
    expect(not differ, f"snapshot(s) {', '.join(differ)} differ between traced and untraced runs")
    _, run_id = _ids_from_disk(traced.run_dir)
    expect(
        run_id == traced.run_id,
        f"the traced run's snapshots give run_id {run_id}, the run says {traced.run_id}",
    )


def _order_problems(events: list[str]) -> list[str]:
    problems = [
        f"'{name}' recorded {events.count(name)} times"
        for name in IDENTITY_ORDER
        if events.count(name) != 1
    ]
    if problems:
        return problems
    for before, after in pairwise(IDENTITY_ORDER):
        if events.index(before) > events.index(after):
            problems.append(f"'{after}' comes before '{before}'")
    return problems


def tracing_after_run_id(ctx: SmokeContext) -> str:
    """Tracing starts only once run_id is derived, and a cache hit starts no trace at all.

    Checked for the example job of every built-in job type.
    """
    workspace = ctx.workspace()
    examples = ctx.builtin_examples()
    with ctx.receiver() as receiver, ctx.tracing(receiver.base_url):
        runs = []
        for job_type, job_id in examples:
            first = ctx.run_example(workspace, job_id=job_id)
            runs.append((job_type, first, ctx.run_example(workspace, job_id=job_id)))
        trace_ids = {first.langfuse_trace_id or "" for _, first, _ in runs}
        spans = wait_for_spans(
            receiver,
            lambda got: all(root_of(got, t) is not None for t in trace_ids),
            ctx.flush_timeout_s,
        )
    for job_type, first, again in runs:
        with about(job_type):
            _traced_after_run_id(first, again, spans)
    others = sorted({s.trace_id for s in spans} - trace_ids)
    expect(not others, f"{len(others)} other trace(s) exported; a cache hit must not trace")
    types = ", ".join(job_type for job_type, _ in examples)
    return " < ".join(IDENTITY_ORDER) + f"; cache hit: no trace ({types})"


def _traced_after_run_id(first: RunOutcome, again: RunOutcome, spans: list[Any]) -> None:
    problems = _order_problems(first.events)
    expect(not problems, f"run events {first.events}: {'; '.join(problems)}")
    trace_id = first.langfuse_trace_id
    expect(trace_id, "the run with Langfuse configured was not traced")
    root = root_of(spans, trace_id or "")
    expect(root, "the run's trace never reached the receiver")
    assert root is not None
    _, run_id = _ids_from_disk(first.run_dir)
    started_with = trace_metadata(root).get("run_id")
    expect(
        started_with == run_id,
        f"the trace was started with run_id {started_with!r}; the snapshots give {run_id}",
    )
    expect(again.cached, "the second run of the same inputs was not a cache hit")
    expect(
        "run_id" in again.events and "trace_started" not in again.events,
        f"a cache hit must derive run_id and start no trace (events: {again.events})",
    )


def trace_id_manifest_root(ctx: SmokeContext) -> str:
    """``langfuse_trace_id`` sits at the manifest root only; snapshot entries are path/sha/bytes."""
    with ctx.receiver() as receiver, ctx.tracing(receiver.base_url):
        outcome = ctx.run_example(ctx.workspace())
    trace_id = outcome.langfuse_trace_id
    expect(trace_id, "the run with Langfuse configured was not traced")
    assert trace_id is not None
    raw = (outcome.run_dir / MANIFEST_NAME).read_bytes()
    manifest = orjson.loads(raw)
    expect(
        manifest.get("langfuse_trace_id") == trace_id,
        f"manifest.json root langfuse_trace_id is {manifest.get('langfuse_trace_id')!r}, "
        f"the run traced {trace_id}",
    )
    extra = {
        name: sorted(set(entry) - ENTRY_KEYS)
        for name, entry in manifest.get("input_snapshots", {}).items()
        if set(entry) != ENTRY_KEYS
    }
    expect(not extra, f"snapshot entries hold more or less than path, sha256, bytes: {extra}")
    expect(
        raw.count(trace_id.encode()) == 1 and raw.count(b'"langfuse_trace_id"') == 1,
        "manifest.json names the trace id beyond its root langfuse_trace_id",
    )
    leaked = sorted(
        name
        for name, data in _snapshots(outcome.run_dir).items()
        if trace_id.encode() in data or b"langfuse_trace_id" in data
    )
    expect(not leaked, f"snapshot(s) {', '.join(leaked)} hold the trace id")
    misplaced = [
        p.message for p in ctx.verify(outcome.run_dir).problems if p.kind == "trace_id_misplaced"
    ]
    expect(not misplaced, f"verify: {'; '.join(misplaced)}")
    return f"trace id at the root only; {len(manifest['input_snapshots'])} snapshot entries clean"


def same_inputs_same_run_id(ctx: SmokeContext) -> str:
    """Two workspace folders, one artifacts tree: one run_id, and the second run is a cache hit."""
    first_ws = ctx.workspace("first")
    first = ctx.run_example(first_ws)
    manifest_before = (first.run_dir / MANIFEST_NAME).read_bytes()
    second = ctx.run_example(ctx.workspace("second", artifacts=first_ws.artifacts))
    elsewhere = ctx.run_example(ctx.workspace("third"))
    expect(not first.cached, "the first run of fresh inputs was reported as a cache hit")
    expect(
        second.run_id == first.run_id and elsewhere.run_id == first.run_id,
        f"run_id differs between workspace folders: {first.run_id}, {second.run_id}, "
        f"{elsewhere.run_id}",
    )
    expect(second.cached, "the second run of the same inputs was not a cache hit")
    expect(second.run_dir == first.run_dir, "the cache hit points at another run directory")
    expect(
        (first.run_dir / MANIFEST_NAME).read_bytes() == manifest_before,
        "the cache hit rewrote manifest.json",
    )
    expect(not elsewhere.cached, "a run into an empty artifacts tree claimed a cache hit")
    return f"run_id {first.run_id} from 3 folders; second run a cache hit"


def _tamper(path: Path) -> None:
    """Change one letter's case: same size, different bytes (the subtlest edit)."""
    data = bytearray(path.read_bytes())
    start = data.find(b":") + 1
    for i in range(start, len(data)):
        if chr(data[i]).isascii() and chr(data[i]).isalpha():
            data[i] ^= 0x20
            break
    else:
        data += b"\n"
    path.write_bytes(bytes(data))


def _copy_run(ctx: SmokeContext, run_dir: Path, label: str) -> Path:
    """A copy under a new artifacts tree, keeping the <job_id>/<run_id> folder names."""
    dest = ctx.scratch(label) / run_dir.parent.name / run_dir.name
    shutil.copytree(run_dir, dest)
    return dest


def verify_catches_tampering(ctx: SmokeContext) -> str:
    """verify passes a fresh run and names a tampered snapshot and a tampered output."""
    outcome = ctx.run_example(ctx.workspace())
    clean = ctx.verify(outcome.run_dir)
    expect(clean.ok, f"verify finds problems in a fresh run: {[p.kind for p in clean.problems]}")
    found: list[str] = []
    snapshot_name = next(iter(_snapshots(outcome.run_dir)))
    artifacts = _manifest(outcome.run_dir).get("artifacts") or []
    expect(artifacts, "the fresh run lists no outputs to tamper with")
    cases = (
        ("snapshot", f"inputs/{snapshot_name}{SNAPSHOT_SUFFIX}", "snapshot_"),
        ("output", artifacts[0]["path"], "artifact_"),
    )
    for what, rel, prefix in cases:
        copy = _copy_run(ctx, outcome.run_dir, f"tampered-{what}")
        _tamper(copy / rel)
        kinds = sorted({p.kind for p in ctx.verify(copy).problems})
        caught = [k for k in kinds if k.startswith(prefix) and k.endswith("_mismatch")]
        expect(caught, f"verify did not catch a tampered {what} {rel} (found: {kinds or 'none'})")
        found.append(f"{what}: {', '.join(caught)}")
    return f"fresh run clean; {'; '.join(found)}"


def offline_example_end_to_end(ctx: SmokeContext) -> str:
    """The example job runs offline to a succeeded, verifiable run with its outputs."""
    workspace = ctx.workspace()
    outcome = ctx.run_example(workspace)
    expect(
        outcome.status == "succeeded" and outcome.error is None,
        f"the example run ended '{outcome.status}': {outcome.error}",
    )
    expect(not outcome.cached, "the example's first run was reported as a cache hit")
    expected_dir = workspace.artifacts / ctx.job_id / outcome.run_id
    expect(outcome.run_dir == expected_dir, f"the run landed in {outcome.run_dir}")
    manifest = _manifest(outcome.run_dir)
    expect(
        (manifest.get("job_id"), manifest.get("run_id"), manifest.get("status"))
        == (ctx.job_id, outcome.run_id, "succeeded"),
        "manifest.json does not name this job, run_id and a succeeded status",
    )
    expect(
        (manifest.get("provider") or {}).get("offline") is True, "the example did not run offline"
    )
    artifacts = manifest.get("artifacts") or []
    expect(artifacts, "the example run produced no outputs")
    missing = [a["path"] for a in artifacts if not (outcome.run_dir / a["path"]).is_file()]
    expect(not missing, f"listed output(s) missing: {', '.join(missing)}")
    report = ctx.verify(outcome.run_dir)
    expect(report.ok, f"the example run does not verify: {[p.kind for p in report.problems]}")
    leftovers = [
        p.name
        for p in outcome.run_dir.parent.iterdir()
        if p.name.startswith((TEMP_PREFIX, SWAP_PREFIX, TRASH_PREFIX))
    ]
    expect(not leftovers, f"half-built run folders left behind: {', '.join(leftovers)}")
    return f"run {outcome.run_id}: {len(artifacts)} output(s), verify clean"
