"""Service mode with the real queue: uvicorn ``serve``, Celery ``worker`` processes, Redis.

What SPEC §10 promises, end to end: identity before the answer (202 queued / 200 cached), task
states queued → running → final, ``submit --wait``, one model call however many requests and
workers race for one run_id, every run indexed, a killed worker's task re-delivered and
finished with one publish, and a SIGTERM that lets a running task finish.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from sigilctl.verify import verify_run
from tests.helpers import run_subprocess
from tests.openai_server import FakeOpenAI, Reply, captions, completion, serve
from tests.servers import (
    AUTH,
    TOKEN,
    RedisSpace,
    job_state,
    redis_space,
    start_serve,
    start_worker,
    wait_for,
)

pytestmark = pytest.mark.slow
OPENAI_JOB = "ig-launch-openai"


@dataclass
class Stack:
    root: Path
    redis: RedisSpace
    model: FakeOpenAI

    def env(self, **extra: str) -> dict[str, str]:
        return self.redis.env(
            SIGILCTL_ROOT=str(self.root),
            SIGILCTL_API_TOKENS=TOKEN,
            OPENAI_BASE_URL=self.model.url,
            OPENAI_API_KEY="sk-test-service-0000",
            SIGILCTL_OPENAI_TIMEOUT="120",
            **extra,
        )

    def worker(self, name: str = "worker", concurrency: int = 1, **extra: str) -> Any:
        proc = start_worker(self.root, self.env(**extra), concurrency, name=name)
        self.redis.procs.append(proc)
        return proc

    def server(self, **extra: str) -> Any:
        proc = start_serve(self.root, self.env(**extra))
        self.redis.procs.append(proc)
        return proc

    def entries(self, job: str) -> list[Path]:
        folder = self.root / "artifacts" / job
        return sorted(folder.iterdir()) if folder.is_dir() else []

    def run_dirs(self, job: str) -> list[Path]:
        return [p for p in self.entries(job) if not p.name.startswith(".")]

    def leftovers(self, job: str) -> list[str]:
        """Build or trash folders (a half run would be one); ``.locks`` is expected."""
        return [p.name for p in self.entries(job) if p.name.startswith(".") and p.name != ".locks"]


@pytest.fixture
def stack(workspace: Path) -> Iterator[Stack]:
    with redis_space() as space, serve() as model:
        yield Stack(workspace, space, model)


def post(url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(f"{url}/jobs/run", json=body, headers=headers or AUTH, timeout=120)


def final_state(url: str, ref: str, timeout: float = 60) -> dict[str, Any]:
    return wait_for(
        lambda: (s := job_state(url, ref))["status"] in ("succeeded", "failed", "partial") and s,
        timeout,
        f"task {ref} to end",
    )


def add_jobs(root: Path, count: int, template: str = "ig-test-001") -> list[str]:
    names = []
    source = (root / "jobs" / template / "brief.yaml").read_text()
    for number in range(count):
        name = f"batch-{number:02d}"
        folder = root / "jobs" / name
        folder.mkdir()
        (folder / "brief.yaml").write_text(source.replace(f"job_id: {template}", f"job_id: {name}"))
        names.append(name)
    return names


def test_post_queues_states_move_then_cached_and_submit_waits(stack: Stack) -> None:
    stack.model.default = Reply(body=completion(captions(4)), delay=1.5)
    stack.worker()
    api = stack.server()

    first = post(api.url, {"job_id": OPENAI_JOB})
    assert first.status_code == 202, first.text
    promised = first.json()
    assert promised["status"] == "queued" and promised["cached"] is False
    assert len(promised["run_id"]) == 32 and len(promised["inputs_hash"]) == 64

    # The single worker is busy with the first run: the second waits in the queue.
    second = post(api.url, {"job_id": OPENAI_JOB, "params": {"topic": "a second topic"}})
    assert second.status_code == 202, second.text
    task = second.json()["queue_job_id"]
    seen = [job_state(api.url, task)["status"]]
    while seen[-1] not in ("succeeded", "failed"):
        status = job_state(api.url, task)["status"]
        if status != seen[-1]:
            seen.append(status)
    assert seen == ["queued", "running", "succeeded"], seen

    ended = job_state(api.url, task)
    assert ended["queue_job_id"] == task and ended["run_id"] == second.json()["run_id"]
    assert ended["schema_version"] and ended["input_snapshots"] and ended["run_dir"]
    by_run = job_state(api.url, ended["run_id"])
    assert by_run["run_dir"] == ended["run_dir"]
    assert job_state(api.url, ended["run_id"][:8])["run_id"] == ended["run_id"]
    brief = json.loads((Path(ended["run_dir"]) / "inputs/brief.resolved.json").read_text())
    assert brief["params"] == {"topic": "a second topic", "count": 4}  # merged key by key

    final_state(api.url, promised["queue_job_id"])
    again = post(api.url, {"job_id": OPENAI_JOB})
    assert again.status_code == 200, again.text
    assert again.json() == {**promised, "status": "succeeded", "cached": True, "queue_job_id": None}

    submitted = run_subprocess(
        "submit", OPENAI_JOB, "--param", "topic=from the command line", "--wait", "--json",
        cwd=stack.root, env=stack.env(), timeout=90,
    )  # fmt: skip
    assert submitted.code == 0, submitted.stderr
    result = json.loads(submitted.stdout)
    assert result["status"] == "succeeded" and result["cached"] is False
    assert job_state(api.url, result["queue_job_id"])["run_id"] == result["run_id"]
    assert len(stack.model.requests) == 3
    for run_dir in stack.run_dirs(OPENAI_JOB):
        assert verify_run(run_dir).ok

    # Every endpoint but /healthz wants the token; the token never reaches the log.
    for method, path in [("GET", "/readyz"), ("GET", "/metrics"), ("GET", "/runs"),
                         ("GET", f"/jobs/{task}"), ("POST", "/jobs/run"),
                         ("GET", "/openapi.json"), ("GET", "/nowhere")]:  # fmt: skip
        for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}):
            answer = httpx.request(method, api.url + path, headers=headers, json={}, timeout=10)
            assert answer.status_code == 401, (method, path, answer.text)
            assert set(answer.json()) == {"error"}
    assert httpx.get(f"{api.url}/healthz", timeout=10).json() == {"status": "ok"}
    ready = httpx.get(f"{api.url}/readyz", headers=AUTH, timeout=10)
    assert ready.status_code == 200 and ready.json()["checks"]["broker"] == "ok", ready.text
    assert api.stop() == 0
    assert TOKEN not in api.output()


def test_sixteen_posts_two_workers_and_a_cli_run_make_one_model_call(stack: Stack) -> None:
    stack.model.default = Reply(body=completion(captions(4)), delay=1.0)
    stack.worker("worker-a")
    stack.worker("worker-b")
    api = stack.server()
    cli_run: dict[str, Any] = {}

    def run_from_cli() -> None:
        cli_run["result"] = run_subprocess("run", OPENAI_JOB, "--json", cwd=stack.root,
                                           env=stack.env(), timeout=90)  # fmt: skip

    threads = [threading.Thread(target=run_from_cli)]
    answers: list[httpx.Response] = []
    threads += [
        threading.Thread(target=lambda: answers.append(post(api.url, {"job_id": OPENAI_JOB})))
        for _ in range(16)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(answers) == 16
    assert {a.status_code for a in answers} <= {200, 202}, [a.text for a in answers]
    assert len({a.json()["run_id"] for a in answers}) == 1
    tasks = [a.json()["queue_job_id"] for a in answers if a.status_code == 202]
    ended = [final_state(api.url, task) for task in tasks]
    assert {e["status"] for e in ended} == {"succeeded"}
    assert cli_run["result"].code == 0, cli_run["result"].stderr
    assert len(stack.model.requests) == 1
    assert [p.name for p in stack.run_dirs(OPENAI_JOB)] == [answers[0].json()["run_id"]]
    assert stack.leftovers(OPENAI_JOB) == []

    names = add_jobs(stack.root, 16)
    queued = [post(api.url, {"job_id": name}) for name in names]
    assert {q.status_code for q in queued} == {202}
    for answer in queued:
        assert final_state(api.url, answer.json()["queue_job_id"])["status"] == "succeeded"
    listed = httpx.get(f"{api.url}/runs", params={"limit": 100}, headers=AUTH, timeout=10)
    assert listed.status_code == 200, listed.text
    indexed = {(r["job_id"], r["run_id"]) for r in listed.json()["runs"]}
    assert {(q.json()["job_id"], q.json()["run_id"]) for q in queued} <= indexed
    assert len(indexed) == 17
    metrics = httpx.get(f"{api.url}/metrics", headers=AUTH, timeout=10).text
    assert 'sigilctl_runs{status="succeeded"} 17.0' in metrics
    assert "sigilctl_queue_depth 0.0" in metrics


@pytest.mark.parametrize("victim", ["machine", "pool-process"])
def test_a_killed_worker_task_is_redelivered_and_published_once(stack: Stack, victim: str) -> None:
    """``machine``: the worker and its pool die (the message comes back after the visibility
    timeout); ``pool-process``: only the process running the task dies (the worker re-queues
    it at once, task_reject_on_worker_lost)."""
    lease = {"SIGILCTL_VISIBILITY_TIMEOUT": "6", "SIGILCTL_LOCK_LEASE": "4"}
    stack.model.push(Reply(body=completion(captions(4)), delay=60))  # the first call hangs
    workers = [stack.worker("worker-a", **lease), stack.worker("worker-b", **lease)]
    api = stack.server(**lease)
    task = post(api.url, {"job_id": OPENAI_JOB}).json()["queue_job_id"]
    assert stack.model.arrived.wait(30), "the model was never called"
    running = job_state(api.url, task)
    assert running["status"] == "running"
    pid = int(running["worker"].rsplit(":", 1)[1])  # the pool process running the task
    holder = next(w for w in workers if os.getpgid(pid) == w.popen.pid)
    if victim == "machine":
        holder.kill_group()  # main process and pool alike
    else:
        os.kill(pid, signal.SIGKILL)

    ended = final_state(api.url, task, timeout=90)
    assert ended["status"] == "succeeded", ended
    assert ended["queue_job_id"] == task
    assert len(stack.model.requests) == 2  # the dead worker's call, then the re-delivery
    assert [p.name for p in stack.run_dirs(OPENAI_JOB)] == [ended["run_id"]]  # one publish
    assert stack.leftovers(OPENAI_JOB) == []  # the dead worker's build folder was cleaned
    checked = run_subprocess("verify", "--all", "--json", cwd=stack.root, env=stack.env())
    assert checked.code == 0, checked.stdout + checked.stderr


def test_sigterm_lets_a_worker_finish_its_running_task(stack: Stack) -> None:
    stack.model.default = Reply(body=completion(captions(4)), delay=3)
    worker = stack.worker()
    api = stack.server()
    task = post(api.url, {"job_id": OPENAI_JOB}).json()["queue_job_id"]
    assert stack.model.arrived.wait(30)
    worker.signal(signal.SIGTERM)
    assert worker.popen.wait(60) == 0, worker.output()
    ended = job_state(api.url, task)
    assert ended["status"] == "succeeded", ended
    assert verify_run(Path(ended["run_dir"])).ok
    assert "Warm shutdown" in worker.output()


def test_a_job_changed_after_queueing_fails_clearly_and_publishes_nothing(stack: Stack) -> None:
    api = stack.server()  # no worker yet: the task waits in the queue
    answer = post(api.url, {"job_id": "ig-test-001"})
    assert answer.status_code == 202, answer.text
    brief = stack.root / "jobs/ig-test-001/brief.yaml"
    brief.write_text(brief.read_text().replace("count: 3", "count: 2"))
    stack.worker()
    ended = final_state(api.url, answer.json()["queue_job_id"])
    assert ended["status"] == "failed"
    assert answer.json()["run_id"] in ended["error"] and "changed" in ended["error"]
    assert stack.run_dirs("ig-test-001") == []


def test_submit_without_a_broker_and_serve_flags_are_refused(workspace: Path) -> None:
    shutil.rmtree(workspace / "artifacts")
    refused = run_subprocess("submit", "ig-test-001", cwd=workspace)
    assert refused.code == 2 and "SIGILCTL_BROKER_URL" in refused.stderr
    open_host = run_subprocess("serve", "--no-auth", "--host", "0.0.0.0", cwd=workspace)
    assert open_host.code == 2, open_host.stderr
    assert "--no-auth is refused" in open_host.stderr and "Traceback" not in open_host.stderr
    no_tokens = run_subprocess("serve", cwd=workspace)
    assert no_tokens.code == 2 and "SIGILCTL_API_TOKENS" in no_tokens.stderr
    no_broker = run_subprocess("worker", cwd=workspace)
    assert no_broker.code == 2 and "SIGILCTL_BROKER_URL" in no_broker.stderr
