"""One run's trace: a root span ``job:<job_type>`` and its steps, built on the SDK's classes.

Spans are started on the OTel tracer the client owns, with an explicit parent and an explicit
start time, so steps measured before the trace existed (SPEC §5 steps 1–6) land in the trace
with their real times. Trace name, tags and governance metadata are propagated to every span
from one context captured at the start (``propagate_attributes``), not from the caller's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from langfuse import LangfuseGeneration, LangfuseSpan, propagate_attributes
from langfuse._client.attributes import LangfuseOtelSpanAttributes
from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator

from sigilctl.observability.client import Tracing

TRACE_SEED_PREFIX = "sigilzero/trace/v1:"


def trace_id_for(run_id: str, started_at: str) -> str:
    """Deterministic per execution: a ``--force`` re-run (new started_at) gets a new trace."""
    from langfuse import Langfuse

    return Langfuse.create_trace_id(seed=f"{TRACE_SEED_PREFIX}{run_id}:{started_at}")


@dataclass
class Observation:
    """A started span: the SDK wrapper (attributes) and its OTel span (parenting, ending)."""

    wrapper: LangfuseSpan | LangfuseGeneration
    otel: otel_trace.Span
    name: str


class PipelineTrace:
    """The live trace of one run. Use it through the helpers in ``sigilctl.observability``."""

    def __init__(
        self,
        tracing: Tracing,
        *,
        trace_id: str,
        name: str,
        tags: list[str],
        metadata: dict[str, str],
        input: dict[str, Any],
        start_ns: int | None,
    ) -> None:
        self.trace_id = trace_id
        self.finished = False
        self._tracing = tracing
        with propagate_attributes(trace_name=name, tags=tags, metadata=metadata):
            self._base = otel_context.get_current()
        anchor = otel_trace.NonRecordingSpan(
            otel_trace.SpanContext(
                trace_id=int(trace_id, 16),
                span_id=RandomIdGenerator().generate_span_id(),
                is_remote=False,
                trace_flags=otel_trace.TraceFlags(otel_trace.TraceFlags.SAMPLED),
            )
        )
        otel_span = tracing.tracer.start_span(
            name, context=otel_trace.set_span_in_context(anchor, self._base), start_time=start_ns
        )
        otel_span.set_attribute(LangfuseOtelSpanAttributes.AS_ROOT, True)
        self.root = Observation(
            LangfuseSpan(
                otel_span=otel_span,
                langfuse_client=tracing.client,
                input=input,
                metadata=metadata,
            ),
            otel_span,
            name,
        )
        self._open: list[Observation] = [self.root]

    @property
    def current(self) -> Observation:
        return self._open[-1]

    def start(
        self,
        name: str,
        *,
        start_ns: int | None = None,
        generation: bool = False,
        **fields: Any,
    ) -> Observation:
        """Start a span (or generation) under the innermost open step."""
        context = otel_trace.set_span_in_context(self.current.otel, self._base)
        otel_span = self._tracing.tracer.start_span(name, context=context, start_time=start_ns)
        cls = LangfuseGeneration if generation else LangfuseSpan
        wrapper = cls(otel_span=otel_span, langfuse_client=self._tracing.client, **fields)
        return Observation(wrapper, otel_span, name)

    def record(
        self,
        name: str,
        *,
        start_ns: int | None = None,
        end_ns: int | None = None,
        generation: bool = False,
        **fields: Any,
    ) -> None:
        """A finished piece of work: started and ended at the given (measured) times."""
        now = time.time_ns()
        observation = self.start(
            name,
            start_ns=start_ns if start_ns is not None else now,
            generation=generation,
            **fields,
        )
        observation.wrapper.end(end_time=end_ns if end_ns is not None else time.time_ns())

    def open_step(self, name: str, *, start_ns: int | None = None, **fields: Any) -> Observation:
        observation = self.start(name, start_ns=start_ns, **fields)
        self._open.append(observation)
        return observation

    def close_step(
        self,
        observation: Observation,
        *,
        error: BaseException | None = None,
        end_ns: int | None = None,
    ) -> None:
        if error is not None:
            observation.wrapper.update(
                level="ERROR", status_message=f"{type(error).__name__}: {error}"
            )
        observation.wrapper.end(end_time=end_ns)
        if observation in self._open:
            self._open.remove(observation)

    def finalize(self, status: str, error: str | None, artifacts: list[str]) -> None:
        """Close any step left open, then the root with the run's status."""
        for observation in reversed(self._open[1:]):
            observation.wrapper.end()
        self._open = [self.root]
        self.root.wrapper.update(
            output={"status": status, "error": error, "artifacts": artifacts},
            metadata={"status": status},
            level="ERROR" if status == "failed" else ("WARNING" if status == "partial" else None),
            status_message=error,
        )
        self.root.wrapper.end()
        self.finished = True
