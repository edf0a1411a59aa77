"""Traces through real HTTP to the local receiver, read back as Langfuse would display them.

No mock of OpenTelemetry or the network: a run sends one OTLP request to ``OtlpReceiver`` on
127.0.0.1; the receiver decodes it and answers ``GET /api/public/traces/{id}`` through the model
of the server's rules (``sigilctl.smoke.langfuse_view``). A regression shows up as "this is
what Langfuse would display".
"""

from __future__ import annotations

import hashlib
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sigilctl import __version__
from sigilctl.observability.settings import decide, in_sample
from sigilctl.smoke.langfuse_view import server_estimates_cost, tree_lines
from sigilctl.smoke.receiver import OtlpReceiver
from tests.helpers import LANGFUSE_TEST_SECRET as SECRET
from tests.helpers import REPO, langfuse_env, run_python, run_result

JOB = "ig-test-001"
META = "langfuse.trace.metadata."
# What Langfuse displays for the offline example job (names, types, levels; by start time).
EXPECTED_TREE = [
    "job:instagram_copy (span)",
    "  load_brief (span)",
    "  load_doctrine (span)",
    "  retrieve_context (span)",
    "  create_snapshots (span)",
    "    snapshot_brief (span)",
    "    snapshot_context (span)",
    "    snapshot_doctrine (span)",
    "    snapshot_model_config (span)",
    "    snapshot_pipeline (span)",
    "  generate_captions (span)",
    "    caption_generation (generation)",
    "  generate_outputs (span)",
]


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as rx:
        yield rx


@pytest.fixture
def traced(receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch) -> OtlpReceiver:
    for name, value in langfuse_env(receiver.base_url).items():
        monkeypatch.setenv(name, value)
    return receiver


def manifest_of(out: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(out["run_dir"], "manifest.json").read_text())
    return data


def shown(receiver: OtlpReceiver, trace_id: str) -> dict[str, Any]:
    """The trace as the receiver's GET /api/public/traces/{id} returns it (over HTTP)."""
    import httpx

    url = f"{receiver.base_url}/api/public/traces/{trace_id}"
    answer = httpx.get(url, auth=("pk-lf-reader", "sk-lf-reader"), timeout=5)
    assert answer.status_code == 200, answer.text
    view: dict[str, Any] = answer.json()
    return view


def observation(view: dict[str, Any], name: str) -> dict[str, Any]:
    return next(o for o in view["observations"] if o["name"] == name)


def docs_picture() -> list[str]:
    """The trace tree docs/observability.md shows (between its trace-tree markers)."""
    text = (REPO / "docs" / "observability.md").read_text()
    block = text.split("<!-- trace-tree -->\n```\n", 1)[1].split("```\n<!-- /trace-tree -->", 1)[0]
    return block.splitlines()


def set_observability(workspace: Path, enabled: bool, rate: float) -> None:
    brief = workspace / "jobs" / JOB / "brief.yaml"
    text = brief.read_text()
    text = text.replace("enabled: true", f"enabled: {str(enabled).lower()}")
    brief.write_text(text.replace("sample_rate: 1.0", f"sample_rate: {rate}"))


# --- a traced run, as Langfuse displays it ----------------------------------------------------


def test_a_run_is_one_trace_with_a_true_root_carrying_input_output_and_plain_ids(
    workspace: Path, traced: OtlpReceiver, cli: Any
) -> None:
    result, out = run_result(cli, "run", JOB)
    assert result.code == 0 and result.stderr == ""
    trace_id = out["langfuse_trace_id"]
    spans = [s for s in traced.spans if s.trace_id == trace_id]
    assert len(spans) == len(EXPECTED_TREE) and traced.trace_ids() == {trace_id}
    # exactly one span without a parent, and it is job:<job_type>; every parent was exported
    assert [s.name for s in spans if s.parent_span_id is None] == ["job:instagram_copy"]
    exported = {s.span_id for s in spans}
    assert all(s.parent_span_id in exported for s in spans if s.parent_span_id)
    assert all("langfuse.internal.as_root" not in s.attributes for s in spans)

    view = shown(traced, trace_id)
    manifest = manifest_of(out)
    assert tree_lines(view) == EXPECTED_TREE == docs_picture()
    assert view["name"] == "job:instagram_copy"
    assert view["tags"] == ["instagram_copy", "sigilzero"]
    assert view["input"] == {
        "job_id": JOB,
        "run_id": out["run_id"],
        "inputs_hash": out["inputs_hash"],
    }
    assert view["output"] == {
        "status": "succeeded",
        "error": None,
        "artifacts": [a["path"] for a in manifest["artifacts"]],
    }
    # the metadata as Langfuse stores it: the raw ids, so "=" on a pasted run_id finds the trace
    for key in ("job_id", "run_id", "job_type", "brand", "inputs_hash"):
        assert view["metadata"][key] == manifest[key], key
    assert "queue_job_id" not in view["metadata"]
    assert (view["environment"], view["release"]) == ("default", __version__)
    assert {s.resource["service.name"] for s in spans} == {"sigilctl"}

    generation = observation(view, "caption_generation")
    assert (generation["type"], generation["model"], generation["level"]) == (
        "GENERATION",
        "offline",
        "DEFAULT",
    )
    assert generation["usageDetails"] == {"input": 0, "output": 0, "total": 0}
    assert generation["costDetails"] == {"input": 0.0, "output": 0.0, "total": 0.0}
    assert not server_estimates_cost(generation)
    doctrine = json.loads(Path(out["run_dir"], "inputs/doctrine.resolved.json").read_text())
    assert observation(view, "load_doctrine")["output"]["sha256"] == doctrine["sha256"]
    assert (
        observation(view, "snapshot_brief")["output"]["sha256"]
        == (manifest["input_snapshots"]["brief"]["sha256"])
    )
    assert observation(view, "generate_outputs")["output"]["files"] == [
        a["path"] for a in manifest["artifacts"]
    ]
    # steps measured before the trace keep their own times, inside the root's
    root = next(s for s in spans if s.parent_span_id is None)
    assert root.start_ns <= min(s.start_ns for s in spans)
    assert root.end_ns >= max(s.end_ns for s in spans)

    # the manifest says where the trace went; no snapshot mentions it
    assert manifest["langfuse_trace_id"] == trace_id
    assert manifest["langfuse_host"] == traced.base_url
    for path in Path(out["run_dir"], "inputs").iterdir():
        assert trace_id not in path.read_text()
    assert all(auth.startswith("Basic ") for auth in traced.auth_headers)


def test_environment_and_release_come_from_langfuses_variables(
    workspace: Path, traced: OtlpReceiver, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANGFUSE_TRACING_ENVIRONMENT", "staging")
    monkeypatch.setenv("LANGFUSE_RELEASE", "r-2026.11")
    _, out = run_result(cli, "run", JOB)
    view = shown(traced, out["langfuse_trace_id"])
    assert (view["environment"], view["release"]) == ("staging", "r-2026.11")
    assert {o["environment"] for o in view["observations"]} == {"staging"}


def test_a_failed_llm_call_is_an_error_generation_with_explicit_zero_cost(
    workspace: Path, traced: OtlpReceiver, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.openai_server import Reply, serve

    with serve() as server:
        server.default = Reply(status=500, body={"error": {"message": "boom"}})
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-" + "cd" * 20)
        monkeypatch.setenv("SIGILCTL_OPENAI_MAX_RETRIES", "0")
        result, out = run_result(cli, "run", "ig-launch-openai")
    assert result.code == 1 and out["status"] == "failed"
    view = shown(traced, out["langfuse_trace_id"])
    generation = observation(view, "caption_generation")
    assert (generation["type"], generation["model"], generation["level"]) == (
        "GENERATION",
        "gpt-4o-mini",
        "ERROR",
    )
    assert "HTTP 500" in generation["statusMessage"]
    assert generation["usageDetails"] == {"input": 0, "output": 0, "total": 0}
    assert generation["costDetails"] == {"input": 0.0, "output": 0.0, "total": 0.0}
    assert not server_estimates_cost(generation)  # nothing for the server to price
    assert observation(view, "generate_captions")["level"] == "ERROR"
    assert view["output"]["status"] == "failed"
    assert observation(view, "job:instagram_copy")["level"] == "ERROR"


def test_the_openai_generation_carries_model_usage_and_parameters(
    workspace: Path, traced: OtlpReceiver, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.openai_server import serve

    with serve() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-" + "ab" * 20)
        _, out = run_result(cli, "run", "ig-launch-openai")
    generation = observation(shown(traced, out["langfuse_trace_id"]), "caption_generation")
    assert generation["model"] == "gpt-4o-mini-2024-07-18"
    assert generation["usageDetails"] == {"input": 321, "output": 123, "total": 444}
    assert generation["modelParameters"]["seed"] == 7
    assert set(generation["costDetails"]) == {"input", "output", "total"}


def test_show_links_the_trace_on_the_host_the_manifest_records(
    workspace: Path, traced: OtlpReceiver, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, out = run_result(cli, "run", JOB)
    trace_id = out["langfuse_trace_id"]
    # a colleague reads the run with another host configured, or none at all
    for reader_host in ("https://elsewhere.example", None):
        if reader_host:
            monkeypatch.setenv("LANGFUSE_BASE_URL", reader_host)
        else:
            monkeypatch.delenv("LANGFUSE_BASE_URL")
        document = json.loads(cli("show", out["run_id"], "--json").stdout)
        assert document["trace_url"] == f"{traced.base_url}/trace/{trace_id}"
        assert document["trace_spooled"] is False
        assert f"{traced.base_url}/trace/{trace_id}" in cli("show", out["run_id"]).stdout


def test_credentials_in_the_langfuse_url_never_reach_the_manifest_the_link_or_the_wire(
    workspace: Path, receiver: OtlpReceiver, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "urltoken-" + "e5" * 10
    host = receiver.base_url.replace("http://", f"http://user:{token}@") + f"/?token={token}"
    for name, value in langfuse_env(host).items():
        monkeypatch.setenv(name, value)
    result, out = run_result(cli, "run", JOB)
    health = cli("trace-health", "--json")
    shown_run = cli("show", out["run_id"], "--json")
    manifest = manifest_of(out)
    assert manifest["langfuse_host"] == receiver.base_url
    assert json.loads(health.stdout)["host"] == receiver.base_url
    assert json.loads(shown_run.stdout)["trace_url"].startswith(receiver.base_url + "/trace/")
    for text in (result.stdout, result.stderr, health.stdout, health.stderr, shown_run.stdout):
        assert token not in text
    assert receiver.trace(out["langfuse_trace_id"]) is not None  # sent, with the keys instead
    assert all(token not in auth for auth in receiver.auth_headers)


# --- the identity boundary, sampling and settings ---------------------------------------------


def test_tracing_changes_no_identity_and_a_cache_hit_sends_nothing(
    workspace: Path, traced: OtlpReceiver, cli: Any
) -> None:
    _, plain = run_result(cli, "run", JOB, "--no-trace")
    assert plain["langfuse_trace_id"] is None and traced.spans == []
    _, forced = run_result(cli, "run", JOB, "--force")
    assert (forced["run_id"], forced["inputs_hash"]) == (plain["run_id"], plain["inputs_hash"])
    _, cached = run_result(cli, "run", JOB)
    assert cached["cached"] is True
    assert cached["langfuse_trace_id"] == forced["langfuse_trace_id"]  # the run it reused
    _, again = run_result(cli, "run", JOB, "--force")
    assert again["langfuse_trace_id"] not in (None, forced["langfuse_trace_id"])
    assert traced.trace_ids() == {forced["langfuse_trace_id"], again["langfuse_trace_id"]}
    assert traced.posts == 2  # one request per traced run, none for the cache hit


def test_sample_rate_zero_and_enabled_false_send_nothing_and_keep_the_run_id(
    workspace: Path, traced: OtlpReceiver, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, first = run_result(cli, "run", JOB, "--no-trace")
    monkeypatch.setenv("SIGILCTL_TRACE_SAMPLE_RATE", "0")
    _, sampled_out = run_result(cli, "run", JOB, "--force")
    monkeypatch.delenv("SIGILCTL_TRACE_SAMPLE_RATE")
    set_observability(workspace, enabled=False, rate=1.0)
    _, disabled = run_result(cli, "run", JOB, "--force")
    set_observability(workspace, enabled=True, rate=0.0)
    _, brief_zero = run_result(cli, "run", JOB, "--force")
    for out in (sampled_out, disabled, brief_zero):
        assert out["run_id"] == first["run_id"]
        assert out["langfuse_trace_id"] is None
        assert manifest_of(out)["langfuse_host"] is None
    assert traced.requests == []


def test_the_environment_rate_overrides_the_brief(
    workspace: Path, traced: OtlpReceiver, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_observability(workspace, enabled=True, rate=0.0)
    monkeypatch.setenv("SIGILCTL_TRACE_SAMPLE_RATE", "1")
    _, out = run_result(cli, "run", JOB)
    assert out["langfuse_trace_id"]
    monkeypatch.setenv("SIGILCTL_TRACE_SAMPLE_RATE", "lots")
    result, out = run_result(cli, "run", JOB, "--force")
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


def test_without_keys_nothing_is_traced(monkeypatch: pytest.MonkeyPatch) -> None:
    decision = decide("ab" * 16, enabled=True, sample_rate=1.0)
    assert not decision.traced and "LANGFUSE_PUBLIC_KEY" in decision.reason
    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", "pk-x")
    monkeypatch.setenv("LANGFUSE_SECRET_KEY", "sk-x")
    monkeypatch.setenv("LANGFUSE_TRACING_ENABLED", "False")
    assert not decide("ab" * 16, enabled=True, sample_rate=1.0).traced


def test_bad_sdk_settings_neither_break_nor_untrace_a_run(
    workspace: Path, traced: OtlpReceiver, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SDK's own variables are not read at all: the trace still arrives, whole."""
    monkeypatch.setenv("LANGFUSE_TIMEOUT", "soon")
    monkeypatch.setenv("LANGFUSE_SAMPLE_RATE", "often")
    monkeypatch.setenv("LANGFUSE_FLUSH_INTERVAL", "later")
    monkeypatch.setenv("LANGFUSE_FLUSH_AT", "many")
    result, out = run_result(cli, "run", JOB)
    assert out["status"] == "succeeded" and result.stderr == ""
    assert out["langfuse_trace_id"], "a bad SDK setting untraced the run"
    assert tree_lines(shown(traced, out["langfuse_trace_id"])) == EXPECTED_TREE
    assert SECRET not in result.stderr + result.stdout


def test_a_malformed_setting_of_ours_is_named_once_and_the_default_used(
    workspace: Path, traced: OtlpReceiver, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIGILCTL_TRACE_FLUSH_TIMEOUT", "soonish")
    monkeypatch.setenv("SIGILCTL_TRACE_SPOOL_MAX_MB", "-3")
    result, out = run_result(cli, "run", JOB)
    assert out["status"] == "succeeded" and out["langfuse_trace_id"]
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sigilctl: warning: tracing:")
    assert "SIGILCTL_TRACE_FLUSH_TIMEOUT='soonish'" in lines[0]
    assert "SIGILCTL_TRACE_SPOOL_MAX_MB='-3'" in lines[0]
    assert traced.trace(out["langfuse_trace_id"]) is not None


# --- loading, and what is loaded ------------------------------------------------------------


def test_a_traced_run_registers_no_exit_handler_and_leaves_the_global_provider_alone(
    workspace: Path, receiver: OtlpReceiver
) -> None:
    """The SDK's client (and its unbounded exit flush) is never built: if a new SDK version
    registered an exit handler on import or span building, this fails loudly."""
    script = textwrap.dedent(
        """
        import atexit
        registered = []
        real_register = atexit.register
        def spy(fn, *args, **kwargs):
            registered.append(getattr(fn, "__module__", "") or repr(fn))
            return real_register(fn, *args, **kwargs)
        atexit.register = spy
        from sigilctl.cli import run_cli
        code = run_cli(["run", "ig-test-001", "--json"])
        from opentelemetry import trace
        print(code, type(trace.get_tracer_provider()).__name__,
              sorted(m for m in registered if m.startswith(("langfuse", "opentelemetry"))))
        """
    )
    proc = run_python("-c", script, cwd=workspace, env=langfuse_env(receiver.base_url))
    assert proc.stdout.splitlines()[-1] == "0 ProxyTracerProvider []", proc.stdout + proc.stderr
    assert receiver.trace_ids(), "the run was traced and delivered"
