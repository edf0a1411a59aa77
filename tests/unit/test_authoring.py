"""The pipeline tracing API, called directly: no-ops without a trace, nesting that follows the
code, the pipeline's own errors passed through unchanged, tracing faults swallowed and counted."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

from sigilctl import observability as obs
from sigilctl.observability.records import SpanRecord
from sigilctl.observability.run_trace import GovernanceIds, RunTrace, current_trace

IDS = GovernanceIds("job-x", "ab" * 16, "instagram_copy", "brand-x", "cd" * 32)


def new_trace() -> RunTrace:
    return RunTrace(IDS, trace_id="ef" * 16, environment="default", release="test")


def named(trace: RunTrace) -> dict[str, SpanRecord]:
    return {span.name: span for span in trace.document().spans}


def test_without_a_current_trace_every_helper_is_a_no_op() -> None:
    assert obs.is_observability_enabled() is False
    with obs.trace_step("step", a=1) as step:
        assert step.traced is False
        assert step.update(done=True) is None
    assert obs.trace_llm_call(name="g", model="m", prompt="p", response="r") is None

    @obs.trace_function(capture_args=True, capture_result=True)
    def add(a: int, b: int) -> int:
        return a + b

    assert add(1, 2) == 3
    with pytest.raises(KeyError, match="the step's own"), obs.trace_step("x"):
        raise KeyError("the step's own error")


def test_steps_nest_as_the_code_does_and_errors_pass_through_unchanged() -> None:
    trace = new_trace()
    error = ValueError("boom")
    with current_trace(trace):
        assert obs.is_observability_enabled() is True
        with obs.trace_step("outer", topic="x") as outer:
            with obs.trace_step("inner") as inner:
                inner.update(files=["a"])
                inner.update(bytes=3)
            outer.update(done=True)
        with pytest.raises(ValueError) as caught, obs.trace_step("shaky"):
            raise error
        assert caught.value is error
        with obs.trace_step("after"):
            pass
    spans = named(trace)
    root = trace.root
    assert spans["outer"].parent_id == root.span_id
    assert spans["inner"].parent_id == spans["outer"].span_id
    assert spans["after"].parent_id == root.span_id
    assert spans["outer"].input == {"topic": "x"}
    assert spans["inner"].output == {"files": ["a"], "bytes": 3}
    assert spans["shaky"].level == "ERROR"
    assert spans["shaky"].status_message == "ValueError: boom"
    assert all(span.ended for span in trace.document().spans[1:])
    assert trace.failures == 0


def test_a_generation_always_carries_usage_and_cost_and_an_error_makes_it_error() -> None:
    trace = new_trace()
    with current_trace(trace), obs.trace_step("generate"):
        obs.trace_llm_call(
            name="ok",
            model="gpt-x",
            prompt="p",
            response="r",
            usage={"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": None},
            cost_details={"input": 0.5, "output": 0.25},
        )
        obs.trace_llm_call(name="failed", model="gpt-x", prompt="p", error="HTTP 500: boom")
    spans = named(trace)
    ok, failed = spans["ok"], spans["failed"]
    assert ok.type == failed.type == "generation"
    assert ok.parent_id == spans["generate"].span_id
    assert ok.usage == {"input": 5, "output": 2, "total": 7}
    assert ok.cost == {"input": 0.5, "output": 0.25, "total": 0.75}
    assert ok.level is None
    assert failed.usage == {"input": 0, "output": 0, "total": 0}
    assert failed.cost == {"input": 0.0, "output": 0.0, "total": 0.0}
    assert (failed.level, failed.status_message) == ("ERROR", "HTTP 500: boom")


def test_trace_function_names_captures_and_passes_errors_through() -> None:
    trace = new_trace()

    @obs.trace_function
    def plain(x: int) -> int:
        return x * 2

    @obs.trace_function("renamed", capture_args=True, capture_result=True)
    def captured(self: object, items: list[int], *, scale: int = 1) -> dict[str, int]:
        return {"sum": sum(items) * scale}

    @obs.trace_function(capture_args=True)
    def broken(reason: str) -> None:
        raise RuntimeError(reason)

    with current_trace(trace):
        assert plain(2) == 4
        items = [1, 2]
        assert captured(object(), items, scale=3) == {"sum": 9}
        items.append(100)  # later mutation does not change what the trace captured
        with pytest.raises(RuntimeError, match="nope"):
            broken("nope")
    spans = {span.name.rsplit(".", 1)[-1]: span for span in trace.document().spans}
    assert "test_trace_function_names_captures_and_passes_errors_through.<locals>.plain" in {
        span.name for span in trace.document().spans
    }  # the qualified name by default
    assert spans["renamed"].input == {"items": [1, 2], "scale": 3}  # self left out
    assert spans["renamed"].output == {"sum": 9}
    assert spans["broken"].input == {"reason": "nope"}
    assert spans["broken"].level == "ERROR"
    assert plain.__name__ == "plain"  # functools.wraps


def test_trace_function_on_async_functions_and_tasks_nest_under_their_caller() -> None:
    trace = new_trace()

    @obs.trace_function(capture_result=True)
    async def fetch(n: int) -> int:
        await asyncio.sleep(0)
        return n

    async def main() -> list[int]:
        with obs.trace_step("batch"):
            return list(await asyncio.gather(fetch(1), fetch(2)))

    with current_trace(trace):
        assert asyncio.run(main()) == [1, 2]
    batch = named(trace)["batch"]
    fetched = [s for s in trace.document().spans if s.name.endswith("fetch")]
    assert sorted(s.output for s in fetched) == [1, 2]
    assert {s.parent_id for s in fetched} == {batch.span_id}


def test_two_runs_in_one_process_keep_their_own_traces() -> None:
    first, second = new_trace(), new_trace()
    barrier = threading.Barrier(2)

    def work(trace: RunTrace, label: str) -> None:
        with current_trace(trace), obs.trace_step(label):
            barrier.wait()
            obs.trace_llm_call(name=f"{label}-call", model="m")

    threads = [
        threading.Thread(target=work, args=(first, "a")),
        threading.Thread(target=work, args=(second, "b")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {s.name for s in first.document().spans[1:]} == {"a", "a-call"}
    assert {s.name for s in second.document().spans[1:]} == {"b", "b-call"}


def test_a_thread_given_the_context_nests_under_the_current_step() -> None:
    trace = new_trace()
    with current_trace(trace), obs.trace_step("parent"):
        context = contextvars.copy_context()
        thread = threading.Thread(target=context.run, args=(obs.trace_step("child").__enter__,))
        thread.start()
        thread.join()
    spans = named(trace)
    assert spans["child"].parent_id == spans["parent"].span_id


def test_tracing_faults_are_swallowed_and_counted_never_raised() -> None:
    trace = new_trace()

    class Unserializable:
        def __repr__(self) -> str:
            raise RuntimeError("repr exploded")

    with current_trace(trace):
        with obs.trace_step("step", bad=Unserializable()) as step:  # capture fails: no span
            step.update(also=Unserializable())
        obs.trace_llm_call(name="g", model="m", prompt=Unserializable())
    assert trace.failures == 2
    assert "g" not in named(trace)


def test_a_finished_trace_takes_nothing_more() -> None:
    trace = new_trace()
    trace.finalize("succeeded", None, ["outputs/a.json"])
    with current_trace(trace):
        assert obs.is_observability_enabled() is False
        with obs.trace_step("late") as step:
            step.update(x=1)
        obs.trace_llm_call(name="late-call", model="m")
    assert [s.name for s in trace.document().spans] == ["job:instagram_copy"]
    assert trace.root.output == {
        "status": "succeeded",
        "error": None,
        "artifacts": ["outputs/a.json"],
    }


def test_finalize_closes_open_steps_and_marks_failed_and_partial_runs() -> None:
    for status, level in (("failed", "ERROR"), ("partial", "WARNING"), ("succeeded", None)):
        trace = new_trace()
        step = trace.open_span("left-open")
        assert step is not None
        trace.finalize(status, "why" if level else None, [])
        assert step.ended and trace.root.ended
        assert trace.root.end_ns is not None and step.end_ns is not None
        assert trace.root.end_ns >= step.end_ns
        assert trace.root.level == level
        assert trace.root.metadata == {"status": status}


def test_measured_steps_are_rendered_from_their_typed_payloads() -> None:
    from sigilctl.steps import DoctrineLoaded, DoctrineRequest, SnapshotFrozen, StepRecord

    trace = new_trace()
    steps = [
        StepRecord(
            "load_doctrine",
            100,
            200,
            input=DoctrineRequest("d-1"),
            output=DoctrineLoaded("d-1", "1", "jobs/d.md", "0" * 64, 12),
        ),
        StepRecord(
            "snapshot_brief",
            310,
            320,
            output=SnapshotFrozen("inputs/b", "1" * 64, 3),
            parent="create_snapshots",
        ),
        StepRecord("create_snapshots", 300, 330),
    ]
    trace.add_measured(steps)
    spans = named(trace)
    assert spans["load_doctrine"].input == {"doctrine_id": "d-1"}
    assert spans["load_doctrine"].output == {
        "id": "d-1",
        "version": "1",
        "path": "jobs/d.md",
        "sha256": "0" * 64,
        "bytes": 12,
    }
    assert (spans["load_doctrine"].start_ns, spans["load_doctrine"].end_ns) == (100, 200)
    assert spans["snapshot_brief"].parent_id == spans["create_snapshots"].span_id
    assert spans["create_snapshots"].parent_id == trace.root.span_id
    assert trace.root.start_ns == 100  # the root starts with the first measured step


def test_the_public_api_is_exactly_these_names() -> None:
    from sigilctl.observability import authoring

    assert sorted(authoring.__all__) == [
        "StepHandle",
        "current_trace",
        "is_observability_enabled",
        "trace_function",
        "trace_llm_call",
        "trace_step",
    ]
    for name in set(authoring.__all__) - {"current_trace"}:
        assert getattr(obs, name) is getattr(authoring, name)


class BrokenTrace:
    """A trace whose every call fails: what a broken tracing library looks like to the API."""

    finished = False

    def __getattr__(self, name: str) -> object:
        raise RuntimeError(f"tracing is broken ({name})")


def test_a_broken_trace_never_raises_into_the_pipeline() -> None:
    @obs.trace_function(capture_args=True)
    def fail(message: str) -> None:
        raise KeyError(message)

    with current_trace(BrokenTrace()):  # type: ignore[arg-type]
        assert obs.is_observability_enabled() is True
        with obs.trace_step("step", value=object()) as step:
            step.update(x=1)
        obs.trace_llm_call(name="g", model="m", prompt="p", response=None)
        with pytest.raises(KeyError, match="still mine"):
            fail("still mine")
    assert obs.is_observability_enabled() is False  # the current trace was reset


def test_a_step_may_take_an_input_called_name_and_cost_usd_is_the_total() -> None:
    trace = new_trace()
    with current_trace(trace):
        with obs.trace_step("lookup", name="a customer name"):
            pass
        obs.trace_llm_call(name="g", model="m", cost_usd=0.5)

        @obs.trace_function(capture_args=True)
        def greet(who: str, greeting: str = "hello") -> str:
            return f"{greeting} {who}"

        greet("ann")
    spans = named(trace)
    assert spans["lookup"].input == {"name": "a customer name"}
    assert spans["g"].cost == {"input": 0.0, "output": 0.0, "total": 0.5}
    greet_span = next(s for s in trace.document().spans if s.name.endswith("greet"))
    assert greet_span.input == {"who": "ann", "greeting": "hello"}  # defaults included
