"""``sigilctl trace-health`` in each of its states, against a real local receiver."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from sigilctl.smoke.receiver import OtlpReceiver, closed_port_url

SECRET = "sk-lf-" + "9d" * 16


def point_at(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    # One client per public key lives as long as the process: a fresh key per test.
    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", f"pk-lf-{uuid.uuid4().hex}")
    monkeypatch.setenv("LANGFUSE_SECRET_KEY", SECRET)
    monkeypatch.setenv("LANGFUSE_BASE_URL", url)


def health(cli: Any, *args: str) -> tuple[int, dict[str, Any], str]:
    result = cli("trace-health", "--json", *args)
    return result.code, json.loads(result.stdout), result.stderr


def test_disabled_names_the_missing_variables_and_require_makes_it_fail(cli: Any) -> None:
    code, report, _ = health(cli)
    assert code == 0
    assert report["status"] == "disabled"
    assert report["missing"] == ["LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY"]
    assert "LANGFUSE_PUBLIC_KEY" in report["error"]
    assert {"status", "host", "latency_ms", "error"} <= set(report)
    code, _, _ = health(cli, "--require")
    assert code == 1
    human = cli("trace-health")
    assert human.code == 0 and "disabled" in human.stdout and "LANGFUSE_SECRET_KEY" in human.stdout


def test_disabled_when_only_one_key_is_set(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", "pk-lf-only")
    _, report, _ = health(cli)
    assert report["status"] == "disabled"
    assert report["missing"] == ["LANGFUSE_SECRET_KEY"]


def test_healthy_reports_host_latency_and_sdk_version(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with OtlpReceiver() as receiver:
        point_at(monkeypatch, receiver.base_url)
        code, report, _ = health(cli, "--require")
        assert ("GET", "/api/public/projects") in receiver.requests
        assert all(h.startswith("Basic ") for h in receiver.auth_headers)
        human = cli("trace-health")
    assert code == 0
    assert report["status"] == "healthy"
    assert report["host"] == receiver.base_url
    assert isinstance(report["latency_ms"], float) and report["latency_ms"] >= 0
    assert report["error"] is None
    assert report["sdk_version"].startswith("5.")
    assert human.code == 0 and "healthy" in human.stdout and "latency" in human.stdout


@pytest.mark.parametrize("mode", ["unauthorized", "error"])
def test_an_answer_that_is_not_a_project_list_is_unhealthy(
    cli: Any, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    with OtlpReceiver(mode) as receiver:  # type: ignore[arg-type]
        point_at(monkeypatch, receiver.base_url)
        code, report, stderr = health(cli, "--timeout", "1")
    assert code == 1
    assert report["status"] == "unhealthy"
    assert report["error"].split(":")[0].endswith("Error")
    assert ("401" if mode == "unauthorized" else "500") in report["error"] or "TimeoutError" in (
        report["error"]
    )
    assert SECRET not in json.dumps(report) + stderr


def test_a_refused_connection_is_unhealthy(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    point_at(monkeypatch, closed_port_url())
    code, report, _ = health(cli)
    assert code == 1
    assert report["status"] == "unhealthy"
    assert "ConnectError" in report["error"]


def test_the_timeout_bounds_a_hanging_server(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with OtlpReceiver("hang", hang_s=60) as receiver:
        point_at(monkeypatch, receiver.base_url)
        started = time.monotonic()
        code, report, _ = health(cli, "--timeout", "0.5")
        elapsed = time.monotonic() - started
    assert code == 1
    assert report["status"] == "unhealthy"
    assert report["error"] == "TimeoutError: no answer within 0.5 s"
    assert elapsed < 0.5 + 1.0  # + the SDK's first import in this process


def test_a_bad_timeout_is_a_usage_error(cli: Any) -> None:
    assert cli("trace-health", "--timeout", "0").code == 2
