"""What the tracing checks share: every tracing helper called once, and reading what a receiver
got (as spans, and as the trace Langfuse would display).

``exercise_helpers`` is the one list of calls to the pipeline-facing tracing API; a name added
to ``sigilctl.observability`` without an entry here makes the checks that use it fail, so no
helper escapes the "works without a trace, never raises" invariant unseen.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sigilctl.smoke.registry import CheckFailed, expect

if TYPE_CHECKING:
    from sigilctl.observability import GovernanceIds, RunObservability
    from sigilctl.observability.otlp import ReceivedSpan
    from sigilctl.smoke.receiver import OtlpReceiver

# Attribute names of the Langfuse OTLP wire format, as the receiver decodes them.
TRACE_METADATA = "langfuse.trace.metadata."
OBSERVATION_LEVEL = "langfuse.observation.level"
GOVERNANCE_KEYS = ("job_id", "run_id", "job_type", "brand", "inputs_hash")
# Public names of sigilctl.observability that are not helpers acting on the current trace.
NOT_TRACE_HELPERS = frozenset(
    {"GovernanceIds", "RunObservability", "StepHandle", "langfuse_configured", "start_run"}
)


def smoke_ids(name: str = "smoke") -> GovernanceIds:
    """Governance ids for a trace the smoke suite starts by itself (not from a run)."""
    from sigilctl.identity import derive_run_id, sha256_hex
    from sigilctl.observability import GovernanceIds

    inputs_hash = sha256_hex(f"sigilctl smoke {name} {time.time_ns()}".encode())
    return GovernanceIds(name, derive_run_id(inputs_hash), "smoke", "smoke", inputs_hash)


def start_smoke_trace(name: str, artifacts: Path) -> RunObservability:
    """A traced ``RunObservability`` that no run owns (the current Langfuse settings apply)."""
    from sigilctl.observability import start_run

    return start_run(
        smoke_ids(name), enabled=True, sample_rate=1.0, started_at="", artifacts=artifacts
    )


def _helper_calls() -> dict[str, Callable[[], object]]:
    from sigilctl import observability as obs

    def step() -> None:
        ran: list[bool] = []
        with obs.trace_step("smoke_step", probe=1) as handle:
            handle.update(done=True)
            ran.append(True)
        expect(ran, "trace_step did not run the block it wraps")

    @obs.trace_function(capture_args=True, capture_result=True)
    def smoke_function(value: int) -> int:
        return value + 1

    def function() -> None:
        expect(smoke_function(1) == 2, "trace_function changed what the function returns")

    return {
        "trace_step": step,
        "trace_function": function,
        "trace_llm_call": lambda: obs.trace_llm_call(
            name="smoke_generation",
            model="offline",
            prompt="p",
            response="r",
            usage={"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        ),
        "is_observability_enabled": obs.is_observability_enabled,
    }


def exercise_helpers(run: RunObservability | None) -> list[str]:
    """Call every tracing helper inside ``run``'s trace (or with none); each must complete.

    Without a trace, every helper but ``is_observability_enabled`` must return None (a no-op
    has nothing to give), and that one must say False.
    """
    from sigilctl import observability as obs

    calls = _helper_calls()
    uncovered = sorted(set(obs.__all__) - set(calls) - NOT_TRACE_HELPERS)
    expect(not uncovered, f"tracing helper(s) {', '.join(uncovered)} not exercised by smoke")
    untraced = run is None or not run.traced
    with run.active() if run is not None else nullcontext():
        for name, call in calls.items():
            try:
                result = call()
            except Exception as exc:  # the invariant is precisely "never raises"
                what = "no trace" if untraced else "this trace"
                raise CheckFailed(
                    f"{name}() raised {type(exc).__name__} with {what}: {exc}"
                ) from exc
            if untraced:
                expected = False if name == "is_observability_enabled" else None
                expect(result is expected, f"{name}() returned {result!r} with no trace")
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
    """The root observation of a trace: the one span with no parent span id."""
    roots = [s for s in of_trace(spans, trace_id) if s.parent_span_id is None]
    return roots[0] if roots else None


def trace_metadata(span: ReceivedSpan) -> dict[str, Any]:
    """The trace-level metadata a span carries, values exactly as sent."""
    return {
        key.removeprefix(TRACE_METADATA): value
        for key, value in span.attributes.items()
        if key.startswith(TRACE_METADATA)
    }


def span_text(span: ReceivedSpan) -> str:
    """Everything a span exported, as one string (to search for values that must be absent)."""
    import json

    return json.dumps([span.name, span.attributes, span.resource], default=str)
