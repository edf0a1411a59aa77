"""What the tracing checks share: every helper called once, and reading what a receiver got.

``exercise_helpers`` is the one list of tracing helper calls; a helper added to
``sigilctl.observability`` without an entry here makes the checks that use it fail, so no
helper escapes the "accepts a missing trace" invariant unseen.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sigilctl.smoke.registry import CheckFailed, expect
from sigilctl.steps import StepRecord

if TYPE_CHECKING:
    from sigilctl.observability import GovernanceIds
    from sigilctl.observability.otlp import ReceivedSpan
    from sigilctl.smoke.receiver import OtlpReceiver

# Attribute names of the Langfuse OTLP wire format, as the receiver decodes them.
TRACE_METADATA = "langfuse.trace.metadata."
OBSERVATION_LEVEL = "langfuse.observation.level"
AS_ROOT = "langfuse.internal.as_root"
GOVERNANCE_KEYS = ("job_id", "run_id", "job_type", "brand", "inputs_hash")
# Public names of sigilctl.observability that do not take a trace.
NOT_TRACE_HELPERS = frozenset(
    {"GovernanceIds", "Step", "is_observability_enabled", "start_pipeline_trace", "flush"}
)
ZERO_SHA = "0" * 64


def smoke_ids(name: str = "smoke") -> GovernanceIds:
    """Governance ids for a trace the smoke suite starts by itself (not from a run)."""
    from sigilctl.identity import derive_run_id, sha256_hex
    from sigilctl.observability import GovernanceIds

    inputs_hash = sha256_hex(f"sigilctl smoke {name} {time.time_ns()}".encode())
    return GovernanceIds(name, derive_run_id(inputs_hash), "smoke", "smoke", inputs_hash)


def _helper_calls() -> dict[str, Callable[[Any], object]]:
    from sigilctl import observability as obs

    def step(trace: Any) -> None:
        ran: list[bool] = []
        with obs.trace_step(trace, "smoke_step", probe=1) as handle:
            handle.update(done=True)
            ran.append(True)
        expect(ran, "trace_step did not run the block it wraps")

    measured = StepRecord("smoke_measured", time.time_ns(), time.time_ns())
    return {
        "trace_id": obs.trace_id,
        "trace_step": step,
        "trace_llm_call": lambda t: obs.trace_llm_call(
            t,
            name="smoke_generation",
            model="offline",
            prompt="p",
            response="r",
            usage={"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        ),
        "trace_doctrine_load": lambda t: obs.trace_doctrine_load(
            t, doctrine_id="smoke", version="1", path="doctrine.md", sha256=ZERO_SHA
        ),
        "trace_context_retrieval": lambda t: obs.trace_context_retrieval(
            t, mode="paths", files=["context.md"], query="smoke", top_k=1
        ),
        "trace_snapshot_creation": lambda t: obs.trace_snapshot_creation(
            t, name="brief", sha256=ZERO_SHA, bytes=2
        ),
        "trace_output_generation": lambda t: obs.trace_output_generation(
            t, files=["outputs/smoke.json"], total_bytes=1
        ),
        "record_steps": lambda t: obs.record_steps(t, [measured]),
        "finalize_trace": lambda t: obs.finalize_trace(t, "succeeded"),
        "abort_trace": lambda t: obs.abort_trace(t, RuntimeError("smoke: a crashed run")),
    }


def exercise_helpers(trace: Any) -> list[str]:
    """Call every tracing helper with ``trace``; each must complete. Returns the names called.

    With ``trace=None`` every helper must also return None (a no-op has nothing to give).
    """
    from sigilctl import observability as obs

    calls = _helper_calls()
    uncovered = sorted(set(obs.__all__) - set(calls) - NOT_TRACE_HELPERS)
    expect(not uncovered, f"tracing helper(s) {', '.join(uncovered)} not exercised by smoke")
    for name, call in calls.items():
        try:
            result = call(trace)
        except Exception as exc:  # the invariant is precisely "never raises"
            what = "a missing trace" if trace is None else "this trace"
            raise CheckFailed(f"{name}() raised {type(exc).__name__} with {what}: {exc}") from exc
        if trace is None:
            expect(result is None, f"{name}(None) returned {result!r}, expected None (no-op)")
    return list(calls)


def wait_for_spans(
    receiver: OtlpReceiver, predicate: Callable[[list[ReceivedSpan]], bool], timeout_s: float
) -> list[ReceivedSpan]:
    """Spans received so far, once ``predicate`` holds for them or the timeout passed."""
    deadline = time.monotonic() + timeout_s
    while True:
        spans = list(receiver.spans)
        if predicate(spans) or time.monotonic() >= deadline:
            return spans
        receiver.wait_for_spans(len(spans) + 1, min(0.05, max(deadline - time.monotonic(), 0)))


def of_trace(spans: list[ReceivedSpan], trace_id: str) -> list[ReceivedSpan]:
    return [s for s in spans if s.trace_id == trace_id]


def root_of(spans: list[ReceivedSpan], trace_id: str) -> ReceivedSpan | None:
    """The root observation of a trace (the SDK marks it ``as_root``)."""
    roots = [s for s in of_trace(spans, trace_id) if s.attributes.get(AS_ROOT)]
    return roots[0] if roots else None


def trace_metadata(span: ReceivedSpan) -> dict[str, Any]:
    """The trace-level metadata a span carries, values decoded from their JSON text."""
    found: dict[str, Any] = {}
    for key, value in span.attributes.items():
        if key.startswith(TRACE_METADATA):
            try:
                found[key.removeprefix(TRACE_METADATA)] = json.loads(value)
            except (TypeError, ValueError):
                found[key.removeprefix(TRACE_METADATA)] = value
    return found


def span_text(span: ReceivedSpan) -> str:
    """Everything a span exported, as one string (to search for values that must be absent)."""
    return json.dumps([span.name, span.attributes], default=str)
