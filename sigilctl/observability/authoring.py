"""Tracing for pipeline authors: calls that act on the run's *current* trace, found implicitly.

The runner marks the trace of the run whose pipeline code is executing (``current_trace``); a
pipeline calls ``trace_step``, ``trace_llm_call`` or a ``@trace_function`` without ever holding
a trace. Outside a traced run (no keys, ``--no-trace``, sampled out, a replay, a test) every
call is a no-op, and a failure inside tracing is logged and swallowed: the pipeline's own
exceptions pass through unchanged, nothing of tracing's ever reaches it.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast, overload

from sigilctl import env
from sigilctl import observability as obs

if TYPE_CHECKING:
    from sigilctl.observability.trace import PipelineTrace

P = ParamSpec("P")
T = TypeVar("T")

MAX_TEXT = 8192  # characters of one captured string
MAX_ITEMS = 100  # items of one captured list or mapping
MAX_DEPTH = 6

_current: ContextVar[PipelineTrace | None] = ContextVar("sigilctl_current_trace", default=None)


@contextmanager
def current_trace(trace: PipelineTrace | None) -> Iterator[None]:
    """Make ``trace`` the current trace of this thread (or task) for the block."""
    token = _current.set(trace)
    try:
        yield
    finally:
        _current.reset(token)


def _live() -> PipelineTrace | None:
    trace = _current.get()
    return trace if trace is not None and not trace.finished else None


def is_observability_enabled() -> bool:
    """True inside a run that is being traced: what the pipeline records will be sent."""
    return _live() is not None


@contextmanager
def _span(name: str, input: Mapping[str, Any] | None) -> Iterator[obs.Step]:
    trace = _live()
    with obs.trace_step(trace, name) as step:
        if input and isinstance(step, obs._LiveStep):
            observation = step.observation
            obs._guard(
                f"recording the input of {name}",
                lambda: observation.wrapper.update(input=dict(input)),
                None,
            )
        yield step


@contextmanager
def trace_step(name: str, /, **inputs: Any) -> Iterator[obs.Step]:
    """``with trace_step("rank_sources", query=q) as step: ... step.update(found=n)``.

    A span under the current step; an exception from the block is recorded and re-raised.
    """
    captured = None
    if inputs and _live() is not None:
        captured = obs._guard(
            f"capturing the input of {name}",
            lambda: {k: capture(v) for k, v in inputs.items()},
            None,
        )
    with _span(name, captured) as step:
        yield step


def trace_llm_call(
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
    """Record a model call the pipeline made itself, as a generation under the current step."""
    obs.trace_llm_call(
        _live(),
        name=name,
        model=model,
        prompt=prompt,
        response=response,
        usage=usage,
        cost_usd=cost_usd,
        model_parameters=model_parameters,
        metadata=metadata,
        start_ns=start_ns,
        end_ns=end_ns,
    )


def capture(value: Any, depth: int = 0) -> Any:
    """A JSON-safe, bounded, secret-scrubbed copy of a value for a span's input or output."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        text = env.scrub(value)
        return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"
    if depth >= MAX_DEPTH:
        return capture(repr(value), depth)
    if hasattr(value, "model_dump") and callable(value.model_dump):
        return capture(value.model_dump(mode="json"), depth + 1)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return capture(dataclasses.asdict(value), depth + 1)
    if isinstance(value, PurePath):
        return capture(value.as_posix(), depth)
    if isinstance(value, Mapping):
        items = list(value.items())[:MAX_ITEMS]
        return {str(k): capture(v, depth + 1) for k, v in items}
    if isinstance(value, list | tuple | set | frozenset):
        return [capture(v, depth + 1) for v in list(value)[:MAX_ITEMS]]
    return capture(repr(value), depth)


def _arguments(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    try:
        bound = inspect.signature(fn).bind_partial(*args, **kwargs)
    except (TypeError, ValueError):
        return {"args": capture(args), "kwargs": capture(kwargs)}
    bound.apply_defaults()
    return {k: capture(v) for k, v in bound.arguments.items() if k not in ("self", "cls")}


def _input(fn: Callable[..., Any], capture_args: bool, args: Any, kwargs: Any) -> Any:
    if not capture_args:
        return None
    return obs._guard("capturing arguments", lambda: _arguments(fn, args, kwargs), None)


def _output(step: obs.Step, capture_result: bool, result: Any) -> None:
    if capture_result:
        obs._guard("capturing a result", lambda: step.update(result=capture(result)), None)


@overload
def trace_function(name: Callable[P, T], /) -> Callable[P, T]: ...


@overload
def trace_function(
    name: str | None = None, *, capture_args: bool = False, capture_result: bool = False
) -> Callable[[Callable[P, T]], Callable[P, T]]: ...


def trace_function(
    name: str | Callable[P, T] | None = None,
    *,
    capture_args: bool = False,
    capture_result: bool = False,
) -> Callable[P, T] | Callable[[Callable[P, T]], Callable[P, T]]:
    """Decorator: each call of the function is a span (named ``name`` or its qualified name).

    ``capture_args`` records the arguments as the span's input, ``capture_result`` the return
    value as its output (JSON-safe copies, long strings cut, known secrets removed). Works on
    plain and ``async`` functions; usable bare (``@trace_function``) or called.
    """
    if callable(name):
        return _decorate(name, None, capture_args, capture_result)

    def decorator(fn: Callable[P, T]) -> Callable[P, T]:
        return _decorate(fn, name, capture_args, capture_result)

    return decorator


def _decorate(
    fn: Callable[P, T], name: str | None, capture_args: bool, capture_result: bool
) -> Callable[P, T]:
    span_name = name or getattr(fn, "__qualname__", None) or repr(fn)

    if inspect.iscoroutinefunction(fn):
        run = cast(Callable[P, Awaitable[Any]], fn)

        @functools.wraps(fn)
        async def traced_async(*args: P.args, **kwargs: P.kwargs) -> Any:
            if _live() is None:
                return await run(*args, **kwargs)
            with _span(span_name, _input(fn, capture_args, args, kwargs)) as step:
                result = await run(*args, **kwargs)
                _output(step, capture_result, result)
                return result

        return cast(Callable[P, T], traced_async)

    @functools.wraps(fn)
    def traced(*args: P.args, **kwargs: P.kwargs) -> T:
        if _live() is None:
            return fn(*args, **kwargs)
        with _span(span_name, _input(fn, capture_args, args, kwargs)) as step:
            result = fn(*args, **kwargs)
            _output(step, capture_result, result)
            return result

    return traced
