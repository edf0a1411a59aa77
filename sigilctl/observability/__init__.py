"""Tracing, secondary to execution: it starts after run_id exists and never breaks a run.

One pattern: module-level helpers that take the run's trace, or ``None`` when the run is not
traced (no keys, ``--no-trace``, ``observability.enabled: false``, sampled out). With ``None``
every helper is a no-op; an error inside a helper is logged (``-v``) and swallowed, never raised
into the pipeline. This package is the only place that imports langfuse, and only once a run is
actually traced (``--help``, ``show``, ``verify`` and ``reindex`` never load it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sigilctl import env, logs
from sigilctl.observability.settings import decide, flush_timeout_s, is_observability_enabled
from sigilctl.steps import StepRecord

if TYPE_CHECKING:
    from sigilctl.observability.trace import Observation, PipelineTrace

__all__ = [
    "GovernanceIds",
    "Step",
    "abort_trace",
    "finalize_trace",
    "flush",
    "is_observability_enabled",
    "record_steps",
    "start_pipeline_trace",
    "trace_context_retrieval",
    "trace_doctrine_load",
    "trace_id",
    "trace_llm_call",
    "trace_output_generation",
    "trace_snapshot_creation",
    "trace_step",
]

log = logs.get_logger("observability")
T = TypeVar("T")

# Warning lines gathered during a run (setup failures, dropped spans), handed out by flush().
_pending: list[str] = []
# Public keys of the clients that started a trace since the last flush: only those are flushed.
_used: set[str] = set()


@dataclass(frozen=True)
class GovernanceIds:
    job_id: str
    run_id: str
    job_type: str
    brand: str
    inputs_hash: str
    queue_job_id: str | None = None

    def metadata(self) -> dict[str, str]:
        fields = {
            "job_id": self.job_id,
            "run_id": self.run_id,
            "job_type": self.job_type,
            "brand": self.brand,
            "inputs_hash": self.inputs_hash,
            "queue_job_id": self.queue_job_id,
        }
        return {k: v for k, v in fields.items() if v is not None}


def _guard(what: str, fn: Callable[[], T], default: T) -> T:
    """Run a tracing action; any failure is logged and noted, never raised."""
    try:
        return fn()
    except Exception:
        log.debug("tracing: %s failed", what, exc_info=True)
        _note("an internal error dropped part of the trace")
        return default


def _note(message: str) -> None:
    if message not in _pending:
        _pending.append(message)


def _live(trace: PipelineTrace | None) -> PipelineTrace | None:
    return trace if trace is not None and not trace.finished else None


def trace_id(trace: PipelineTrace | None) -> str | None:
    """The trace id to record in the manifest (None when not traced)."""
    return trace.trace_id if trace is not None else None


def start_pipeline_trace(
    ids: GovernanceIds,
    *,
    enabled: bool,
    sample_rate: float | None,
    started_at: str = "",
    start_ns: int | None = None,
) -> PipelineTrace | None:
    """Start the run's trace (after run_id); None when this run is not traced.

    ``started_at`` seeds the trace id with run_id, so a forced re-run gets its own trace
    (without it, the trace id is fresh);
    ``start_ns`` backdates the root span to the first measured step.
    """
    _pending.clear()
    decision = _guard(
        "deciding", lambda: decide(ids.run_id, enabled=enabled, sample_rate=sample_rate), None
    )
    if decision is None or not decision.traced:
        if decision is not None:
            log.debug("tracing: not traced: %s", decision.reason)
            if decision.warning:
                _note(decision.warning)
        return None
    return _guard("starting the trace", lambda: _start(ids, started_at, start_ns), None)


def _start(ids: GovernanceIds, started_at: str, start_ns: int | None) -> PipelineTrace:
    from sigilctl.observability.client import get_tracing
    from sigilctl.observability.trace import PipelineTrace, trace_id_for

    tracing = get_tracing(export_timeout_s=flush_timeout_s())
    _used.add(tracing.public_key)
    seed_time = started_at or f"ns:{time.time_ns()}"  # no start time given: a fresh trace
    return PipelineTrace(
        tracing,
        trace_id=trace_id_for(ids.run_id, seed_time),
        name=f"job:{ids.job_type}",
        tags=[ids.job_type, ids.brand],
        metadata=ids.metadata(),
        input={"job_id": ids.job_id, "run_id": ids.run_id, "inputs_hash": ids.inputs_hash},
        start_ns=start_ns,
    )


class Step:
    """What ``trace_step`` yields: ``update(...)`` adds output to the step; no-op when untraced."""

    def update(self, **output: Any) -> None:
        return None


class _LiveStep(Step):
    def __init__(self, observation: Observation) -> None:
        self.observation = observation

    def update(self, **output: Any) -> None:
        _guard("updating a step", lambda: self.observation.wrapper.update(output=output), None)


@contextmanager
def trace_step(trace: PipelineTrace | None, name: str, **inputs: Any) -> Iterator[Step]:
    """``with trace_step(trace, "load_doctrine"): ...`` — a span around the block.

    An exception from the block is recorded on the span and re-raised unchanged.
    """
    live = _live(trace)
    observation = None
    if live is not None:
        observation = _guard(
            f"starting step {name}", lambda: live.open_step(name, input=inputs or None), None
        )
    if live is None or observation is None:
        yield Step()
        return
    error: BaseException | None = None
    try:
        yield _LiveStep(observation)
    except BaseException as exc:
        error = exc
        raise
    finally:
        _guard(f"ending step {name}", lambda: live.close_step(observation, error=error), None)


def _record(trace: PipelineTrace | None, name: str, **fields: Any) -> None:
    live = _live(trace)
    if live is not None:
        _guard(f"recording {name}", lambda: live.record(name, **fields), None)


def trace_llm_call(
    trace: PipelineTrace | None,
    *,
    name: str,
    model: str,
    prompt: str,
    response: str | None,
    usage: dict[str, int | None] | None = None,
    cost_usd: float | None = None,
    model_parameters: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    start_ns: int | None = None,
    end_ns: int | None = None,
) -> None:
    """An LLM generation (the offline provider too, model ``offline``) under the current step."""
    usage_details = _usage_details(usage)
    _record(
        trace,
        name,
        generation=True,
        start_ns=start_ns,
        end_ns=end_ns,
        model=model,
        input=prompt,
        output=response,
        usage_details=usage_details or None,
        cost_details={"total": cost_usd} if cost_usd is not None else None,
        model_parameters=model_parameters,
        metadata=metadata,
    )


def _usage_details(usage: dict[str, int | None] | None) -> dict[str, int]:
    """Our usage record in Langfuse's usage keys (input, output, total); unknown counts left out."""
    names = {"prompt_tokens": "input", "completion_tokens": "output", "total_tokens": "total"}
    return {names.get(k, k): v for k, v in (usage or {}).items() if isinstance(v, int)}


def trace_doctrine_load(
    trace: PipelineTrace | None,
    *,
    doctrine_id: str,
    version: str,
    path: str,
    sha256: str,
    start_ns: int | None = None,
    end_ns: int | None = None,
) -> None:
    output = {"id": doctrine_id, "version": version, "path": path, "sha256": sha256}
    _record(
        trace,
        "load_doctrine",
        start_ns=start_ns,
        end_ns=end_ns,
        input={"doctrine_id": doctrine_id},
        output=output,
    )


def trace_context_retrieval(
    trace: PipelineTrace | None,
    *,
    mode: str,
    files: Sequence[str],
    query: str | None = None,
    top_k: int | None = None,
    method: str | None = None,
    start_ns: int | None = None,
    end_ns: int | None = None,
) -> None:
    _record(
        trace,
        "retrieve_context",
        start_ns=start_ns,
        end_ns=end_ns,
        input={"mode": mode, "query": query, "top_k": top_k},
        output={"method": method, "files": list(files)},
    )


def trace_snapshot_creation(
    trace: PipelineTrace | None,
    *,
    name: str,
    sha256: str,
    bytes: int,
    path: str | None = None,
    start_ns: int | None = None,
    end_ns: int | None = None,
) -> None:
    """One frozen snapshot, under the current step (``create_snapshots`` when replayed)."""
    _record(
        trace,
        f"snapshot_{name}",
        start_ns=start_ns,
        end_ns=end_ns,
        output={"path": path, "sha256": sha256, "bytes": bytes},
    )


def trace_output_generation(
    trace: PipelineTrace | None,
    *,
    files: Sequence[str],
    total_bytes: int,
    start_ns: int | None = None,
    end_ns: int | None = None,
) -> None:
    _record(
        trace,
        "generate_outputs",
        start_ns=start_ns,
        end_ns=end_ns,
        output={"files": list(files), "bytes": total_bytes},
    )


def record_steps(trace: PipelineTrace | None, records: Sequence[StepRecord]) -> None:
    """Replay steps measured before the trace existed, with their measured times."""
    live = _live(trace)
    if live is not None:
        _guard("recording measured steps", lambda: _replay(live, records), None)


def _replay(trace: PipelineTrace, records: Sequence[StepRecord]) -> None:
    children: dict[str, list[StepRecord]] = {}
    for record in records:
        if record.parent:
            children.setdefault(record.parent, []).append(record)
    for record in sorted((r for r in records if not r.parent), key=lambda r: r.start_ns):
        times = {"start_ns": record.start_ns, "end_ns": record.end_ns or None}
        out = record.output
        if record.name == "load_doctrine" and out:
            trace_doctrine_load(
                trace,
                doctrine_id=out["id"],
                version=out["version"],
                path=out["path"],
                sha256=out["sha256"],
                **times,
            )
        elif record.name == "retrieve_context" and out:
            trace_context_retrieval(
                trace,
                mode=out["mode"],
                files=out["files"],
                query=record.input.get("query"),
                top_k=record.input.get("top_k"),
                method=out.get("method"),
                **times,
            )
        elif record.name in children:
            parent = trace.open_step(
                record.name,
                start_ns=record.start_ns,
                input=record.input or None,
                output=out or None,
            )
            try:
                for child in sorted(children[record.name], key=lambda r: r.start_ns):
                    trace.record(
                        child.name,
                        start_ns=child.start_ns,
                        end_ns=child.end_ns or None,
                        input=child.input or None,
                        output=child.output or None,
                    )
            finally:
                trace.close_step(parent, end_ns=record.end_ns or None)
        else:
            trace.record(
                record.name,
                start_ns=record.start_ns,
                end_ns=record.end_ns or None,
                input=record.input or None,
                output=out or None,
            )


def finalize_trace(
    trace: PipelineTrace | None,
    status: str,
    error: str | None = None,
    artifacts: Sequence[str] = (),
) -> None:
    """End the trace with the run's status (``succeeded``, ``failed`` or ``partial``)."""
    live = _live(trace)
    if live is not None:
        message = env.scrub(error) if error else None
        _guard(
            "finalizing the trace", lambda: live.finalize(status, message, list(artifacts)), None
        )


def abort_trace(trace: PipelineTrace | None, exc: BaseException) -> None:
    """A run that crashed: end its trace as failed and deliver it, bounded; never raises."""
    if trace is None:
        return
    finalize_trace(trace, "failed", f"{type(exc).__name__}: {exc}")
    warning = flush()
    if warning:
        log.warning("%s", warning)


def flush(timeout_s: float | None = None) -> str | None:
    """Deliver pending spans within a bound; returns ONE warning line, or None when all went well.

    Waits at most ``timeout_s`` (default ``SIGILCTL_TRACE_FLUSH_TIMEOUT``, 2 s). Never raises.
    """
    started = time.monotonic()
    problems = list(_pending)
    _pending.clear()
    bound = flush_timeout_s() if timeout_s is None else timeout_s
    reason = _guard("flushing", lambda: _flush_clients(bound), None)
    if reason:
        problems.insert(0, reason)
    log.debug("tracing: flush took %.1f ms", (time.monotonic() - started) * 1000)
    if not problems:
        return None
    return env.scrub(
        "tracing: " + "; ".join(problems) + "; the run is not affected (-v for detail)"
    )


def _flush_clients(bound: float) -> str | None:
    import sys

    client_module = sys.modules.get("sigilctl.observability.client")
    if client_module is None:  # nothing was ever traced in this process: nothing to flush
        return None
    from sigilctl.observability.client import existing_tracing, flush_bounded

    used = sorted(_used)
    _used.clear()
    deadline = time.monotonic() + bound
    warning = None
    for public_key in used:  # every client is flushed, within one shared bound
        tracing = existing_tracing(public_key)
        remaining = max(0.0, deadline - time.monotonic())
        reason = flush_bounded(tracing, remaining) if tracing is not None else None
        if reason and tracing is not None and warning is None:
            warning = f"the trace was not delivered to {tracing.host}: {reason}"
    return warning
