"""Tracing through the real Langfuse SDK to a real local OTLP receiver: shape, ids, bounds.

No mock of langfuse or OpenTelemetry: the SDK exports over HTTP to ``OtlpReceiver`` on
127.0.0.1, and the spans are decoded from the protobuf it sent.
"""

from __future__ import annotations

import hashlib
import json
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from sigilctl import observability
from sigilctl.observability.otlp import ReceivedSpan
from sigilctl.observability.settings import decide, in_sample
from sigilctl.smoke.receiver import OtlpReceiver, closed_port_url
from sigilctl.steps import StepRecord
from tests.helpers import Result, run_python, run_subprocess

JOB = "ig-test-001"
SECRET = "sk-lf-" + "7c" * 16
META = "langfuse.trace.metadata."


@pytest.fixture
def receiver() -> Any:
    with OtlpReceiver() as rx:
        yield rx


def langfuse_env(url: str, flush_s: float = 1.0) -> dict[str, str]:
    """Keys and host for one test. The SDK keeps one client per public key for the life of the
    process, so every test gets its own key."""
    return {
        "LANGFUSE_PUBLIC_KEY": f"pk-lf-{uuid.uuid4().hex}",
        "LANGFUSE_SECRET_KEY": SECRET,
        "LANGFUSE_BASE_URL": url,
        "SIGILCTL_TRACE_FLUSH_TIMEOUT": str(flush_s),
    }


@pytest.fixture
def traced(receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch) -> OtlpReceiver:
    for name, value in langfuse_env(receiver.base_url).items():
        monkeypatch.setenv(name, value)
    return receiver


def run_json(cli: Any, *args: str) -> tuple[Result, dict[str, Any]]:
    result = cli("run", *args, "--json")
    assert result.code == 0, result.stderr
    return result, json.loads(result.stdout)


def by_name(spans: list[ReceivedSpan]) -> dict[str, ReceivedSpan]:
    return {span.name: span for span in spans}


def set_observability(workspace: Path, enabled: bool, rate: float) -> None:
    brief = workspace / "jobs" / JOB / "brief.yaml"
    text = brief.read_text()
    text = text.replace("enabled: true", f"enabled: {str(enabled).lower()}")
    brief.write_text(text.replace("sample_rate: 1.0", f"sample_rate: {rate}"))


# --- a traced run, end to end ---------------------------------------------------------------


def test_a_traced_run_exports_one_trace_with_the_pipeline_hierarchy(
    workspace: Path, traced: OtlpReceiver, cli: Any
) -> None:
    result, out = run_json(cli, JOB)
    assert result.stderr == ""
    spans = traced.wait_for_spans(13)
    trace_id = out["langfuse_trace_id"]
    assert trace_id and {s.trace_id for s in spans} == {trace_id}
    named = by_name(spans)
    root = named["job:instagram_copy"]
    assert root.attributes["langfuse.internal.as_root"] is True
    ids = {s.span_id for s in spans}
    assert root.parent_span_id not in ids
    children = {s.name for s in spans if s.parent_span_id == root.span_id}
    assert children == {
        "load_brief",
        "load_doctrine",
        "retrieve_context",
        "create_snapshots",
        "generate_captions",
        "generate_outputs",
    }
    snapshots = {s.name for s in spans if s.parent_span_id == named["create_snapshots"].span_id}
    assert snapshots == {
        f"snapshot_{n}" for n in ("brief", "doctrine", "context", "model_config", "pipeline")
    }
    generation = named["caption_generation"]
    assert generation.parent_span_id == named["generate_captions"].span_id
    assert generation.attributes["langfuse.observation.type"] == "generation"
    assert generation.attributes["langfuse.observation.model.name"] == "offline"

    # governance ids on every span, as trace metadata; name and tags of the trace
    manifest = json.loads(Path(out["run_dir"], "manifest.json").read_text())
    for span in spans:
        assert span.attr_json(META + "run_id") == out["run_id"]
        assert span.attr_json(META + "job_id") == JOB
        assert span.attr_json(META + "inputs_hash") == out["inputs_hash"]
        assert span.attr_json(META + "job_type") == "instagram_copy"
        assert span.attr_json(META + "brand") == "sigilzero"
        assert span.attributes["langfuse.trace.name"] == "job:instagram_copy"
        assert span.attributes["langfuse.trace.tags"] == ["instagram_copy", "sigilzero"]
    assert root.attr_json("langfuse.observation.input") == {
        "job_id": JOB,
        "run_id": out["run_id"],
        "inputs_hash": out["inputs_hash"],
    }
    assert root.attr_json("langfuse.observation.output")["status"] == "succeeded"
    doctrine = json.loads(Path(out["run_dir"], "inputs/doctrine.resolved.json").read_text())
    assert (
        named["load_doctrine"].attr_json("langfuse.observation.output")["sha256"]
        == (doctrine["sha256"])
    )
    assert (
        named["snapshot_brief"].attr_json("langfuse.observation.output")["sha256"]
        == (manifest["input_snapshots"]["brief"]["sha256"])
    )

    # steps measured before the trace keep their own times: they start before the generation
    assert named["load_brief"].start_ns <= named["create_snapshots"].start_ns
    assert named["create_snapshots"].end_ns <= generation.start_ns
    assert root.start_ns <= min(s.start_ns for s in spans)
    assert root.end_ns >= max(s.end_ns for s in spans)

    # the manifest points at the trace; no snapshot mentions it
    assert manifest["langfuse_trace_id"] == trace_id
    for path in Path(out["run_dir"], "inputs").iterdir():
        assert trace_id not in path.read_text()
    assert all(auth.startswith("Basic ") for auth in traced.auth_headers)

    # `show` links to the trace
    shown = cli("show", out["run_id"])
    assert f"{traced.base_url}/trace/{trace_id}" in shown.stdout


def test_tracing_changes_no_identity_and_a_cache_hit_starts_no_trace(
    workspace: Path, traced: OtlpReceiver, cli: Any
) -> None:
    _, plain = run_json(cli, JOB, "--no-trace")
    assert plain["langfuse_trace_id"] is None
    assert traced.spans == []
    _, forced = run_json(cli, JOB, "--force")
    assert (forced["run_id"], forced["inputs_hash"]) == (plain["run_id"], plain["inputs_hash"])
    assert forced["langfuse_trace_id"]
    exported = len(traced.wait_for_spans(13))
    _, cached = run_json(cli, JOB)
    assert cached["cached"] is True
    assert cached["langfuse_trace_id"] == forced["langfuse_trace_id"]  # the run it reused
    _, again = run_json(cli, JOB, "--force")
    assert again["langfuse_trace_id"] not in (None, forced["langfuse_trace_id"])
    time.sleep(0.2)
    assert len({s.trace_id for s in traced.spans}) == 2  # the cache hit exported nothing
    assert len(traced.spans) == 2 * exported


def test_trace_starts_after_run_id(workspace: Path, traced: OtlpReceiver) -> None:
    from sigilctl.runner import RunOptions, run_job
    from sigilctl.workspace import Workspace

    outcome = run_job(JOB, Workspace.locate(None, None), RunOptions(force=True))
    assert outcome.langfuse_trace_id
    events = outcome.events
    assert events.index("run_id") < events.index("trace_started")


def test_the_global_tracer_provider_is_left_alone(
    workspace: Path, traced: OtlpReceiver, cli: Any
) -> None:
    from opentelemetry import trace

    run_json(cli, JOB, "--force")
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def test_the_openai_generation_carries_model_and_usage(
    workspace: Path, traced: OtlpReceiver, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.openai_server import serve

    with serve() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-" + "ab" * 20)
        _, out = run_json(cli, "ig-launch-openai")
    generation = by_name(traced.wait_for_spans(13))["caption_generation"]
    assert generation.attributes["langfuse.observation.model.name"] == "gpt-4o-mini-2024-07-18"
    assert generation.attr_json("langfuse.observation.usage_details") == {
        "input": 321,
        "output": 123,
        "total": 444,
    }
    assert generation.attr_json("langfuse.observation.model.parameters")["seed"] == 7
    assert out["langfuse_trace_id"] == generation.trace_id


def test_a_failed_llm_call_is_still_recorded_as_a_generation(
    workspace: Path, traced: OtlpReceiver, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.openai_server import Reply, serve

    with serve() as server:
        server.default = Reply(status=500, body={"error": {"message": "boom"}})
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-" + "cd" * 20)
        monkeypatch.setenv("SIGILCTL_OPENAI_MAX_RETRIES", "0")
        result = cli("run", "ig-launch-openai", "--json")
    assert result.code == 1
    out = json.loads(result.stdout)
    assert out["status"] == "failed"
    named = by_name(traced.wait_for_spans(10))
    generation = named["caption_generation"]
    assert generation.attributes["langfuse.observation.model.name"] == "gpt-4o-mini"
    assert "HTTP 500" in generation.attr_json("langfuse.observation.metadata.error")
    assert named["generate_captions"].attributes["langfuse.observation.level"] == "ERROR"
    assert out["langfuse_trace_id"] == generation.trace_id


# --- controls: sampling, enabled, env precedence ----------------------------------------------


def test_sample_rate_zero_and_enabled_false_export_nothing_and_keep_the_run_id(
    workspace: Path, traced: OtlpReceiver, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, first = run_json(cli, JOB, "--no-trace")
    monkeypatch.setenv("SIGILCTL_TRACE_SAMPLE_RATE", "0")
    _, sampled_out = run_json(cli, JOB, "--force")
    monkeypatch.delenv("SIGILCTL_TRACE_SAMPLE_RATE")
    set_observability(workspace, enabled=False, rate=1.0)
    _, disabled = run_json(cli, JOB, "--force")
    set_observability(workspace, enabled=True, rate=0.0)
    _, brief_zero = run_json(cli, JOB, "--force")
    for out in (sampled_out, disabled, brief_zero):
        assert out["run_id"] == first["run_id"]
        assert out["langfuse_trace_id"] is None
    time.sleep(0.2)
    assert traced.spans == []
    assert traced.requests == []


def test_the_environment_rate_overrides_the_brief(
    workspace: Path, traced: OtlpReceiver, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_observability(workspace, enabled=True, rate=0.0)
    monkeypatch.setenv("SIGILCTL_TRACE_SAMPLE_RATE", "1")
    _, out = run_json(cli, JOB)
    assert out["langfuse_trace_id"]
    monkeypatch.setenv("SIGILCTL_TRACE_SAMPLE_RATE", "lots")
    result, out = run_json(cli, JOB, "--force")
    assert out["langfuse_trace_id"] is None
    assert result.stderr.count("\n") == 1 and "SIGILCTL_TRACE_SAMPLE_RATE" in result.stderr


def test_sampling_follows_run_id_alone() -> None:
    low, high = "00000000" + "0" * 24, "ffffffff" + "0" * 24
    assert in_sample(low, 0.01) and not in_sample(high, 0.99)
    assert in_sample(high, 1.0) and not in_sample(low, 0.0)
    half = "80000000" + "0" * 24
    assert not in_sample(half, 0.5) and in_sample(half, 0.5000001)
    run_ids = [hashlib.sha256(str(i).encode()).hexdigest()[:32] for i in range(2000)]
    share = sum(in_sample(r, 0.25) for r in run_ids) / len(run_ids)
    assert 0.2 < share < 0.3
    assert [in_sample(r, 0.25) for r in run_ids] == [in_sample(r, 0.25) for r in run_ids]


def test_without_keys_nothing_is_traced(monkeypatch: pytest.MonkeyPatch) -> None:
    decision = decide("ab" * 16, enabled=True, sample_rate=1.0)
    assert not decision.traced and "LANGFUSE_PUBLIC_KEY" in decision.reason
    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", "pk-x")
    monkeypatch.setenv("LANGFUSE_SECRET_KEY", "sk-x")
    monkeypatch.setenv("LANGFUSE_TRACING_ENABLED", "False")
    assert not decide("ab" * 16, enabled=True, sample_rate=1.0).traced
    assert not observability.is_observability_enabled()


def test_bad_sdk_settings_do_not_break_a_traced_run(
    workspace: Path, traced: OtlpReceiver, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANGFUSE_TIMEOUT", "soon")
    monkeypatch.setenv("LANGFUSE_SAMPLE_RATE", "often")
    monkeypatch.setenv("LANGFUSE_FLUSH_INTERVAL", "later")
    result, out = run_json(cli, JOB)
    assert out["status"] == "succeeded"
    assert SECRET not in result.stderr + result.stdout


# --- the helpers ----------------------------------------------------------------------------


def test_every_helper_is_a_no_op_without_a_trace() -> None:
    assert observability.trace_id(None) is None
    assert observability.trace_llm_call(None, name="g", model="m", prompt="p", response="r") is None
    assert (
        observability.trace_doctrine_load(
            None, doctrine_id="d", version="1", path="p", sha256="0" * 64
        )
        is None
    )
    assert observability.trace_context_retrieval(None, mode="explicit", files=[]) is None
    assert observability.trace_snapshot_creation(None, name="brief", sha256="0", bytes=1) is None
    assert observability.trace_output_generation(None, files=[], total_bytes=0) is None
    assert observability.record_steps(None, [StepRecord("load_brief", 1, 2)]) is None
    assert observability.finalize_trace(None, "succeeded") is None
    assert observability.abort_trace(None, RuntimeError("x")) is None
    with observability.trace_step(None, "load_doctrine") as step:
        assert step.update(anything=1) is None
    with pytest.raises(KeyError), observability.trace_step(None, "x"):
        raise KeyError("the step's own error")


def _ids(run_id: str = "ab" * 16) -> observability.GovernanceIds:
    return observability.GovernanceIds(
        "job-x", run_id, "instagram_copy", "brand-x", "cd" * 32, queue_job_id="q-1"
    )


def test_steps_record_their_errors_and_reraise_them_and_helper_faults_are_swallowed(
    traced: OtlpReceiver,
) -> None:
    trace = observability.start_pipeline_trace(
        _ids(), enabled=True, sample_rate=1.0, started_at="2026-01-01T00:00:00.000Z"
    )
    assert trace is not None
    with pytest.raises(ValueError, match="boom"), observability.trace_step(trace, "shaky"):
        raise ValueError("boom")
    with observability.trace_step(trace, "generate_captions") as step:
        observability.trace_llm_call(
            trace,
            name="g",
            model="m-1",
            prompt="p",
            response="r",
            usage={"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": None},
            cost_usd=0.25,
        )
        step.update(captions=3)
    # a malformed measured step: the helper fails inside, the caller never sees it
    observability.record_steps(trace, [StepRecord("load_doctrine", 1, 2, output={"id": "x"})])
    observability.finalize_trace(trace, "partial", "one caption missing", ["outputs/a.json"])
    observability.trace_step(trace, "after-the-end").__enter__()  # finished: a no-op
    warning = observability.flush()
    assert warning is not None and "internal error" in warning and "\n" not in warning
    named = by_name(traced.wait_for_spans(4))
    shaky = named["shaky"]
    assert shaky.attributes["langfuse.observation.level"] == "ERROR"
    assert "ValueError: boom" in shaky.attributes["langfuse.observation.status_message"]
    generation = named["g"]
    assert generation.attr_json("langfuse.observation.usage_details") == {"input": 5, "output": 2}
    assert generation.attr_json("langfuse.observation.cost_details") == {"total": 0.25}
    assert generation.parent_span_id == named["generate_captions"].span_id
    assert named["generate_captions"].attr_json("langfuse.observation.output") == {"captions": 3}
    root = named["job:instagram_copy"]
    assert root.attr_json(META + "queue_job_id") == "q-1"
    assert root.attributes["langfuse.observation.level"] == "WARNING"
    assert "after-the-end" not in named


def test_trace_ids_are_per_execution_and_recomputable() -> None:
    from langfuse import Langfuse

    from sigilctl.observability.trace import TRACE_SEED_PREFIX, trace_id_for

    a = trace_id_for("ab" * 16, "2026-01-01T00:00:00.000Z")
    assert a == trace_id_for("ab" * 16, "2026-01-01T00:00:00.000Z")
    assert a != trace_id_for("ab" * 16, "2026-01-01T00:00:00.001Z")
    assert a == Langfuse.create_trace_id(
        seed=f"{TRACE_SEED_PREFIX}{'ab' * 16}:2026-01-01T00:00:00.000Z"
    )


# --- never stall, never break (child processes, so interpreter exit is measured too) ---------


def timed_run(workspace: Path, env: dict[str, str], *args: str) -> tuple[float, Result]:
    started = time.monotonic()
    result = run_subprocess("run", JOB, "--force", "--json", *args, cwd=workspace, env=env)
    return time.monotonic() - started, result


@pytest.mark.slow
def test_an_unreachable_or_hanging_langfuse_adds_at_most_the_bound(workspace: Path) -> None:
    bound = 0.6
    with OtlpReceiver() as healthy:
        env = langfuse_env(healthy.base_url, bound)
        timed_run(workspace, env)  # warm caches (bytecode, files)
        healthy_s, ok = timed_run(workspace, env)
        assert ok.code == 0 and ok.stderr == ""
        assert healthy.wait_for_spans(13)
    untraced_s, _ = timed_run(workspace, {}, "--no-trace")
    closed_s, closed = timed_run(workspace, langfuse_env(closed_port_url(), bound))
    with OtlpReceiver("hang", hang_s=60) as hanging:
        hang_s, hung = timed_run(workspace, langfuse_env(hanging.base_url, bound))
        assert hanging.requests, "the export reached the hanging server"
    with OtlpReceiver("error") as failing:
        error_s, erred = timed_run(workspace, langfuse_env(failing.base_url, bound))
    for result in (closed, hung, erred):
        assert result.code == 0, result.stderr
        assert json.loads(result.stdout)["status"] == "succeeded"
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("sigilctl: warning: tracing:")
        assert SECRET not in result.stderr and "Traceback" not in result.stderr
    slack = 1.0  # process noise on a busy machine; the hang it guards against is 60 s
    for wall in (closed_s, hang_s, error_s):
        assert wall - healthy_s < bound + slack, (wall, healthy_s)
        assert wall - untraced_s < bound + slack + 1.0, (wall, untraced_s)  # + SDK import


def test_no_command_but_a_traced_run_imports_the_sdk(workspace: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        from sigilctl.cli import run_cli
        codes = [run_cli(["--help"]), run_cli(["run", "ig-test-001", "--json"]),
                 run_cli(["show", "ig-test-001"]), run_cli(["verify", "--all"]),
                 run_cli(["reindex"])]
        loaded = sorted({m.split(".")[0] for m in sys.modules} & {"langfuse", "opentelemetry"})
        print(codes, loaded)
        """
    )
    proc = run_python("-c", script, cwd=workspace)
    assert proc.stdout.splitlines()[-1] == "[0, 0, 0, 0, 0] []", proc.stdout + proc.stderr
