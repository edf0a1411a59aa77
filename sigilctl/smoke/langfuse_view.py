"""A small model of what a Langfuse server makes of the spans it received: the trace it displays.

It follows the server's documented rules that matter to sigilctl (langfuse/langfuse 4.x,
``OtelIngestionProcessor.ts`` and the events query builder; see docs/observability.md):

- the trace's input, output and metadata come only from a span with **no parent span id**; a
  root that names a parent which was never sent leaves them empty;
- trace name and tags: the latest non-empty ``langfuse.trace.name`` / ``langfuse.trace.tags``;
- metadata values are stored **as sent** (a JSON-quoted id stays quoted, and "=" misses it);
- an observation's type is ``langfuse.observation.type`` (a model name makes a generation);
  usage is ``langfuse.observation.usage_details`` as sent (priced keys input, output, total);
  level is ``langfuse.observation.level``, else ERROR when the OTel status is error;
- times are cut to milliseconds; environment from the span, then the resource, else
  ``default``; release ``langfuse.release``; version ``langfuse.version`` else
  ``service.version``.

The local receiver answers ``GET /api/public/traces/{id}`` with ``trace_view`` (the public
API's field names), so a test or ``smoke`` reads "what Langfuse would display".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sigilctl.observability.otlp import ReceivedSpan

TRACE_METADATA = "langfuse.trace.metadata."
OBSERVATION_METADATA = "langfuse.observation.metadata."
ENVIRONMENT_KEYS = ("langfuse.environment", "deployment.environment.name", "deployment.environment")
STATUS_ERROR = 2


def _decoded(value: Any) -> Any:
    """Input and output are shown parsed when they are JSON text, else as the raw string."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _iso_ms(ns: int) -> str:
    moment = datetime.fromtimestamp(ns // 1_000_000 / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _latest(spans: Sequence[ReceivedSpan], key: str) -> Any:
    values = [s.attributes.get(key) for s in spans if s.attributes.get(key)]
    return values[-1] if values else None


def _environment(span: ReceivedSpan) -> str:
    for key in ENVIRONMENT_KEYS:
        for source in (span.attributes, span.resource):
            if source.get(key):
                return str(source[key])
    return "default"


def _metadata(span: ReceivedSpan) -> dict[str, Any]:
    """Observation and trace metadata keys of one span, values exactly as stored."""
    found: dict[str, Any] = {}
    for key, value in span.attributes.items():
        for prefix in (OBSERVATION_METADATA, TRACE_METADATA):
            if key.startswith(prefix):
                found[key.removeprefix(prefix)] = value
    return found


def _level(span: ReceivedSpan) -> str:
    level = span.attributes.get("langfuse.observation.level")
    if level:
        return str(level)
    return "ERROR" if span.status_code == STATUS_ERROR else "DEFAULT"


def _type(span: ReceivedSpan) -> str:
    kind = span.attributes.get("langfuse.observation.type")
    if kind:
        return str(kind).upper()
    return "GENERATION" if span.attributes.get("langfuse.observation.model.name") else "SPAN"


def observation_view(span: ReceivedSpan) -> dict[str, Any]:
    attrs = span.attributes
    usage = _decoded(attrs.get("langfuse.observation.usage_details"))
    cost = _decoded(attrs.get("langfuse.observation.cost_details"))
    return {
        "id": span.span_id,
        "traceId": span.trace_id,
        "parentObservationId": span.parent_span_id,
        "type": _type(span),
        "name": span.name,
        "startTime": _iso_ms(span.start_ns),
        "endTime": _iso_ms(span.end_ns),
        "level": _level(span),
        "statusMessage": attrs.get("langfuse.observation.status_message")
        or span.status_message
        or None,
        "model": attrs.get("langfuse.observation.model.name"),
        "modelParameters": _decoded(attrs.get("langfuse.observation.model.parameters")),
        "input": _decoded(attrs.get("langfuse.observation.input")),
        "output": _decoded(attrs.get("langfuse.observation.output")),
        "metadata": _metadata(span),
        "usageDetails": usage if isinstance(usage, dict) else {},
        "costDetails": cost if isinstance(cost, dict) else {},
        "environment": _environment(span),
        "version": attrs.get("langfuse.version") or span.resource.get("service.version"),
    }


def server_estimates_cost(observation: dict[str, Any]) -> bool:
    """A generation with a model but no usage and no cost: the server tokenizes and prices it
    itself (also when the call failed)."""
    return (
        observation["type"] == "GENERATION"
        and bool(observation["model"])
        and not observation["usageDetails"]
        and not observation["costDetails"]
    )


def trace_view(spans: Sequence[ReceivedSpan], trace_id: str) -> dict[str, Any] | None:
    """The trace as ``GET /api/public/traces/{id}`` would return it, or None (404)."""
    mine = [s for s in spans if s.trace_id == trace_id]
    if not mine:
        return None
    roots = [s for s in mine if s.parent_span_id is None]
    root = roots[-1] if roots else None
    observations = [observation_view(s) for s in mine]
    start = min(s.start_ns for s in mine)
    end = max(max(s.end_ns, s.start_ns) for s in mine)
    return {
        "id": trace_id,
        "name": _latest(mine, "langfuse.trace.name") or (root.name if root else None),
        "timestamp": _iso_ms(start),
        "input": _decoded(root.attributes.get("langfuse.observation.input")) if root else None,
        "output": _decoded(root.attributes.get("langfuse.observation.output")) if root else None,
        "metadata": _metadata(root) if root else {},
        "tags": list(_latest(mine, "langfuse.trace.tags") or []),
        "environment": _environment(root or mine[0]),
        "release": _latest(mine, "langfuse.release")
        or next((s.resource.get("langfuse.release") for s in mine if s.resource), None),
        "version": observations[0]["version"],
        "public": False,
        "bookmarked": False,
        "sessionId": None,
        "userId": None,
        "htmlPath": f"/project/local/traces/{trace_id}",
        "latency": round((end - start) / 1e9, 3),
        "totalCost": round(
            sum(float(o["costDetails"].get("total", 0) or 0) for o in observations), 9
        ),
        "observations": observations,
        "scores": [],
    }


def tree_lines(view: dict[str, Any]) -> list[str]:
    """The trace as an indented tree of ``name (TYPE, level)``, roots first, by start time."""
    observations = view["observations"]
    ids = {o["id"] for o in observations}
    children: dict[str | None, list[dict[str, Any]]] = {}
    for o in observations:
        parent = o["parentObservationId"] if o["parentObservationId"] in ids else None
        children.setdefault(parent, []).append(o)
    lines: list[str] = []

    def walk(parent: str | None, depth: int) -> None:
        for o in sorted(children.get(parent, []), key=lambda x: (x["startTime"], x["name"])):
            level = "" if o["level"] == "DEFAULT" else f", {o['level']}"
            lines.append(f"{'  ' * depth}{o['name']} ({o['type'].lower()}{level})")
            walk(o["id"], depth + 1)

    walk(None, 0)
    return lines
