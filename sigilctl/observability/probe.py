"""Proof of delivery: send one small probe trace and poll ``GET /api/public/traces/<id>`` until
the server returns it (ingestion is asynchronous: an accepted POST is not yet a stored trace).

The probe trace is built and encoded exactly like a run's (``export``), named
``sigilctl:probe`` and tagged ``sigilctl-probe``, so it can be told apart in Langfuse.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sigilctl.observability.records import SpanRecord, TraceDocument
from sigilctl.observability.settings import Destination, environment_name, release_name
from sigilctl.observability.transport import Answer, get_trace, send_otlp

PROBE_NAME = "sigilctl:probe"
FIRST_POLL_S = 0.25
MAX_POLL_S = 2.0


@dataclass(frozen=True)
class ProbeResult:
    trace_id: str | None
    delivered: bool
    seconds: float
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "trace_id": self.trace_id,
            "delivered": self.delivered,
            "seconds": round(self.seconds, 3),
        }
        if self.error:
            document["error"] = self.error
        return document


def probe_document() -> TraceDocument:
    """A one-span trace with a fresh random id."""
    now = time.time_ns()
    sent_at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    root = SpanRecord(
        PROBE_NAME,
        now,
        end_ns=now,
        input={"probe": True, "sent_at": sent_at},
        output={"status": "sent"},
    )
    return TraceDocument(
        trace_id=secrets.token_hex(16),
        name=PROBE_NAME,
        tags=("sigilctl-probe",),
        metadata={"probe": "true"},
        environment=environment_name(),
        release=release_name(),
        spans=(root,),
    )


def _found(answer: Answer, trace_id: str) -> bool:
    if not answer.ok:
        return False
    try:
        return bool(answer.json().get("id") == trace_id)
    except (ValueError, AttributeError):
        return False


def probe(target: Destination, timeout_s: float) -> ProbeResult:
    """Send a probe trace and wait (at most ``timeout_s``) until the server returns it."""
    from sigilctl.observability.export import encode_trace

    started = time.monotonic()
    deadline = started + timeout_s
    doc = probe_document()
    sent = send_otlp(target, encode_trace(doc), timeout_s=max(timeout_s, 0.1))
    if not sent.ok:
        return ProbeResult(doc.trace_id, False, time.monotonic() - started, sent.describe())
    pause = FIRST_POLL_S
    last: Answer | None = None
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        last = get_trace(target, doc.trace_id, timeout_s=max(min(remaining, 5.0), 0.1))
        if _found(last, doc.trace_id):
            return ProbeResult(doc.trace_id, True, time.monotonic() - started)
        if last.cause not in (None, "refused"):  # 404 means "not yet"; anything else is a fault
            break
        time.sleep(max(min(pause, deadline - time.monotonic()), 0))
        pause = min(pause * 2, MAX_POLL_S)
    why = f"not returned within {timeout_s:g} s"
    if last is not None and last.cause not in (None, "refused"):
        why = f"{why}: {last.describe()}"
    return ProbeResult(doc.trace_id, False, time.monotonic() - started, why)
