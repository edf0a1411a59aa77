"""OTLP/HTTP trace payloads as data: decode an export request into plain spans.

Used to read what a run exported (the local receiver of ``sigilctl smoke`` and the tests) and
what the trace spool holds, with no network. opentelemetry-proto comes with the OTLP exporter.
"""

from __future__ import annotations

import gzip
import json
import zlib
from dataclasses import dataclass, field
from typing import Any

# An ExportTraceServiceResponse with no partial_success: the protobuf encoding of an empty message.
EXPORT_ACCEPTED = b""


@dataclass
class ReceivedSpan:
    """One exported span, decoded: ids as lowercase hex, attributes as Python values."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    start_ns: int
    end_ns: int
    attributes: dict[str, Any] = field(default_factory=dict)
    scope: str = ""
    scope_version: str = ""
    resource: dict[str, Any] = field(default_factory=dict)
    status_code: int = 0  # OTLP: 0 unset, 1 ok, 2 error
    status_message: str = ""

    def attr_json(self, key: str) -> Any:
        """An attribute the SDK stores as JSON text (metadata, input, output, usage)."""
        value = self.attributes.get(key)
        return json.loads(value) if isinstance(value, str) else value


def _any_value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _any_value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, kind)


def decode_spans(body: bytes, encoding: str | None) -> list[ReceivedSpan]:
    """Decode one OTLP/HTTP protobuf export request (gzip or deflate or plain).

    Raises ``ValueError`` for a body that is not such a request.
    """
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    try:
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"the body is not valid {encoding}: {exc}") from None
    from google.protobuf.message import DecodeError

    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except DecodeError as exc:
        raise ValueError(f"not an OTLP trace export request: {exc}") from None
    spans: list[ReceivedSpan] = []
    for resource_spans in request.resource_spans:
        resource = {a.key: _any_value(a.value) for a in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    ReceivedSpan(
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex() or None,
                        name=span.name,
                        start_ns=span.start_time_unix_nano,
                        end_ns=span.end_time_unix_nano,
                        attributes={a.key: _any_value(a.value) for a in span.attributes},
                        scope=scope_spans.scope.name,
                        scope_version=scope_spans.scope.version,
                        resource=resource,
                        status_code=span.status.code,
                        status_message=span.status.message,
                    )
                )
    return spans
