"""The API's answers, called in-process (no server, no workers: tasks stay queued).

Every error is ``{"error": one sentence}`` with its status; tokens are required everywhere but
``/healthz``; request bodies are bounded whether they announce their length or stream.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sigilctl.service.api import Service, create_app
from sigilctl.service.guards import token_matches
from sigilctl.service.local_queue import LocalQueue
from sigilctl.service.metrics import Metrics
from sigilctl.service.settings import ServiceSettings
from sigilctl.workspace import Workspace

TOKEN = "unit-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(workspace: Path) -> Iterator[TestClient]:
    ws = Workspace.locate(workspace)
    queue = LocalQueue(ws, workers=1)
    queue.store.initialize()  # not started: nothing executes, tasks stay queued
    service = Service(ws, ServiceSettings(None, (TOKEN,)), queue, Metrics(ws, queue))
    return TestClient(create_app(service, auth=True), raise_server_exceptions=True)


def error_of(answer: object, status: int) -> str:
    assert answer.status_code == status, answer.text  # type: ignore[attr-defined]
    body = answer.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"} and isinstance(body["error"], str), body
    assert "Traceback" not in body["error"] and TOKEN not in body["error"]
    return str(body["error"])


def test_a_queued_run_is_known_by_task_id_and_by_run_id(client: TestClient) -> None:
    answer = client.post("/jobs/run", json={"job_id": "ig-test-001"}, headers=AUTH)
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["status"] == "queued" and body["cached"] is False and body["error"] is None
    for ref in (body["queue_job_id"], body["run_id"]):
        state = client.get(f"/jobs/{ref}", headers=AUTH).json()
        assert state["status"] == "queued" and state["queue_job_id"] == body["queue_job_id"]
    assert "sigilctl_runs_queued_total 1.0" in client.get("/metrics", headers=AUTH).text


def test_bad_requests_are_one_sentence_with_the_right_status(client: TestClient) -> None:
    assert "no job 'nope'" in error_of(
        client.post("/jobs/run", json={"job_id": "nope"}, headers=AUTH), 404
    )
    assert "job_id" in error_of(
        client.post("/jobs/run", json={"job_id": "../etc"}, headers=AUTH), 422
    )
    assert "not valid JSON" in error_of(
        client.post(
            "/jobs/run",
            content=b"{not json",
            headers={**AUTH, "content-type": "application/json"},
        ),
        400,
    )
    assert "'colour': extra inputs are not permitted" in error_of(
        client.post("/jobs/run", json={"job_id": "ig-test-001", "colour": 1}, headers=AUTH), 422
    )
    params = error_of(
        client.post(
            "/jobs/run", json={"job_id": "ig-test-001", "params": {"count": "many"}}, headers=AUTH
        ),
        422,
    )
    assert "count" in params and "with the given params" in params
    assert "no run, task or job" in error_of(client.get("/jobs/_brands", headers=AUTH), 404)
    assert "ffffff" in error_of(client.get("/jobs/ffffff", headers=AUTH), 404)
    assert "no such endpoint" in error_of(client.get("/nowhere", headers=AUTH), 404)
    assert "not allowed" in error_of(client.delete("/runs", headers=AUTH), 405)
    assert "--status" not in error_of(client.get("/runs?since=yesterday", headers=AUTH), 422)
    error_of(client.get("/runs?status=bogus", headers=AUTH), 422)
    error_of(client.get("/runs?limit=0", headers=AUTH), 422)


def test_bodies_are_bounded_announced_or_streamed(client: TestClient) -> None:
    big = b'{"job_id": "ig-test-001", "params": {"x": "' + b"a" * 70_000 + b'"}}'
    headers = {**AUTH, "content-type": "application/json"}
    assert "limit" in error_of(client.post("/jobs/run", content=big, headers=headers), 413)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(big), 8192):
            yield big[start : start + 8192]

    assert "limit" in error_of(client.post("/jobs/run", content=chunks(), headers=headers), 413)


def test_tokens_are_required_everywhere_but_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    for path in ("/readyz", "/metrics", "/runs", "/jobs/x", "/openapi.json", "/docs", "/nowhere"):
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": TOKEN}):
            answer = client.get(path, headers=headers)
            assert "bearer token" in error_of(answer, 401)
            assert answer.headers["www-authenticate"] == "Bearer"
    assert client.get("/openapi.json", headers=AUTH).status_code == 200
    assert token_matches(b"b" * 20, (b"a" * 20, b"b" * 20))
    assert not token_matches(b"b" * 19, (b"a" * 20, b"b" * 20))


def test_openapi_describes_every_endpoint_and_error(client: TestClient) -> None:
    schema = client.get("/openapi.json", headers=AUTH).json()
    assert set(schema["paths"]) == {
        "/healthz", "/readyz", "/jobs/run", "/jobs/{job_ref}", "/runs", "/metrics",
    }  # fmt: skip
    run = schema["paths"]["/jobs/run"]["post"]["responses"]
    assert {"200", "202", "400", "401", "404", "413", "422", "503"} <= set(run)


def test_a_cache_hit_answer_is_logged_for_stats(client: TestClient, workspace: Path) -> None:
    """POST answered 200 cached is a cache hit like one of `sigilctl run`: `stats` counts it."""
    from sigilctl.cache_log import read_cache_hits
    from sigilctl.runner import run_job

    ws = Workspace.locate(workspace)
    done = run_job("ig-test-001", ws)
    assert done.status == "succeeded"
    answer = client.post("/jobs/run", json={"job_id": "ig-test-001"}, headers=AUTH)
    assert answer.status_code == 200 and answer.json()["cached"] is True, answer.text
    [hit] = read_cache_hits(ws.artifacts)
    assert (hit.job_id, hit.run_id, hit.saved_usd) == ("ig-test-001", done.run_id, 0.0)
