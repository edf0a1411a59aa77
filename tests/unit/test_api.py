"""``sigilctl.api``, the pipeline author's surface: its names are pinned, its tracing calls are
no-ops outside a traced run, never raise into the pipeline, and, inside one, nest real spans
(exported through the real SDK to the local receiver) with captured arguments and results."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import sigilctl.api as api
from sigilctl import observability as obs
from sigilctl.observability.authoring import current_trace
from sigilctl.smoke.receiver import OtlpReceiver
from sigilctl.smoke.traces import smoke_ids

PUBLIC = [
    "GenerationRequest",
    "OutputError",
    "Pipeline",
    "PipelineInputs",
    "is_observability_enabled",
    "read_template",
    "trace_function",
    "trace_llm_call",
    "trace_step",
]


def test_the_public_names_are_pinned() -> None:
    assert sorted(api.__all__) == PUBLIC
    public = sorted(n for n in vars(api) if not n.startswith("_") and n != "annotations")
    assert public == PUBLIC, "sigilctl.api exposes a name that is not in __all__"
    for name in PUBLIC:
        assert getattr(api, name).__doc__, f"sigilctl.api.{name} has no docstring"


def test_importing_the_api_loads_no_tracing_sdk_or_model_client() -> None:
    from tests.helpers import REPO, run_python

    code = (
        "import sys, sigilctl.api\n"
        "heavy = [m for m in ('langfuse', 'opentelemetry', 'openai') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    result = run_python("-c", code, cwd=REPO)
    assert result.code == 0 and result.stdout.strip() == "[]", result.stderr


# --- outside a traced run: no-ops --------------------------------------------------------------


@api.trace_function(capture_args=True, capture_result=True)
def add(a: int, b: int = 1) -> int:
    return a + b


@api.trace_function
def fail(message: str) -> None:
    raise KeyError(message)


@api.trace_function("named_async")
async def double(x: int) -> int:
    await asyncio.sleep(0)
    return 2 * x


def test_untraced_calls_are_no_ops() -> None:
    assert api.is_observability_enabled() is False
    assert add(2, b=3) == 5
    assert add.__name__ == "add" and add.__doc__ is None
    assert asyncio.run(double(4)) == 8
    with api.trace_step("outside", x=1) as step:
        step.update(done=True)
    assert api.trace_llm_call(name="g", model="m", prompt="p", response="r", usage=None) is None


def test_the_pipeline_s_own_exception_passes_unchanged() -> None:
    with pytest.raises(KeyError, match="mine"):
        fail("mine")


class BrokenTrace:
    """A trace whose every tracing call fails (it can still count its faults)."""

    finished = False
    failures = 0

    def note_failure(self) -> None:
        self.failures += 1

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"tracing is broken ({name})")


def test_a_broken_trace_never_raises_into_the_pipeline() -> None:
    broken = BrokenTrace()
    with current_trace(broken):  # type: ignore[arg-type]
        assert api.is_observability_enabled() is True
        assert add(1) == 2
        assert asyncio.run(double(2)) == 4
        with api.trace_step("step", value=object()) as step:
            step.update(x=1)
        api.trace_llm_call(name="g", model="m", prompt="p", response=None)
        with pytest.raises(KeyError, match="still mine"):
            fail("still mine")
    assert broken.failures >= 5  # a fault per call was counted (the run's one warning line)
    assert api.is_observability_enabled() is False  # the current trace was reset


# --- inside a traced run: real spans ----------------------------------------------------------


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as rx:
        monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", f"pk-lf-{uuid.uuid4().hex}")
        monkeypatch.setenv("LANGFUSE_SECRET_KEY", "sk-lf-api-test")
        monkeypatch.setenv("LANGFUSE_BASE_URL", rx.base_url)
        yield rx


class Pipelineish:
    @api.trace_function(name="rank", capture_args=True, capture_result=True)
    def rank(self, words: list[str], *, secret_free: str = "x") -> dict[str, int]:
        with api.trace_step("inner", count=len(words)) as step:
            step.update(ok=True)
        return {w: len(w) for w in words}


def test_traced_calls_nest_under_the_current_step_with_captured_values(
    receiver: OtlpReceiver, tmp_path: Path
) -> None:
    run = obs.start_run(
        smoke_ids("api-test"),
        enabled=True,
        sample_rate=1,
        started_at="2026-01-01T00:00:00.000Z",
        artifacts=tmp_path,
    )
    assert run.traced
    with run.active():
        assert api.is_observability_enabled()
        with api.trace_step("generate"):
            assert Pipelineish().rank(["ab", "cde"]) == {"ab": 2, "cde": 3}
            assert asyncio.run(double(5)) == 10
            api.trace_llm_call(
                name="side_generation",
                model="m-1",
                prompt="p",
                response="r",
                usage={"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
            )
    run.finalize("succeeded", None)
    assert run.deliver() is None
    spans = {s.name: s for s in receiver.wait_for_spans(6)}
    assert spans["rank"].parent_span_id == spans["generate"].span_id
    assert spans["inner"].parent_span_id == spans["rank"].span_id
    assert spans["named_async"].parent_span_id == spans["generate"].span_id
    assert spans["side_generation"].parent_span_id == spans["generate"].span_id
    assert spans["rank"].attr_json("langfuse.observation.input") == {
        "words": ["ab", "cde"],
        "secret_free": "x",
    }
    assert spans["rank"].attr_json("langfuse.observation.output") == {"ab": 2, "cde": 3}
    assert spans["inner"].attr_json("langfuse.observation.input") == {"count": 2}
    assert spans["side_generation"].attributes["langfuse.observation.type"] == "generation"
    assert "langfuse.observation.input" not in spans["named_async"].attributes  # not asked
