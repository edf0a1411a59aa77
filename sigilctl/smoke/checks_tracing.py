"""Smoke checks of tracing itself: off without keys, silent and bounded on failure (the trace
spooled, not lost), governance ids exported as Langfuse would store them, every helper safe
with no trace, the step context manager exact on entry, exit and error, and a spooled trace
re-sent whole."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson

from sigilctl import env
from sigilctl.manifest import MANIFEST_NAME
from sigilctl.smoke.context import DUMMY_SECRET_KEY, SmokeContext
from sigilctl.smoke.registry import CheckFailed, about, expect
from sigilctl.smoke.traces import (
    GOVERNANCE_KEYS,
    OBSERVATION_LEVEL,
    exercise_helpers,
    of_trace,
    root_of,
    span_text,
    start_smoke_trace,
    wait_for_spans,
)


def _manifest(run_dir: Any) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads((run_dir / MANIFEST_NAME).read_bytes())
    return data


def graceful_degradation(ctx: SmokeContext) -> str:
    """No Langfuse keys: no trace, every helper a no-op, the run succeeds untraced."""
    from sigilctl import observability as obs

    with ctx.receiver() as receiver, ctx.environment(**{env.LANGFUSE_BASE_URL: receiver.base_url}):
        expect(not obs.langfuse_configured(), "tracing reports configured with no Langfuse keys")
        scratch = ctx.scratch("untraced")
        run = start_smoke_trace("smoke-untraced", scratch)
        expect(not run.traced, "start_run() started a trace with no Langfuse keys")
        called = exercise_helpers(None)
        exercise_helpers(run)
        run.finalize("succeeded", None)
        expect(run.deliver() is None, "an untraced run reported a tracing problem")
        workspace = ctx.workspace()
        outcome = ctx.run_example(workspace)
        expect(
            outcome.status == "succeeded",
            f"the run without keys ended '{outcome.status}': {outcome.error}",
        )
        expect(outcome.langfuse_trace_id is None, "the run without keys recorded a trace id")
        manifest = _manifest(outcome.run_dir)
        expect(
            manifest.get("langfuse_trace_id") is None and manifest.get("langfuse_host") is None,
            "manifest.json of the run without keys names a trace or a Langfuse host",
        )
        expect(
            not (workspace.artifacts / ".sigilctl" / "trace-spool").exists(),
            "the run without keys created a trace spool",
        )
        expect(
            not receiver.requests,
            f"{len(receiver.requests)} request(s) reached the Langfuse host with no keys",
        )
    return f"no trace, {len(called)} helpers no-op, run {outcome.run_id} succeeded untraced"


@contextmanager
def _failing_backend(ctx: SmokeContext, kind: str) -> Iterator[tuple[str, Any]]:
    """A Langfuse host that answers HTTP 500, or a closed port on 127.0.0.1."""
    from sigilctl.smoke.receiver import closed_port_url

    if kind == "HTTP 500":
        with ctx.receiver("error") as receiver:
            yield receiver.base_url, receiver
    else:
        yield closed_port_url(), None


def _timed_run(ctx: SmokeContext, **options: Any) -> tuple[Any, float]:
    workspace = ctx.workspace()
    started = time.monotonic()
    outcome = ctx.run_example(workspace, **options)
    return outcome, time.monotonic() - started


def tracing_failures_silent(ctx: SmokeContext) -> str:
    """A backend that errors or is unreachable never fails the run, adds at most the bound
    (measured against untraced runs of the same moment, so a loaded machine does not fail it),
    and the undelivered trace is spooled, not lost."""
    from sigilctl.observability.settings import spool_dir
    from sigilctl.observability.spool import TraceSpool

    bound = ctx.failure_flush_timeout_s
    seen: list[str] = []
    for kind in ("HTTP 500", "closed port"):
        with (
            _failing_backend(ctx, kind) as (url, receiver),
            ctx.tracing(url, flush_timeout_s=bound),
        ):
            before = _timed_run(ctx, trace=False)[1]
            outcome, elapsed = _timed_run(ctx)
            after = _timed_run(ctx, trace=False)[1]
            posts = [r for r in receiver.requests if r[0] == "POST"] if receiver else None
        expect(
            outcome.status == "succeeded",
            f"with a tracing backend giving {kind} the run ended '{outcome.status}': "
            f"{outcome.error}",
        )
        trace_id = outcome.langfuse_trace_id
        expect(trace_id, f"with a {kind} backend the run was not traced: nothing was exercised")
        expect(posts is None or posts, f"no trace export reached the {kind} backend")
        report = ctx.verify(outcome.run_dir)
        expect(report.ok, f"the run traced to a {kind} backend does not verify: {report.problems}")
        spooled = TraceSpool(spool_dir(outcome.run_dir.parent.parent)).find(trace_id or "")
        expect(spooled, f"the trace a {kind} backend did not accept was not spooled")
        expect(
            outcome.trace_warning and "spooled" in outcome.trace_warning,
            f"the run did not say its trace was spooled (warning: {outcome.trace_warning!r})",
        )
        # The same-moment baseline absorbs machine load; the slack covers process noise.
        baseline = min(before, after)
        allowed = bound + max(ctx.added_time_slack_s, baseline)
        added = elapsed - baseline
        expect(
            added <= allowed,
            f"a tracing backend giving {kind} added {added:.2f} s to the run "
            f"(allowed {allowed:.2f} s: the bound {bound:g} s plus slack)",
        )
        seen.append(f"{kind} +{max(added, 0) * 1000:.0f} ms, spooled")
    return f"runs succeeded; {', '.join(seen)}; bound {bound:g} s"


def governance_ids_in_trace(ctx: SmokeContext) -> str:
    """The trace Langfuse would display has a true root carrying job_id, run_id, job_type,
    brand, inputs_hash as plain strings (what "=" filters compare), and no secret.

    Checked for the example job of every built-in job type.
    """
    examples = ctx.builtin_examples()
    workspace = ctx.workspace()
    with ctx.receiver() as receiver, ctx.tracing(receiver.base_url):
        outcomes = [ctx.run_example(workspace, job_id=job_id) for _, job_id in examples]
        trace_ids = [outcome.langfuse_trace_id or "" for outcome in outcomes]
        spans = wait_for_spans(
            receiver,
            lambda got: all(root_of(got, t) is not None for t in trace_ids),
            ctx.flush_timeout_s,
        )
        views = {t: receiver.trace(t) for t in trace_ids if t}
    counted = []
    for (job_type, _), outcome in zip(examples, outcomes, strict=True):
        with about(job_type):
            counted.append(f"{_governance_ids(outcome, spans, views)} ({job_type})")
    leaked = sorted({s.name for s in spans if DUMMY_SECRET_KEY in span_text(s)})
    expect(not leaked, f"the Langfuse secret key was exported in span(s) {', '.join(leaked)}")
    return f"true roots carry {', '.join(GOVERNANCE_KEYS)} as plain strings: {', '.join(counted)}"


def _governance_ids(outcome: Any, spans: list[Any], views: dict[str, Any]) -> str:
    trace_id = outcome.langfuse_trace_id
    expect(trace_id, "the run was not traced with Langfuse configured")
    manifest = _manifest(outcome.run_dir)
    mine = of_trace(spans, trace_id)
    roots = [s.name for s in mine if s.parent_span_id is None]
    expect(
        roots == [f"job:{manifest.get('job_type')}"],
        f"the trace needs exactly one span without a parent, job:<job_type>; it has {roots}",
    )
    exported = {s.span_id for s in mine}
    orphans = sorted(s.name for s in mine if s.parent_span_id and s.parent_span_id not in exported)
    expect(not orphans, f"span(s) {', '.join(orphans)} name a parent that was never exported")
    view = views.get(trace_id)
    expect(view is not None, "the receiver cannot show the trace")
    assert view is not None
    metadata = view["metadata"]
    wrong = [
        f"{key}={metadata.get(key)!r} (manifest {manifest.get(key)!r})"
        for key in GOVERNANCE_KEYS
        if metadata.get(key) != manifest.get(key)
    ]
    expect(not wrong, f"the trace's metadata as Langfuse stores it: {'; '.join(wrong)}")
    expect(
        view["input"] and view["output"],
        "Langfuse would show the trace without input or output (they come from its root)",
    )
    return f"root {roots[0]} of {len(mine)} spans"


def helpers_accept_missing_trace(ctx: SmokeContext) -> str:
    """With Langfuse configured, every helper still completes with no trace or a finished one."""
    with ctx.receiver() as receiver, ctx.tracing(receiver.base_url):
        called = exercise_helpers(None)
        run = start_smoke_trace("smoke-finished", ctx.scratch("helpers"))
        expect(run.traced and run.trace_id, "no trace could be started against the receiver")
        trace_id = run.trace_id or ""
        run.finalize("succeeded", None)
        exercise_helpers(run)
        untraced = ctx.run_example(ctx.workspace(), trace=False)
        warning = run.deliver()
        spans = wait_for_spans(
            receiver, lambda got: root_of(got, trace_id) is not None, ctx.flush_timeout_s
        )
    expect(warning is None, f"delivering the finished trace reported: {warning}")
    expect(
        untraced.status == "succeeded" and untraced.langfuse_trace_id is None,
        f"a run with tracing off ended '{untraced.status}', trace id {untraced.langfuse_trace_id}",
    )
    root = root_of(spans, trace_id)
    expect(root, "the finished trace's root span never reached the receiver")
    late = sorted({s.name for s in of_trace(spans, trace_id) if s is not root})
    expect(not late, f"helpers recorded {', '.join(late)} on a finished trace")
    stray = sorted({s.name for s in spans if s.trace_id != trace_id})
    expect(not stray, f"span(s) {', '.join(stray)} were exported with no trace to hold them")
    return f"{len(called)} helpers completed with no trace and with a finished one; nothing sent"


def _exercise_steps(traced: bool) -> None:
    from sigilctl import observability as obs

    ran: list[str] = []
    with obs.trace_step("smoke_ok", probe=1) as step:
        ran.append("ok")
        step.update(result="done")
    expect(ran == ["ok"], "the block under trace_step did not run exactly once")
    expect(step.traced == traced, f"trace_step yielded a {'un' if traced else ''}traced step")
    error = ValueError("smoke: the step's own error")

    def fail_inside_step() -> None:
        with obs.trace_step("smoke_raises"):
            raise error

    try:
        fail_inside_step()
    except ValueError as caught:  # another exception type fails the check as unexpected
        expect(caught is error, f"trace_step replaced the step's own exception by {caught!r}")
    else:
        raise CheckFailed("trace_step swallowed the exception raised inside the step")
    with obs.trace_step("smoke_outer"), obs.trace_step("smoke_inner"):
        pass
    with obs.trace_step("smoke_after"):
        pass


def step_context_manager(ctx: SmokeContext) -> str:
    """``trace_step`` opens and closes its span, nests, and re-raises the step's own exception."""
    with ctx.receiver() as receiver, ctx.tracing(receiver.base_url):
        _exercise_steps(False)
        run = start_smoke_trace("smoke-steps", ctx.scratch("steps"))
        expect(run.traced, "no trace could be started against the local receiver")
        trace_id = run.trace_id or ""
        with run.active():
            _exercise_steps(True)
        run.finalize("succeeded", None)
        run.deliver()
        spans = wait_for_spans(
            receiver, lambda got: root_of(got, trace_id) is not None, ctx.flush_timeout_s
        )
    root = root_of(spans, trace_id)
    expect(root, "the trace's root span never reached the receiver")
    assert root is not None
    by_name = {s.name: s for s in of_trace(spans, trace_id)}
    names = ("smoke_ok", "smoke_raises", "smoke_outer", "smoke_inner", "smoke_after")
    missing = [n for n in names if n not in by_name]
    expect(not missing, f"step(s) {', '.join(missing)} were not exported")
    open_ended = [n for n in names if by_name[n].end_ns < by_name[n].start_ns]
    expect(not open_ended, f"step(s) {', '.join(open_ended)} did not end")
    for name in ("smoke_ok", "smoke_raises", "smoke_outer", "smoke_after"):
        expect(
            by_name[name].parent_span_id == root.span_id,
            f"step {name} is not under the root: the step before it was not exited",
        )
    expect(
        by_name["smoke_inner"].parent_span_id == by_name["smoke_outer"].span_id,
        "a nested step is not under its enclosing step",
    )
    level = by_name["smoke_raises"].attributes.get(OBSERVATION_LEVEL)
    expect(level == "ERROR", f"the raising step was exported with level {level!r}, not ERROR")
    return "entered and exited (traced and untraced); error recorded and re-raised unchanged"


def spooled_trace_resent(ctx: SmokeContext) -> str:
    """A trace Langfuse could not take is spooled, and ``traces flush`` re-sends it whole: the
    same trace and span ids, every span exactly once, the spool empty afterwards."""
    from sigilctl.observability.otlp import decode_spans
    from sigilctl.observability.resend import flush_spool
    from sigilctl.observability.settings import destination, spool_dir
    from sigilctl.observability.spool import TraceSpool
    from sigilctl.smoke.receiver import closed_port_url

    workspace = ctx.workspace()
    spool = TraceSpool(spool_dir(workspace.artifacts))
    with ctx.tracing(closed_port_url(), flush_timeout_s=ctx.failure_flush_timeout_s):
        outcome = ctx.run_example(workspace)
    trace_id = outcome.langfuse_trace_id or ""
    expect(trace_id, "the run was not traced, so nothing could be spooled")
    entry = spool.find(trace_id)
    expect(entry, f"the undelivered trace {trace_id} is not in the spool")
    assert entry is not None
    spooled = decode_spans(entry.path.read_bytes(), None)
    with ctx.receiver() as receiver, ctx.tracing(receiver.base_url):
        target = destination()
        assert target is not None
        report = flush_spool(spool, target, timeout_s=ctx.flush_timeout_s)
        received = of_trace(list(receiver.spans), trace_id)
    expect(report.sent == 1 and report.failed == 0, f"traces flush: {report.as_json()}")
    expect(not spool.entries(), f"{len(spool.entries())} trace(s) left in the spool after flush")
    want = sorted(s.span_id for s in spooled)
    got = sorted(s.span_id for s in received)
    expect(
        got == want,
        f"the receiver holds {len(got)} span(s) of the trace, the spool held {len(want)} "
        "(span ids compared)",
    )
    expect(
        root_of(received, trace_id) is not None,
        "the re-sent trace has no root span without a parent",
    )
    return f"trace {trace_id}: {len(got)} spans spooled and re-sent once each; spool empty"
