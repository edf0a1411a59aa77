"""Service mode with no other service: ``sigilctl serve --no-auth`` and its own workers.

The embedded queue is a SQLite file beside the artifacts: a POST is answered and run with no
Redis at all, and a SIGTERM lets the running task finish while queued tasks wait, whole, for
the next ``serve``.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from sigilctl.verify import verify_run
from tests.openai_server import Reply, captions, completion, serve
from tests.servers import job_state, start_serve, wait_for

pytestmark = pytest.mark.slow


def ended(url: str, task: str) -> dict[str, object]:
    return wait_for(
        lambda: (s := job_state(url, task))["status"] in ("succeeded", "failed") and s,
        60,
        f"task {task} to end",
    )


def test_serve_alone_queues_runs_and_answers_cached(workspace: Path) -> None:
    api = start_serve(workspace, {"SIGILCTL_ROOT": str(workspace)}, "--no-auth")
    try:
        first = httpx.post(f"{api.url}/jobs/run", json={"job_id": "ig-test-001"}, timeout=30)
        assert first.status_code == 202, first.text
        done = ended(api.url, first.json()["queue_job_id"])
        assert done["status"] == "succeeded" and done["run_id"] == first.json()["run_id"]
        assert verify_run(Path(str(done["run_dir"]))).ok
        again = httpx.post(f"{api.url}/jobs/run", json={"job_id": "ig-test-001"}, timeout=30)
        assert again.status_code == 200 and again.json()["cached"] is True, again.text
        waited = httpx.post(
            f"{api.url}/jobs/run",
            json={"job_id": "ig-test-001", "params": {"count": 2}, "wait": True},
            timeout=60,
        )
        assert waited.status_code == 200, waited.text
        assert waited.json()["status"] == "succeeded" and waited.json()["cached"] is False
        assert job_state(api.url, "ig-test-001")["run_id"] in {
            first.json()["run_id"],
            waited.json()["run_id"],
        }
        ready = httpx.get(f"{api.url}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
    finally:
        assert api.stop() == 0, api.output()


def test_sigterm_finishes_the_running_task_and_keeps_the_queued_one(workspace: Path) -> None:
    with serve() as model:
        model.default = Reply(body=completion(captions(4)), delay=3)
        env = {
            "SIGILCTL_ROOT": str(workspace),
            "OPENAI_BASE_URL": model.url,
            "OPENAI_API_KEY": "sk-test-embedded-0000",
        }
        api = start_serve(workspace, env, "--no-auth", "--workers", "1")
        running = httpx.post(
            f"{api.url}/jobs/run", json={"job_id": "ig-launch-openai"}, timeout=30
        ).json()
        waiting = httpx.post(
            f"{api.url}/jobs/run", json={"job_id": "ig-test-001"}, timeout=30
        ).json()
        assert model.arrived.wait(30)
        assert job_state(api.url, waiting["queue_job_id"])["status"] == "queued"
        assert api.stop(timeout=60) == 0, api.output()

        run_dir = workspace / "artifacts" / "ig-launch-openai" / running["run_id"]
        assert verify_run(run_dir).ok  # the in-flight run finished and was published whole
        assert not (workspace / "artifacts" / "ig-test-001").exists()  # not started

        again = start_serve(workspace, env, "--no-auth", "--workers", "1", name="serve-2")
        try:
            assert job_state(again.url, running["queue_job_id"])["status"] == "succeeded"
            assert ended(again.url, waiting["queue_job_id"])["status"] == "succeeded"
        finally:
            assert again.stop() == 0, again.output()
        assert len(model.requests) == 1
