"""``sigilctl trace-health`` in each of its states, against a real local receiver: why it is
unhealthy, the spool's backlog, the probe, and never a credential on screen (also with -v)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from sigilctl.smoke.receiver import OtlpReceiver, closed_port_url
from tests.helpers import LANGFUSE_TEST_SECRET as SECRET
from tests.helpers import langfuse_env

PUBLIC = "pk-lf-" + "4a" * 16


def point_at(monkeypatch: pytest.MonkeyPatch, url: str, public: str | None = None) -> None:
    for name, value in langfuse_env(url, public_key=public).items():
        monkeypatch.setenv(name, value)


def health(cli: Any, *args: str) -> tuple[int, dict[str, Any], str]:
    result = cli("trace-health", "--json", *args)
    return result.code, json.loads(result.stdout), result.stderr


def test_disabled_names_the_missing_variables_and_require_makes_it_fail(cli: Any) -> None:
    code, report, _ = health(cli)
    assert code == 0
    assert report["status"] == "disabled"
    assert report["missing"] == ["LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY"]
    assert "LANGFUSE_PUBLIC_KEY" in report["error"]
    assert {"status", "host", "latency_ms", "error", "cause", "spool"} <= set(report)
    assert "probe" not in report
    code, _, _ = health(cli, "--require")
    assert code == 1
    human = cli("trace-health")
    assert human.code == 0 and "disabled" in human.stdout and "LANGFUSE_SECRET_KEY" in human.stdout


def test_disabled_when_only_one_key_is_set(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", "pk-lf-only")
    _, report, _ = health(cli)
    assert report["status"] == "disabled"
    assert report["missing"] == ["LANGFUSE_SECRET_KEY"]


def test_healthy_reports_host_latency_sdk_version_and_the_spool(
    workspace: Any, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with OtlpReceiver() as receiver:
        point_at(monkeypatch, receiver.base_url)
        code, report, _ = health(cli, "--require")
        assert ("GET", "/api/public/projects") in receiver.requests
        assert all(h.startswith("Basic ") for h in receiver.auth_headers)
        human = cli("trace-health")
    assert code == 0
    assert (report["status"], report["host"], report["error"], report["cause"]) == (
        "healthy",
        receiver.base_url,
        None,
        None,
    )
    assert isinstance(report["latency_ms"], float) and report["latency_ms"] >= 0
    assert report["sdk_version"].startswith("5.")
    assert report["spool"] == {
        "spooled_traces": 0,
        "spooled_bytes": 0,
        "oldest": None,
        "dropped": 0,
    }
    assert human.code == 0
    assert "healthy" in human.stdout and "latency" in human.stdout
    assert "no trace spooled" in human.stdout


@pytest.mark.parametrize(
    ("mode", "cause", "detail"),
    [
        ("unauthorized", "keys rejected", "HTTP 401"),
        ("error", "server error", "HTTP 500"),
        ("echo", "refused", "HTTP 400"),
    ],
)
def test_an_unhealthy_langfuse_says_why(
    cli: Any, monkeypatch: pytest.MonkeyPatch, mode: str, cause: str, detail: str
) -> None:
    with OtlpReceiver(mode) as receiver:  # type: ignore[arg-type]
        point_at(monkeypatch, receiver.base_url)
        code, report, stderr = health(cli, "--timeout", "2")
        asked = [r for r in receiver.requests if r == ("GET", "/api/public/projects")]
    assert code == 1
    assert (report["status"], report["cause"]) == ("unhealthy", cause)
    assert report["error"] == f"{cause} ({detail})"
    assert len(asked) == 1  # one answer is enough: no retries, no waiting out the timeout
    assert SECRET not in json.dumps(report) + stderr


def test_a_refused_connection_is_unreachable(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    point_at(monkeypatch, closed_port_url())
    code, report, _ = health(cli)
    assert code == 1
    assert (report["status"], report["cause"]) == ("unhealthy", "unreachable")
    assert "ConnectError" in report["error"]


def test_the_timeout_bounds_a_hanging_server(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with OtlpReceiver("hang", hang_s=60) as receiver:
        point_at(monkeypatch, receiver.base_url)
        started = time.monotonic()
        code, report, _ = health(cli, "--timeout", "0.5")
        elapsed = time.monotonic() - started
    assert code == 1
    assert (report["status"], report["cause"]) == ("unhealthy", "timeout")
    assert report["error"] == "timeout (no answer within 0.5 s)"
    assert elapsed < 0.5 + 1.5


def test_a_bad_timeout_is_a_usage_error(cli: Any) -> None:
    assert cli("trace-health", "--timeout", "0").code == 2


# --- proof of delivery ------------------------------------------------------------------------


def test_the_probe_is_delivered_when_the_server_stores_it(
    workspace: Any, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with OtlpReceiver() as receiver:
        point_at(monkeypatch, receiver.base_url)
        code, report, _ = health(cli, "--probe", "--probe-timeout", "10")
        human = cli("trace-health", "--probe")
        probe = report["probe"]
        view = receiver.trace(probe["trace_id"])
    assert code == 0, report
    assert set(probe) == {"trace_id", "delivered", "seconds"}
    assert probe["delivered"] is True and 0 <= probe["seconds"] < 10
    assert (
        view is not None and view["name"] == "sigilctl:probe" and view["tags"] == ["sigilctl-probe"]
    )
    assert any(r == ("GET", f"/api/public/traces/{probe['trace_id']}") for r in receiver.requests)
    assert human.code == 0 and ": delivered in" in human.stdout


def test_the_probe_is_not_delivered_when_the_server_accepts_but_never_stores(
    workspace: Any, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with OtlpReceiver("blackhole") as receiver:
        point_at(monkeypatch, receiver.base_url)
        started = time.monotonic()
        code, report, _ = health(cli, "--probe", "--probe-timeout", "1.5")
        elapsed = time.monotonic() - started
        polls = [r for r in receiver.requests if r[1].startswith("/api/public/traces/")]
    assert code == 1
    assert report["status"] == "healthy"  # the keys work; the traces do not arrive
    assert report["probe"]["delivered"] is False
    assert "not returned within 1.5 s" in report["probe"]["error"]
    assert len(polls) >= 2 and elapsed < 1.5 + 2.0


def test_no_probe_without_langfuse(workspace: Any, cli: Any) -> None:
    code, report, _ = health(cli, "--probe")
    assert code == 1
    assert report["probe"] == {
        "trace_id": None,
        "delivered": False,
        "seconds": 0.0,
        "error": "not sent: Langfuse is disabled",
    }


# --- never a credential -----------------------------------------------------------------------


def test_verbose_trace_health_against_a_server_that_echoes_the_request_shows_no_credential(
    workspace: Any, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    basic = base64.b64encode(f"{PUBLIC}:{SECRET}".encode()).decode()
    forbidden = (PUBLIC, SECRET, basic, "Authorization", "x-langfuse-public-key")
    with OtlpReceiver("echo") as receiver:
        point_at(monkeypatch, receiver.base_url, PUBLIC)
        outputs = [cli("-v", "trace-health", *extra) for extra in ((), ("--json",), ("--probe",))]
        ran = cli("-v", "run", "ig-test-001", "--json")
        flushed = cli("-v", "traces", "flush")
    for result in (*outputs, ran, flushed):
        text = result.stdout + result.stderr
        for secret in forbidden:
            assert secret not in text, (secret, text)
    assert "refused (HTTP 400)" in outputs[1].stdout
