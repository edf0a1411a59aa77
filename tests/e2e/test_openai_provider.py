"""The openai provider against a real OpenAI-compatible HTTP server on 127.0.0.1.

The official client sends real requests; the server (tests/openai_server.py) answers what each
test queued. Nothing here replaces the client, the retry loop or the runner.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sigilctl.errors import InputError
from sigilctl.providers.openai_chat import public_endpoint, strict_schema
from sigilctl.providers.retry import (
    MAX_WAIT,
    GaveUp,
    Retryable,
    RetryPolicy,
    backoff,
    call_with_retries,
    parse_policy,
    retry_after_seconds,
)
from tests.helpers import (
    ENV_PREFIXES,
    REPO,
    run_python,
    run_result,
    run_subprocess,
    visible_runs,
)
from tests.openai_server import FakeOpenAI, Reply, captions, completion, serve

JOB = "ig-launch-openai"
KEY = "sk-test-" + "5e" * 20  # distinctive: any leak is found by a plain substring search


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with serve() as fake:
        yield fake


@pytest.fixture
def openai_env(server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point the provider at the test server with small, test-sized timeouts and retries."""
    values = {
        "OPENAI_BASE_URL": server.url,
        "OPENAI_API_KEY": KEY,
        "SIGILCTL_OPENAI_TIMEOUT": "2",
        "SIGILCTL_OPENAI_MAX_RETRIES": "2",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def manifest_of(run_dir: str) -> dict[str, Any]:
    return json.loads(Path(run_dir, "manifest.json").read_text())  # type: ignore[no-any-return]


# --- pieces ---------------------------------------------------------------------------------


def test_endpoint_record_has_no_userinfo_query_or_fragment() -> None:
    url = "https://user:sk-inurl-123456@proxy.example:8443/openai/v1/?api-key=abc#frag"
    assert public_endpoint(url) == "https://proxy.example:8443/openai/v1"
    assert public_endpoint("http://[::1]:9/v1") == "http://[::1]:9/v1"


def test_strict_schema_closes_every_object_and_drops_unsupported_keywords() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "string", "minLength": 1, "maxLength": 5, "default": "x"},
            "b": {"type": "array", "items": {"type": "object", "properties": {"c": {}}}},
        },
        "required": ["a"],
    }
    out = strict_schema(schema)
    assert out["required"] == ["a", "b"]
    assert out["additionalProperties"] is False
    assert out["properties"]["a"] == {"type": "string"}
    inner = out["properties"]["b"]["items"]
    assert inner["required"] == ["c"]
    assert inner["additionalProperties"] is False


def test_retry_after_forms() -> None:
    assert retry_after_seconds({"Retry-After": "3"}) == 3.0
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert (
        retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, now=1445412480) == 10
    )
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None


def test_policy_from_environment_values() -> None:
    assert parse_policy(None, None) == RetryPolicy()
    assert parse_policy("0.5", "0") == RetryPolicy(timeout=0.5, max_retries=0)
    with pytest.raises(InputError, match="SIGILCTL_OPENAI_TIMEOUT"):
        parse_policy("nan", None)
    with pytest.raises(InputError, match="SIGILCTL_OPENAI_MAX_RETRIES"):
        parse_policy(None, "-1")


def test_retry_loop_backs_off_honours_retry_after_and_stops() -> None:
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    def fail(timeout: float) -> None:
        now[0] += timeout
        raise Retryable("HTTP 503", retry_after=1000.0 if len(waits) == 1 else None)

    policy = RetryPolicy(timeout=1.0, max_retries=3)
    with pytest.raises(GaveUp) as caught:
        call_with_retries(fail, policy, clock=lambda: now[0], sleep=sleep, rng=random.Random(1))
    assert caught.value.attempts == 4
    assert len(waits) == 3
    assert 0.25 <= waits[0] <= 0.5  # first backoff: 0.5 s with 50–100 % jitter
    assert waits[1] == MAX_WAIT  # a huge Retry-After is honoured up to the cap
    assert 1.0 <= waits[2] <= 2.0
    assert now[0] <= policy.budget
    assert all(backoff(n, random.Random(n)) <= 8.0 for n in range(1, 40))


def test_retry_loop_returns_the_attempt_count() -> None:
    calls: list[float] = []

    def flaky(timeout: float) -> str:
        calls.append(timeout)
        if len(calls) < 3:
            raise Retryable("connection error")
        return "ok"

    value, attempts = call_with_retries(flaky, RetryPolicy(timeout=0.5), sleep=lambda _s: None)
    assert (value, attempts) == ("ok", 3)
    assert calls == [0.5, 0.5, 0.5]


# --- end to end through the CLI -------------------------------------------------------------


def test_captions_come_from_the_server_and_the_request_carries_the_brief(
    workspace: Path, server: FakeOpenAI, openai_env: dict[str, str], cli: Any
) -> None:
    server.default = Reply(body=completion(captions(4, "marker-7f3a")))
    result, out = run_result(cli, "run", JOB)
    assert result.code == 0, result.stderr
    assert out["status"] == "succeeded"
    assert out["cached"] is False
    written = json.loads(Path(out["run_dir"], "outputs", "captions.json").read_text())
    assert [c["text"] for c in written["captions"]] == [
        f"Caption {i} marker-7f3a: tracing never blocks a run." for i in range(4)
    ]
    (request,) = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    body = request.body
    assert (body["model"], body["temperature"], body["seed"], body["max_tokens"]) == (
        "gpt-4o-mini",
        0.4,
        7,
        1200,
    )
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert "tracing that never slows a content run down" in body["messages"][1]["content"]
    response_format = body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["strict"] is True
    assert response_format["json_schema"]["schema"]["required"] == ["captions"]

    manifest = manifest_of(out["run_dir"])
    assert manifest["usage"] == {
        "prompt_tokens": 321,
        "completion_tokens": 123,
        "total_tokens": 444,
    }
    assert manifest["provider"] == {
        "name": "openai",
        "model": "gpt-4o-mini-2024-07-18",
        "offline": False,
        "endpoint": server.url,
        "attempts": 1,
    }
    model_config = json.loads(Path(out["run_dir"], "inputs/model_config.resolved.json").read_text())
    assert "127.0.0.1" not in json.dumps(model_config)  # the endpoint is not an input

    again, out2 = run_result(cli, "run", JOB)
    assert again.code == 0
    assert out2["cached"] is True
    assert out2["run_id"] == out["run_id"]
    assert len(server.requests) == 1  # the cache hit sent nothing


def test_429_then_200_retries_after_the_servers_delay(
    workspace: Path, server: FakeOpenAI, openai_env: dict[str, str], cli: Any
) -> None:
    server.push(
        Reply(status=429, headers={"retry-after": "0.4"}, body={"error": {"message": "slow"}})
    )
    result, out = run_result(cli, "run", JOB)
    assert result.code == 0 and out["status"] == "succeeded", result.stderr
    first, second = server.requests
    assert second.at - first.at >= 0.4
    assert manifest_of(out["run_dir"])["provider"]["attempts"] == 2


def test_persistent_500_fails_bounded_and_a_healthy_server_later_succeeds(
    workspace: Path,
    server: FakeOpenAI,
    openai_env: dict[str, str],
    cli: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SIGILCTL_OPENAI_MAX_RETRIES", "1")
    server.default = Reply(status=500, body={"error": {"message": "boom"}})
    started = time.monotonic()
    result, out = run_result(cli, "run", JOB)
    assert time.monotonic() - started < 5
    assert result.code == 1
    assert out["status"] == "failed"
    assert len(server.requests) == 2
    assert out["error"] == (
        f"the OpenAI-compatible server at {server.url} kept failing (HTTP 500) after 2 attempts"
    )
    manifest = manifest_of(out["run_dir"])
    assert manifest["status"] == "failed"
    assert manifest["error"] == out["error"]
    assert manifest["artifacts"] == []
    assert not (Path(out["run_dir"]) / "outputs").exists()  # a failed run has no outputs/
    assert manifest["provider"]["attempts"] == 2
    assert manifest["usage"] is None

    server.default = Reply(body=completion(captions(4)))
    healed, out2 = run_result(cli, "run", JOB)
    assert healed.code == 0
    assert out2["status"] == "succeeded"
    assert out2["cached"] is False
    assert out2["run_id"] == out["run_id"]
    assert manifest_of(out2["run_dir"])["status"] == "succeeded"


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (
            Reply(body=completion("Sure! Here are four captions about tracing.")),
            "the reply is not a valid caption set (reply: Invalid JSON",
        ),
        (Reply(body=completion(captions(2))), "the reply has 2 captions, the brief asks for 4"),
        (
            Reply(body="<html>bad gateway</html>"),
            "answered with a body that is not a chat completion",
        ),
        (
            Reply(body=completion('{"captions": [', finish_reason="length")),
            "the reply was cut off at max_tokens=1200",
        ),
    ],
    ids=["prose", "wrong-count", "not-a-completion", "cut-off"],
)
def test_a_reply_that_is_not_a_caption_set_fails_the_run(
    workspace: Path,
    server: FakeOpenAI,
    openai_env: dict[str, str],
    cli: Any,
    reply: Reply,
    message: str,
) -> None:
    server.default = reply
    result, out = run_result(cli, "run", JOB)
    assert result.code == 1
    assert out["status"] == "failed"
    assert message in out["error"]
    assert len(server.requests) == 1  # a bad reply is not retried
    (kept,) = manifest_of(out["run_dir"])["artifacts"]  # the paid reply, as it came
    sent = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
    assert kept["path"] == "outputs/raw_response." + ("txt" if "html" in sent else "json")
    assert Path(out["run_dir"], kept["path"]).read_text() == sent


def test_a_fenced_reply_is_accepted(
    workspace: Path, server: FakeOpenAI, openai_env: dict[str, str], cli: Any
) -> None:
    server.default = Reply(body=completion("```json\n" + captions(4) + "\n```"))
    result, out = run_result(cli, "run", JOB)
    assert result.code == 0 and out["status"] == "succeeded", out["error"]


def test_a_slow_server_times_out_within_the_bound(
    workspace: Path,
    server: FakeOpenAI,
    openai_env: dict[str, str],
    cli: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SIGILCTL_OPENAI_TIMEOUT", "0.3")
    monkeypatch.setenv("SIGILCTL_OPENAI_MAX_RETRIES", "1")
    server.default = Reply(body=completion(captions(4)), delay=30)
    started = time.monotonic()
    result, out = run_result(cli, "run", JOB)
    elapsed = time.monotonic() - started
    assert result.code == 1
    assert out["status"] == "failed"
    assert "kept failing (no reply within 0.3 s) after 2 attempts" in out["error"]
    assert 0.6 <= elapsed < 3
    assert len(server.requests) == 2


def test_a_client_error_is_not_retried_and_names_the_key_variable(
    workspace: Path, server: FakeOpenAI, openai_env: dict[str, str], cli: Any
) -> None:
    server.default = Reply(status=401, body={"error": {"message": f"Incorrect API key {KEY}"}})
    result, out = run_result(cli, "run", JOB)
    assert result.code == 1
    assert len(server.requests) == 1
    assert (
        out["error"]
        == f"the OpenAI-compatible server at {server.url} rejected OPENAI_API_KEY (HTTP 401)"
    )


def test_missing_key_is_bad_input_and_writes_nothing(
    workspace: Path, server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, cli: Any
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    result = cli("run", JOB)
    assert result.code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "OPENAI_API_KEY is not set" in result.stderr
    assert list((workspace / "artifacts").iterdir()) == []
    assert server.requests == []


def test_the_key_never_reaches_artifacts_or_output(
    workspace: Path, server: FakeOpenAI, openai_env: dict[str, str], cli: Any
) -> None:
    echo = {"error": {"message": f"key {KEY} is over quota"}}
    server.push(Reply(status=429, headers={"retry-after": "0"}, body=echo))
    printed = [cli("-v", "run", JOB), cli("-v", "run", JOB, "--json")]
    printed.append(cli("-v", "show", JOB, "--json"))
    server.default = Reply(status=400, body=echo)
    printed.append(cli("-v", "run", JOB, "--provider", "openai", "--force", "--json"))
    assert "key *** is over quota" in json.loads(printed[-1].stdout)["error"]
    for result in printed:
        assert KEY not in result.stdout
        assert KEY not in result.stderr
    for path in (workspace / "artifacts").rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_provider_offline_runs_an_openai_job_without_a_key(
    workspace: Path,
    server: FakeOpenAI,
    openai_env: dict[str, str],
    cli: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    online, out_online = run_result(cli, "run", JOB)
    monkeypatch.delenv("OPENAI_API_KEY")
    offline = cli("run", "--provider", "offline", JOB, "--json")
    out_offline = json.loads(offline.stdout)
    assert online.code == offline.code == 0
    assert out_offline["run_id"] != out_online["run_id"]
    assert len(server.requests) == 1
    assert manifest_of(out_offline["run_dir"])["provider"]["offline"] is True


# --- real processes -------------------------------------------------------------------------


def child_env(values: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIXES)}
    env.update(values)
    return env


def popen_run(workspace: Path, values: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sigilctl", "run", JOB, "--json"],
        cwd=workspace,
        env=child_env(values),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_openai_is_imported_only_to_send_a_request(
    workspace: Path, server: FakeOpenAI, openai_env: dict[str, str]
) -> None:
    check = (
        "import sys\n"
        "from sigilctl.cli import run_cli\n"
        "for argv in sys.argv[1:]:\n"
        "    run_cli(argv.split())\n"
        "    assert 'openai' not in sys.modules, argv\n"
        "print('clean')\n"
    )
    commands = ["--help", "run --provider offline ig-launch-openai", "show ig-launch-openai"]
    commands += ["run --help", "show --help"]
    if (REPO / "sigilctl" / "cli" / "verify.py").exists():
        commands += ["verify --help", "verify --all"]
    if (REPO / "sigilctl" / "cli" / "reindex.py").exists():
        commands += ["reindex --help", "reindex"]
    proc = run_python("-c", check, *commands, cwd=workspace)
    assert proc.code == 0 and proc.stdout.endswith("clean\n"), proc.stderr
    assert server.requests == []


def test_concurrent_runs_send_one_request(
    workspace: Path, server: FakeOpenAI, openai_env: dict[str, str]
) -> None:
    server.default = Reply(body=completion(captions(4)), delay=1.0)
    procs = [popen_run(workspace, openai_env) for _ in range(4)]
    outcomes = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 0, stderr
        outcomes.append(json.loads(stdout))
    assert len(server.requests) == 1
    assert sorted(o["cached"] for o in outcomes) == [False, True, True, True]
    assert len({o["run_id"] for o in outcomes}) == 1


def test_sigkill_during_the_request_leaves_no_half_run(
    workspace: Path, server: FakeOpenAI, openai_env: dict[str, str]
) -> None:
    server.default = Reply(body=completion(captions(4)), delay=60)  # blocks until stopped
    proc = popen_run(workspace, {**openai_env, "SIGILCTL_OPENAI_TIMEOUT": "60"})
    try:
        assert server.arrived.wait(30), "the request never reached the server"
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert visible_runs(workspace, JOB) == []
    checked = run_subprocess("verify", "--all", "--json", cwd=workspace)
    assert checked.code in (0, 2), checked.stderr  # clean, or nothing to verify

    server.default = Reply(body=completion(captions(4)))
    result = run_subprocess("run", JOB, "--json", cwd=workspace, env=openai_env)
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "succeeded"
    assert [p.name for p in visible_runs(workspace, JOB)] == [json.loads(result.stdout)["run_id"]]
