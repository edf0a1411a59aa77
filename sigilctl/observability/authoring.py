"""The tracing API for pipeline code: ``trace_step``, ``trace_llm_call``, ``trace_function`` and
``is_observability_enabled``.

Each acts on the run's *current* trace (set by the run while its pipeline executes) and nests
under the current step. Without a current trace (tracing off, sampled out, no keys, or code
running outside a run) every call is a no-op. None of them ever raises into the pipeline: a
fault inside tracing is swallowed and counted on the run's trace (``RunTrace.failures``); only
the pipeline's own exceptions pass through ``trace_step`` and ``trace_function``, unchanged.

Threads started by pipeline code see the current trace only when given a copied context
(``contextvars.copy_context().run(...)``); asyncio tasks get one automatically.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar, overload

from sigilctl import logs
from sigilctl.observability import records
from sigilctl.observability.records import SpanRecord
from sigilctl.observability.run_trace import (
    RunTrace,
    current,
    current_trace,
    enter_span,
    leave_span,
)

__all__ = [
    "StepHandle",
    "current_trace",
    "is_observability_enabled",
    "trace_function",
    "trace_llm_call",
    "trace_step",
]

log = logs.get_logger("observability")
P = ParamSpec("P")
R = TypeVar("R")
MAX_CAPTURED_CHARS = 200_000  # per captured value; a trace is evidence, not a dump


class StepHandle:
    """What ``trace_step`` yields: ``update(**output)`` adds to the step's output.

    A no-op when the run is not traced; never raises.
    """

    def __init__(self, trace: RunTrace | None = None, span: SpanRecord | None = None) -> None:
        self._trace = trace
        self._span = span

    @property
    def traced(self) -> bool:
        return self._span is not None

    def update(self, **output: Any) -> None:
        if self._trace is None or self._span is None:
            return
        trace, span = self._trace, self._span
        _guarded(trace, "updating a step", lambda: trace.update_span(span, **_captured(output)))


def is_observability_enabled() -> bool:
    """True when the code running now belongs to a traced run (its trace is live)."""
    return current() is not None


def _guarded(trace: RunTrace, what: str, action: Callable[[], Any]) -> Any:
    """Run a tracing action; a fault is logged (-v), counted on the trace, never raised."""
    try:
        return action()
    except Exception:
        log.debug("tracing: %s failed", what, exc_info=True)
        try:
            trace.note_failure()
        except Exception:  # a trace too broken to count its own faults: still never raise
            log.debug("tracing: counting a fault failed", exc_info=True)
        return None


@contextmanager
def trace_step(name: str, /, **input: Any) -> Iterator[StepHandle]:
    """``with trace_step("load_doctrine", doctrine_id=...) as step: ... step.update(sha256=...)``

    A span around the block, under the current step. An exception from the block marks the
    span ERROR (class and message) and is re-raised unchanged.
    """
    found = current()
    opened = None
    if found is not None:
        trace, parent = found
        opened = _guarded(
            trace,
            f"starting step {name}",
            lambda: _open(trace, parent, name, input=_captured(input) if input else None),
        )
    if found is None or opened is None:
        yield StepHandle()
        return
    span, token = opened
    error: BaseException | None = None
    try:
        yield StepHandle(trace, span)
    except BaseException as exc:
        error = exc
        raise
    finally:
        _guarded(trace, f"ending step {name}", lambda: _close(trace, span, token, error))


def _open(
    trace: RunTrace, parent: SpanRecord | None, name: str, **fields: Any
) -> tuple[SpanRecord, Any] | None:
    span = trace.open_span(name, parent, **fields)
    if span is None:
        return None
    return span, enter_span(trace, span)


def _close(trace: RunTrace, span: SpanRecord, token: Any, error: BaseException | None) -> None:
    leave_span(token)
    trace.close_span(span, error=error)


def trace_llm_call(
    *,
    name: str,
    model: str,
    prompt: Any = None,
    response: Any = None,
    usage: Mapping[str, int | None] | None = None,
    cost_details: Mapping[str, float | None] | None = None,
    cost_usd: float | None = None,
    model_parameters: Mapping[str, Any] | None = None,
    error: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    start_ns: int | None = None,
    end_ns: int | None = None,
) -> None:
    """An LLM call as a generation under the current step (a failed call too: ``error=...``).

    ``usage`` takes ``prompt_tokens``/``completion_tokens``/``total_tokens`` or Langfuse's
    ``input``/``output``/``total``; ``cost_details`` is ``{input, output, total}`` in USD
    (``cost_usd`` alone is the total). Both are always sent, zero where unknown, so Langfuse
    never estimates a cost itself (it would tokenize and price even a call that failed). A call
    with ``error`` is level ERROR with the error as its status message.
    """
    found = current()
    if found is None:
        return
    trace, parent = found

    def record() -> None:
        span = trace.open_span(
            name,
            parent,
            start_ns=start_ns,
            type="generation",
            model=model,
            input=_captured(prompt),
            output=_captured(response),
            usage=records.usage_details(usage),
            cost=_cost(cost_details, cost_usd),
            model_parameters=_captured(dict(model_parameters)) if model_parameters else None,
            metadata=_captured(dict(metadata)) if metadata else {},
            level="ERROR" if error else None,
            status_message=error,
        )
        if span is not None:
            trace.close_span(span, end_ns=end_ns)

    _guarded(trace, f"recording generation {name}", record)


def _cost(details: Mapping[str, float | None] | None, total: float | None) -> dict[str, float]:
    if details is None and total is not None:
        details = {"total": total}
    return records.cost_details(details)


@overload
def trace_function(name: Callable[P, R]) -> Callable[P, R]: ...


@overload
def trace_function(
    name: str | None = None, *, capture_args: bool = False, capture_result: bool = False
) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def trace_function(
    name: str | Callable[P, R] | None = None,
    *,
    capture_args: bool = False,
    capture_result: bool = False,
) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator: each call of the function is a span (named ``name`` or its qualified name).

    ``capture_args`` records the bound arguments as the span's input, ``capture_result`` the
    return value as its output (both as JSON, long values cut). Works on plain and ``async``
    functions; ``@trace_function`` without parentheses works too. The function's own
    exceptions mark the span ERROR and pass through unchanged.
    """
    if callable(name):
        return _decorate(name, None, capture_args=False, capture_result=False)

    def decorator(fn: Callable[P, R]) -> Callable[P, R]:
        return _decorate(fn, name, capture_args=capture_args, capture_result=capture_result)

    return decorator


def _decorate(
    fn: Callable[P, R], name: str | None, *, capture_args: bool, capture_result: bool
) -> Callable[P, R]:
    span_name = name or getattr(fn, "__qualname__", None) or repr(fn)

    def begin(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...] | None:
        found = current()
        if found is None:
            return None
        trace, parent = found

        def start() -> tuple[SpanRecord, Any] | None:
            captured = _arguments(fn, args, kwargs) if capture_args else None
            return _open(trace, parent, span_name, input=captured)

        opened = _guarded(trace, f"starting {span_name}", start)
        return None if opened is None else (trace, *opened)

    def end(started: tuple[Any, ...] | None, result: Any, error: BaseException | None) -> None:
        if started is None:
            return
        trace, span, token = started
        if capture_result and error is None:
            _guarded(trace, f"capturing {span_name}", lambda: _set_output(span, result))
        _guarded(trace, f"ending {span_name}", lambda: _close(trace, span, token, error))

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
            started = begin(args, kwargs)
            try:
                result = await fn(*args, **kwargs)
            except BaseException as exc:
                end(started, None, exc)
                raise
            end(started, result, None)
            return result

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        started = begin(args, kwargs)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            end(started, None, exc)
            raise
        end(started, result, None)
        return result

    return wrapper


def _set_output(span: SpanRecord, result: Any) -> None:
    span.output = _captured(result)


def _arguments(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The call's arguments by parameter name (``self``/``cls`` left out)."""
    try:
        bound = inspect.signature(fn).bind_partial(*args, **kwargs)
    except (TypeError, ValueError):
        return _captured({"args": list(args), "kwargs": kwargs})
    bound.apply_defaults()
    named = {k: v for k, v in bound.arguments.items() if k not in ("self", "cls")}
    return _captured(named)


def _captured(value: Any) -> Any:
    """A JSON-safe copy of ``value`` taken now (later mutation does not change the trace)."""
    if value is None or isinstance(value, str | int | float | bool):
        return _cut(value) if isinstance(value, str) else value
    text = json.dumps(value, default=_fallback, ensure_ascii=False)
    if len(text) > MAX_CAPTURED_CHARS:
        return _cut(text)
    return json.loads(text)


def _fallback(value: Any) -> Any:
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return _cut(repr(value))


def _cut(text: str) -> str:
    if len(text) <= MAX_CAPTURED_CHARS:
        return text
    return text[: MAX_CAPTURED_CHARS - 1] + "…"
