"""A finished trace → one OTLP/HTTP protobuf request, in the Langfuse SDK's attribute dialect.

Spans are built on a ``TracerProvider`` of our own (the process-global one is never touched):
its id generator hands out the trace id chosen for the run and the span ids recorded with each
span, so the root ``job:<job_type>`` is a true root (no parent span id) that still carries the
deterministic trace id, and every other span's parent is a span of the same request.
Attribute names are the SDK's public ``LangfuseOtelSpanAttributes`` (``wire``); the
instrumentation scope is the SDK's (``langfuse-sdk``), which tells the server the spans speak
that dialect.

Imported only by the bounded delivery step and the probe (this module loads OpenTelemetry at
import time; the Langfuse SDK itself is never loaded by a run).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.id_generator import IdGenerator

from sigilctl import __version__, env
from sigilctl.observability import wire
from sigilctl.observability.records import SpanRecord, TraceDocument
from sigilctl.observability.transport import sdk_version
from sigilctl.observability.wire import SCOPE_NAME

SERVICE_NAME = "sigilctl"
__all__ = ["SCOPE_NAME", "build_spans", "encode_trace"]


class _ChosenIds(IdGenerator):
    """Hands out the ids decided when the spans were recorded, one span at a time."""

    def __init__(self, trace_id: int) -> None:
        self.trace_id = trace_id
        self.span_id = 0

    def generate_trace_id(self) -> int:
        return self.trace_id

    def generate_span_id(self) -> int:
        return self.span_id


class _Collect(SpanExporter):
    """Keeps finished spans in memory: the request is encoded once, sent or spooled as bytes."""

    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


def _text(value: Any) -> str:
    """The SDK's serialization: strings as they are, anything else as JSON; secrets scrubbed."""
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return env.scrub(text)


def _depth(span: SpanRecord, parents: dict[str, str | None]) -> int:
    depth, parent = 0, span.parent_id
    while parent is not None and depth < len(parents):
        depth, parent = depth + 1, parents.get(parent)
    return depth


def _attributes(doc: TraceDocument, span: SpanRecord) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        wire.TRACE_NAME: doc.name,
        wire.TRACE_TAGS: list(doc.tags),
        wire.OBSERVATION_TYPE: span.type,
    }
    # Plain strings, not JSON-quoted: Langfuse stores metadata as sent, and its "=" filter
    # compares the stored text with what the operator types (a pasted run_id).
    for key, value in doc.metadata.items():
        attrs[f"{wire.TRACE_METADATA}.{key}"] = env.scrub(value)
    for key, value in span.metadata.items():
        attrs[f"{wire.OBSERVATION_METADATA}.{key}"] = _text(value)
    if span.input is not None:
        attrs[wire.OBSERVATION_INPUT] = _text(span.input)
    if span.output is not None:
        attrs[wire.OBSERVATION_OUTPUT] = _text(span.output)
    if span.level is not None:
        attrs[wire.OBSERVATION_LEVEL] = span.level
    if span.status_message:
        attrs[wire.OBSERVATION_STATUS_MESSAGE] = env.scrub(span.status_message)
    if span.type == "generation":
        if span.model:
            attrs[wire.OBSERVATION_MODEL] = span.model
        if span.model_parameters:
            attrs[wire.OBSERVATION_MODEL_PARAMETERS] = _text(span.model_parameters)
        attrs[wire.OBSERVATION_USAGE_DETAILS] = _text(span.usage or {})
        attrs[wire.OBSERVATION_COST_DETAILS] = _text(span.cost or {})
    return attrs


@functools.lru_cache(maxsize=8)
def _resource(environment: str, release: str) -> Resource:
    """Who sends: sigilctl, its version, Langfuse's environment and release (built once per
    process and setting: detecting the default resource costs milliseconds)."""
    return Resource.create(
        {
            "service.name": SERVICE_NAME,
            "service.version": __version__,
            wire.ENVIRONMENT: environment,
            wire.RELEASE: release,
        }
    )


def build_spans(doc: TraceDocument) -> list[ReadableSpan]:
    """The trace's spans as finished OpenTelemetry spans, parents started before children."""
    ids = _ChosenIds(int(doc.trace_id, 16))
    collect = _Collect()
    provider = TracerProvider(
        resource=_resource(doc.environment, doc.release), id_generator=ids, shutdown_on_exit=False
    )
    provider.add_span_processor(SimpleSpanProcessor(collect))
    tracer = provider.get_tracer(SCOPE_NAME, sdk_version())
    parents = {s.span_id: s.parent_id for s in doc.spans}
    started: dict[str, otel_trace.Span] = {}
    try:
        for record in sorted(doc.spans, key=lambda s: (_depth(s, parents), s.start_ns)):
            parent = started.get(record.parent_id) if record.parent_id else None
            if record.parent_id is not None and parent is None:
                continue  # an orphan (its parent was never recorded): not sent
            context = (
                otel_trace.set_span_in_context(parent)
                if parent is not None
                else otel_context.Context()  # empty: the root has no parent at all
            )
            ids.span_id = int(record.span_id, 16)
            span = tracer.start_span(
                record.name,
                context=context,
                start_time=record.start_ns,
                attributes=_attributes(doc, record),
            )
            if record.level == "ERROR":
                span.set_status(otel_trace.StatusCode.ERROR, record.status_message)
            started[record.span_id] = span
        for record in sorted(doc.spans, key=lambda s: -_depth(s, parents)):
            span_or_none = started.get(record.span_id)
            if span_or_none is not None:
                end = record.end_ns if record.end_ns is not None else record.start_ns
                span_or_none.end(end_time=max(end, record.start_ns))
    finally:
        provider.shutdown()
    return collect.spans


def encode_trace(doc: TraceDocument) -> bytes:
    """One ``ExportTraceServiceRequest`` holding the whole trace, serialized (not compressed)."""
    request = encode_spans(build_spans(doc))
    data: bytes = request.SerializeToString()
    return data
