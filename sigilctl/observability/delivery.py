"""Delivering a finished trace within the bound, and spooling what Langfuse did not accept.

Everything heavy happens here, in one daemon thread, and the run waits for it at most the
bound (``SIGILCTL_TRACE_FLUSH_TIMEOUT``, default 2 s): loading the SDK and OpenTelemetry,
building and encoding the spans, and the POST. When the POST is answered with anything but 2xx,
or not answered within the bound, the encoded request is written to the spool (atomically) and
the run goes on; ``sigilctl traces flush`` re-sends it later. Should the answer still arrive
while the process lives, an accepted trace is taken out of the spool again.

The one thing that can outlast the bound: when the bound is shorter than building the trace
(local CPU work, ~0.1–0.3 s, mostly importing the SDK), the run waits for the build so that the
trace can be spooled rather than lost — at most ``BUILD_GRACE_S``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Literal

from sigilctl import logs
from sigilctl.observability.records import TraceDocument
from sigilctl.observability.settings import Destination
from sigilctl.observability.spool import SpoolEntry, TraceSpool
from sigilctl.observability.transport import Answer, send_otlp

log = logs.get_logger("observability")
BUILD_GRACE_S = 5.0
Outcome = Literal["accepted", "spooled", "lost"]


@dataclass(frozen=True)
class DeliveryReport:
    """What became of one trace: accepted by Langfuse, spooled for later, or lost (and why)."""

    trace_id: str
    host: str
    outcome: Outcome
    seconds: float
    reason: str | None = None
    spooled: SpoolEntry | None = None

    def problem(self) -> str | None:
        """One phrase for the run's warning line, or None when the trace was accepted."""
        if self.outcome == "accepted":
            return None
        where = f"the trace was not delivered to {self.host}"
        if self.outcome == "spooled":
            return f"{where} ({self.reason}); spooled for 'sigilctl traces flush'"
        return f"{where} and is lost ({self.reason})"


class _Attempt:
    """The shared state of one delivery: the worker thread and the waiting run use the lock."""

    def __init__(
        self, doc: TraceDocument, destination: Destination, spool: TraceSpool, deadline: float
    ) -> None:
        self.doc = doc
        self.destination = destination
        self.spool = spool
        self.deadline = deadline
        self.lock = threading.Lock()
        self.built = threading.Event()
        self.settled = threading.Event()
        self.request: bytes | None = None
        self.answer: Answer | None = None
        self.entry: SpoolEntry | None = None
        self.trouble: str | None = None
        self.gave_up = False

    def work(self) -> None:
        try:
            from sigilctl.observability.export import encode_trace

            request = encode_trace(self.doc)
        except Exception:
            log.debug("tracing: building the trace failed", exc_info=True)
            with self.lock:
                self.trouble = "an internal error while building it"
            self.built.set()
            self.settled.set()
            return
        with self.lock:
            self.request = request
            if self.gave_up:  # the run stopped waiting before the build was done
                self.spool_locked()
        self.built.set()
        answer = send_otlp(
            self.destination, request, timeout_s=max(self.deadline - time.monotonic(), 0.05)
        )
        with self.lock:
            self.answer = answer
            if answer.ok and self.entry is not None:
                self.unspool_locked()
            elif not answer.ok and self.entry is None:
                self.spool_locked()
        self.settled.set()

    def spool_locked(self) -> None:
        assert self.request is not None
        try:
            entry = self.spool.put(self.doc.trace_id, self.request)
        except OSError as exc:
            log.debug("tracing: spooling the trace failed", exc_info=True)
            self.trouble = f"the spool {self.spool.directory} cannot be written: {exc.strerror}"
            return
        if entry is None:
            self.trouble = "the spool is full (SIGILCTL_TRACE_SPOOL_MAX_MB): it was dropped"
        self.entry = entry

    def unspool_locked(self) -> None:
        assert self.entry is not None
        try:
            self.spool.remove(self.entry)
        except OSError:
            log.debug("tracing: removing a delivered trace from the spool failed", exc_info=True)
        self.entry = None

    def report(self, host: str, seconds: float, bound_s: float) -> DeliveryReport:
        with self.lock:
            answer, entry, trouble = self.answer, self.entry, self.trouble
        trace_id = self.doc.trace_id
        if answer is not None and answer.ok:
            return DeliveryReport(trace_id, host, "accepted", seconds)
        reason = answer.describe() if answer is not None else f"no answer within {bound_s:g} s"
        if entry is not None:
            return DeliveryReport(trace_id, host, "spooled", seconds, reason, entry)
        if trouble is not None:
            reason = trouble if answer is None and self.request is None else f"{reason}; {trouble}"
        return DeliveryReport(trace_id, host, "lost", seconds, reason)


def deliver(
    doc: TraceDocument, destination: Destination, spool: TraceSpool, bound_s: float
) -> DeliveryReport:
    """Send ``doc`` to Langfuse, waiting at most ``bound_s``; spool it when not accepted."""
    started = time.monotonic()
    attempt = _Attempt(doc, destination, spool, started + bound_s)
    worker = threading.Thread(target=attempt.work, name="sigilctl-trace-delivery", daemon=True)
    worker.start()
    if not attempt.settled.wait(bound_s):
        attempt.built.wait(BUILD_GRACE_S)
        with attempt.lock:
            attempt.gave_up = True
            waiting = attempt.answer is None and attempt.entry is None
            if waiting and attempt.request is not None:
                attempt.spool_locked()
            elif attempt.request is None and attempt.trouble is None:
                attempt.trouble = f"it could not be built within {BUILD_GRACE_S:g} s"
    seconds = time.monotonic() - started
    report = attempt.report(destination.host, seconds, bound_s)
    log.debug("tracing: trace %s %s in %.0f ms", doc.trace_id, report.outcome, seconds * 1000)
    return report
