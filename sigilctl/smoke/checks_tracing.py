"""Smoke checks of tracing itself: off without keys, silent on failure, governance ids exported,
every helper safe with no trace, and the step context manager exact on entry, exit and error."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson

from sigilctl import env
from sigilctl.manifest import MANIFEST_NAME
from sigilctl.smoke.context import DUMMY_SECRET_KEY, SmokeContext, live_client_count
from sigilctl.smoke.registry import CheckFailed, about, expect
from sigilctl.smoke.traces import (
    GOVERNANCE_KEYS,
    OBSERVATION_LEVEL,
    exercise_helpers,
    of_trace,
    root_of,
    smoke_ids,
    span_text,
    trace_metadata,
    wait_for_spans,
)


def _manifest(run_dir: Any) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads((run_dir / MANIFEST_NAME).read_bytes())
    return data


def graceful_degradation(ctx: SmokeContext) -> str:
    """No Langfuse keys: no client, no trace, every helper a no-op, the run succeeds untraced."""
    from sigilctl import observability as obs

    with ctx.receiver() as receiver, ctx.environment(**{env.LANGFUSE_BASE_URL: receiver.base_url}):
        clients = live_client_count()
        expect(not obs.is_observability_enabled(), "tracing reports enabled with no Langfuse keys")
        trace = obs.start_pipeline_trace(smoke_ids(), enabled=True, sample_rate=1.0)
        expect(trace is None, "start_pipeline_trace() started a trace with no Langfuse keys")
        called = exercise_helpers(None)
        outcome = ctx.run_example(ctx.workspace())
        expect(
            outcome.status == "succeeded",
            f"the run without keys ended '{outcome.status}': {outcome.error}",
        )
        expect(outcome.langfuse_trace_id is None, "the run without keys recorded a trace id")
        expect(
            _manifest(outcome.run_dir).get("langfuse_trace_id") is None,
            "manifest.json of the run without keys holds a langfuse_trace_id",
        )
        expect(live_client_count() == clients, "a tracing client was built with no Langfuse keys")
        expect(
            not receiver.requests,
            f"{len(receiver.requests)} request(s) reached the Langfuse host with no keys",
        )
    return f"client disabled, {len(called)} helpers no-op, run {outcome.run_id} succeeded untraced"


@contextmanager
def _failing_backend(ctx: SmokeContext, kind: str) -> Iterator[tuple[str, Any]]:
    """A Langfuse host that answers HTTP 500, or a closed port on 127.0.0.1."""
    from sigilctl.smoke.receiver import closed_port_url

    if kind == "HTTP 500":
        with ctx.receiver("error") as receiver:
            yield receiver.base_url, receiver
    else:
        yield closed_port_url(), None


def _timed_run(ctx: SmokeContext) -> tuple[Any, float]:
    started = time.monotonic()
    outcome = ctx.run_example(ctx.workspace())
    return outcome, time.monotonic() - started


def tracing_failures_silent(ctx: SmokeContext) -> str:
    """A backend that errors or is unreachable never fails the run and adds bounded time."""
    import sigilctl.observability.client  # noqa: F401 - load the SDK before any timing

    baseline = min(_timed_run(ctx)[1] for _ in range(2))  # untraced: the environment is sealed
    bound = ctx.failure_flush_timeout_s + ctx.added_time_slack_s
    seen: list[str] = []
    for kind in ("HTTP 500", "closed port"):
        with (
            _failing_backend(ctx, kind) as (url, receiver),
            ctx.tracing(url, flush_timeout_s=ctx.failure_flush_timeout_s),
        ):
            outcome, elapsed = _timed_run(ctx)
            posts = [r for r in receiver.requests if r[0] == "POST"] if receiver else None
        expect(
            outcome.status == "succeeded",
            f"with a tracing backend giving {kind} the run ended '{outcome.status}': "
            f"{outcome.error}",
        )
        expect(
            outcome.langfuse_trace_id,
            f"with a {kind} backend the run was not traced, so no failure was exercised",
        )
        expect(posts is None or posts, f"no trace export reached the {kind} backend")
        report = ctx.verify(outcome.run_dir)
        expect(report.ok, f"the run traced to a {kind} backend does not verify: {report.problems}")
        added = elapsed - baseline
        expect(
            added <= bound,
            f"a tracing backend giving {kind} added {added:.2f} s to the run (bound {bound:g} s)",
        )
        warned = "warned" if outcome.trace_warning else "no warning"
        seen.append(f"{kind} +{max(added, 0) * 1000:.0f} ms ({warned})")
    return f"runs succeeded; {', '.join(seen)}; bound {bound:g} s"


def governance_ids_in_trace(ctx: SmokeContext) -> str:
    """The exported trace carries job_id, run_id, job_type, brand, inputs_hash (and no secret).

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
    counted = []
    for (job_type, _), outcome in zip(examples, outcomes, strict=True):
        with about(job_type):
            counted.append(f"{_governance_ids(outcome, spans)} ({job_type})")
    leaked = sorted({s.name for s in spans if DUMMY_SECRET_KEY in span_text(s)})
    expect(not leaked, f"the Langfuse secret key was exported in span(s) {', '.join(leaked)}")
    return f"exported spans carry {', '.join(GOVERNANCE_KEYS)}: {', '.join(counted)}"


def _governance_ids(outcome: Any, spans: list[Any]) -> int:
    trace_id = outcome.langfuse_trace_id
    expect(trace_id, "the run was not traced with Langfuse configured")
    manifest = _manifest(outcome.run_dir)
    root = root_of(spans, trace_id)
    expect(root, f"the trace's root span never reached the receiver ({len(spans)} span(s) did)")
    assert root is not None
    metadata = trace_metadata(root)
    wrong = [
        f"{key}={metadata.get(key)!r} (manifest {manifest.get(key)!r})"
        for key in GOVERNANCE_KEYS
        if metadata.get(key) != manifest.get(key)
    ]
    expect(not wrong, f"exported trace metadata does not match the run: {'; '.join(wrong)}")
    mine = of_trace(spans, trace_id)
    unlinked = sorted(
        {s.name for s in mine if trace_metadata(s).get("run_id") != manifest["run_id"]}
    )
    expect(not unlinked, f"span(s) {', '.join(unlinked)} do not carry the run's run_id")
    return len(mine)


def helpers_accept_missing_trace(ctx: SmokeContext) -> str:
    """With Langfuse configured, every helper still completes with no trace or a finished one."""
    from sigilctl import observability as obs

    with ctx.receiver() as receiver, ctx.tracing(receiver.base_url):
        called = exercise_helpers(None)
        trace = obs.start_pipeline_trace(smoke_ids("smoke-finished"), enabled=True, sample_rate=1)
        expect(trace is not None, "no trace could be started against the local receiver")
        obs.finalize_trace(trace, "succeeded")
        exercise_helpers(trace)
        untraced = ctx.run_example(ctx.workspace(), trace=False)
        obs.flush()
        trace_id = obs.trace_id(trace)
        assert trace_id is not None
        spans = wait_for_spans(
            receiver, lambda got: root_of(got, trace_id) is not None, ctx.flush_timeout_s
        )
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


def _exercise_steps(trace: Any) -> None:
    from sigilctl import observability as obs

    ran: list[str] = []
    with obs.trace_step(trace, "smoke_ok", probe=1) as step:
        ran.append("ok")
        step.update(result="done")
    expect(ran == ["ok"], "the block under trace_step did not run exactly once")
    error = ValueError("smoke: the step's own error")

    def fail_inside_step() -> None:
        with obs.trace_step(trace, "smoke_raises"):
            raise error

    try:
        fail_inside_step()
    except ValueError as caught:  # another exception type fails the check as unexpected
        expect(caught is error, f"trace_step replaced the step's own exception by {caught!r}")
    else:
        raise CheckFailed("trace_step swallowed the exception raised inside the step")
    with obs.trace_step(trace, "smoke_outer"), obs.trace_step(trace, "smoke_inner"):
        pass
    with obs.trace_step(trace, "smoke_after"):
        pass
    if trace is not None:
        expect(trace.current is trace.root, "a step is still open after its block exited")


def step_context_manager(ctx: SmokeContext) -> str:
    """``trace_step`` opens and closes its span, nests, and re-raises the step's own exception."""
    from sigilctl import observability as obs

    with ctx.receiver() as receiver, ctx.tracing(receiver.base_url):
        _exercise_steps(None)
        trace = obs.start_pipeline_trace(smoke_ids("smoke-steps"), enabled=True, sample_rate=1)
        expect(trace is not None, "no trace could be started against the local receiver")
        assert trace is not None
        _exercise_steps(trace)
        obs.finalize_trace(trace, "succeeded")
        obs.flush()
        spans = wait_for_spans(
            receiver, lambda got: root_of(got, trace.trace_id) is not None, ctx.flush_timeout_s
        )
    root = root_of(spans, trace.trace_id)
    expect(root, "the trace's root span never reached the receiver")
    assert root is not None
    by_name = {s.name: s for s in of_trace(spans, trace.trace_id)}
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
