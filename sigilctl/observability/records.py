"""A trace as plain typed records: what a run recorded, before any SDK is loaded.

A run records its spans as ``SpanRecord``s (ids chosen up front, times measured); only the
bounded delivery step turns them into OpenTelemetry spans in Langfuse's attribute dialect
(``export.py``). So recording costs microseconds, and everything heavy happens inside the bound.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any, Literal

Level = Literal["DEBUG", "DEFAULT", "WARNING", "ERROR"]
ObservationType = Literal["span", "generation"]
TRACE_SEED_PREFIX = "sigilzero/trace/v1:"
# Langfuse's usage and cost keys: sent explicitly, zero when unknown, so the server never
# estimates a cost of its own (it tokenizes and prices a generation sent without both).
COST_KEYS = ("input", "output", "total")


def trace_id_for(run_id: str, started_at: str) -> str:
    """Deterministic per execution: a ``--force`` re-run (new started_at) gets a new trace.

    The same function as the Langfuse SDK's ``create_trace_id(seed=...)`` (first 16 bytes of
    SHA-256 of the seed, hex), computed without loading the SDK; a test pins the two together.
    """
    return sha256(f"{TRACE_SEED_PREFIX}{run_id}:{started_at}".encode()).digest()[:16].hex()


def new_span_id() -> str:
    """16 hex digits, never all zeros (OTLP rejects an all-zero span id)."""
    while True:
        value = secrets.token_hex(8)
        if value != "0" * 16:
            return value


@dataclass
class SpanRecord:
    """One observation: a span or a generation, with the ids and times it will be sent with."""

    name: str
    start_ns: int
    span_id: str = field(default_factory=new_span_id)
    parent_id: str | None = None
    end_ns: int | None = None
    type: ObservationType = "span"
    input: Any = None
    output: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)
    level: Level | None = None
    status_message: str | None = None
    model: str | None = None
    model_parameters: dict[str, Any] | None = None
    usage: dict[str, int] | None = None
    cost: dict[str, float] | None = None

    @property
    def ended(self) -> bool:
        return self.end_ns is not None


@dataclass(frozen=True)
class TraceDocument:
    """A finished trace, immutable: what export turns into one OTLP request."""

    trace_id: str
    name: str
    tags: tuple[str, ...]
    metadata: Mapping[str, str]
    environment: str
    release: str
    spans: tuple[SpanRecord, ...]


def usage_details(usage: Mapping[str, int | None] | None) -> dict[str, int]:
    """A usage record in Langfuse's keys (input, output, total), zero where unknown."""
    names = {"prompt_tokens": "input", "completion_tokens": "output", "total_tokens": "total"}
    known = {names.get(k, k): v for k, v in (usage or {}).items() if isinstance(v, int)}
    details = {key: known.get(key, 0) for key in COST_KEYS}
    if "total" not in known:
        details["total"] = details["input"] + details["output"]
    details.update({k: v for k, v in known.items() if k not in COST_KEYS})
    return details


def cost_details(cost: Mapping[str, float | None] | None) -> dict[str, float]:
    """A cost in USD by Langfuse's keys, zero where unknown (never left for the server)."""
    known = {k: float(v) for k, v in (cost or {}).items() if isinstance(v, int | float)}
    details = {key: known.get(key, 0.0) for key in COST_KEYS}
    if "total" not in known:
        details["total"] = details["input"] + details["output"]
    return details
