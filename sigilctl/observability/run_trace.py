"""The live trace of one run: its root span ``job:<job_type>``, its spans as records, and the
count of tracing faults that were swallowed so the pipeline never saw them.

The trace a pipeline's code talks to is the *current* one, held in a context variable that
the run sets while its pipeline executes (``current_trace``); the span new work nests under is
held the same way, so nesting follows the code (``with`` blocks, threads given a copied context,
asyncio tasks) without anyone passing a trace around.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any

from sigilctl import env
from sigilctl.observability.records import Level, SpanRecord, TraceDocument, new_span_id
from sigilctl.steps import StepRecord, payload_fields

# The root's level for a run's status: Langfuse shows failed runs as errors.
RUN_LEVELS: dict[str, Level] = {"failed": "ERROR", "partial": "WARNING"}
# (trace, the span new work nests under: None for the root) for the code running now.
Current = tuple["RunTrace", SpanRecord | None]
_current: ContextVar[Current | None] = ContextVar("sigilctl_current_trace", default=None)


@dataclass(frozen=True)
class GovernanceIds:
    job_id: str
    run_id: str
    job_type: str
    brand: str
    inputs_hash: str
    queue_job_id: str | None = None

    def metadata(self) -> dict[str, str]:
        """The ids as trace metadata: plain strings, so Langfuse's "=" filter finds them."""
        fields = {
            "job_id": self.job_id,
            "run_id": self.run_id,
            "job_type": self.job_type,
            "brand": self.brand,
            "inputs_hash": self.inputs_hash,
            "queue_job_id": self.queue_job_id,
        }
        return {k: v for k, v in fields.items() if v is not None}


class RunTrace:
    """One run's trace while it is recorded. Thread-safe; finished by ``finalize``."""

    def __init__(
        self,
        ids: GovernanceIds,
        *,
        trace_id: str,
        environment: str,
        release: str,
        start_ns: int | None = None,
    ) -> None:
        self.ids = ids
        self.trace_id = trace_id
        self.name = f"job:{ids.job_type}"
        self.tags = (ids.job_type, ids.brand)
        self.environment = environment
        self.release = release
        self.finished = False
        self.failures = 0
        self._lock = threading.Lock()
        self.root = SpanRecord(
            self.name,
            start_ns if start_ns is not None else time.time_ns(),
            input={"job_id": ids.job_id, "run_id": ids.run_id, "inputs_hash": ids.inputs_hash},
        )
        self._spans: list[SpanRecord] = [self.root]

    def open_span(
        self,
        name: str,
        parent: SpanRecord | None = None,
        *,
        start_ns: int | None = None,
        **fields: Any,
    ) -> SpanRecord | None:
        """A new span under ``parent`` (the root by default); None once the trace is finished."""
        with self._lock:
            if self.finished:
                return None
            span = SpanRecord(
                name,
                start_ns if start_ns is not None else time.time_ns(),
                parent_id=(parent or self.root).span_id,
                **fields,
            )
            self._spans.append(span)
            return span

    def close_span(
        self, span: SpanRecord, *, end_ns: int | None = None, error: BaseException | None = None
    ) -> None:
        """End a span (once); an error marks it ERROR with the error's class and message."""
        with self._lock:
            if span.end_ns is not None:
                return
            if error is not None:
                span.level = "ERROR"
                span.status_message = env.scrub(f"{type(error).__name__}: {error}")
            span.end_ns = max(end_ns if end_ns is not None else time.time_ns(), span.start_ns)

    def update_span(self, span: SpanRecord, **output: Any) -> None:
        """Merge keyword output into a span's output (a dict)."""
        with self._lock:
            current = span.output if isinstance(span.output, dict) else {}
            span.output = {**current, **output}

    def add_measured(self, steps: Sequence[StepRecord]) -> None:
        """Steps measured before the trace existed (SPEC §5 steps 1–6), with their own times.

        Rendered generically: a step's typed input and output payloads become the span's input
        and output; ``parent`` names the enclosing step.
        """
        ids = [new_span_id() for _ in steps]
        by_name: dict[str, str] = {}
        for step, span_id in zip(steps, ids, strict=True):
            by_name.setdefault(step.name, span_id)
        order = sorted(
            range(len(steps)), key=lambda i: (steps[i].parent is not None, steps[i].start_ns)
        )
        with self._lock:
            for index in order:
                step = steps[index]
                parent = by_name.get(step.parent) if step.parent else None
                self._spans.append(
                    SpanRecord(
                        step.name,
                        step.start_ns,
                        span_id=ids[index],
                        parent_id=parent or self.root.span_id,
                        end_ns=max(step.end_ns, step.start_ns),
                        input=payload_fields(step.input),
                        output=payload_fields(step.output),
                    )
                )
                self.root.start_ns = min(self.root.start_ns, step.start_ns)

    def note_failure(self) -> None:
        """A tracing fault was swallowed (the pipeline never sees it): count it."""
        with self._lock:
            self.failures += 1

    def finalize(self, status: str, error: str | None, artifacts: Sequence[str]) -> None:
        """Close what is still open, then the root with the run's status; later calls: no-op."""
        now = time.time_ns()
        with self._lock:
            if self.finished:
                return
            for span in self._spans[1:]:
                if span.end_ns is None:
                    span.end_ns = max(now, span.start_ns)
            message = env.scrub(error) if error else None
            self.root.output = {"status": status, "error": message, "artifacts": list(artifacts)}
            self.root.metadata["status"] = status
            self.root.level = RUN_LEVELS.get(status)
            self.root.status_message = message
            self.root.end_ns = max([now, *(s.end_ns or now for s in self._spans[1:])])
            self.finished = True

    def document(self) -> TraceDocument:
        """The finished trace as one immutable document (what export sends)."""
        with self._lock:
            return TraceDocument(
                trace_id=self.trace_id,
                name=self.name,
                tags=self.tags,
                metadata=self.ids.metadata(),
                environment=self.environment,
                release=self.release,
                spans=tuple(self._spans),
            )


def current() -> Current | None:
    """The live trace of the code running now and the span to nest under (None: its root)."""
    found = _current.get()
    if found is None or found[0].finished:
        return None
    return found


@contextmanager
def current_trace(trace: RunTrace | None) -> Iterator[None]:
    """Make ``trace`` the current trace for the block (new work nests under its root)."""
    token = _current.set((trace, None) if trace is not None else None)
    try:
        yield
    finally:
        _reset(token)


def enter_span(trace: RunTrace, span: SpanRecord) -> Token[Current | None]:
    """Make ``span`` the one new work nests under; undo with ``leave_span``."""
    return _current.set((trace, span))


def leave_span(token: Token[Current | None]) -> None:
    _reset(token)


def _reset(token: Token[Current | None]) -> None:
    try:
        _current.reset(token)
    except ValueError:  # exited in another context (e.g. a generator closed elsewhere)
        _current.set(None)
