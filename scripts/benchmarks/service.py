"""Service mode throughput, each against a baseline measured in the same run.

- cache-hit ``POST /jobs/run`` (identity derived, run verified, 200 answered) against a trivial
  endpoint of the same server (``GET /healthz``): requests per second, 8 connections, keep-alive;
- offline runs through Celery with 2 workers (enqueue → executed → recorded) against the same
  runs executed in-process in a loop by ``run_job``.
Needs Redis at 127.0.0.1:6379 for the second row (skipped with a note otherwise).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks import Row

REPO = Path(__file__).resolve().parents[2]
JOB = "ig-test-001"
CONNECTIONS = 8


def _env(extra: dict[str, str]) -> dict[str, str]:
    prefixes = ("SIGILCTL_", "LANGFUSE_", "OPENAI_", "OTEL_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(extra)
    return env


def _workspace(tmp: Path, jobs: int = 0) -> Path:
    root = tmp / "ws"
    shutil.copytree(REPO / "jobs", root / "jobs")
    (root / "artifacts").mkdir()
    source = (root / "jobs" / JOB / "brief.yaml").read_text()
    for number in range(jobs):
        name = f"bench-{number:03d}"
        (root / "jobs" / name).mkdir()
        text = source.replace(f"job_id: {JOB}", f"job_id: {name}")
        (root / "jobs" / name / "brief.yaml").write_text(text)
    return root


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(root: Path, args: list[str], env: dict[str, str], ready: str) -> subprocess.Popen[bytes]:
    log = (root / f"{args[0]}-{uuid.uuid4().hex[:6]}.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sigilctl", *args],
        cwd=root,
        env=_env(env),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if ready in Path(log.name).read_text(errors="replace"):
            return proc
        if proc.poll() is not None:
            raise SystemExit(Path(log.name).read_text())
        time.sleep(0.1)
    raise SystemExit(f"{args[0]} did not start")


async def _load(url: str, method: str, body: dict[str, object] | None, count: int) -> float:
    import httpx

    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        done = 0

        async def worker() -> None:
            nonlocal done
            while done < count:
                done += 1
                answer = await client.request(method, url, json=body)
                if answer.status_code != 200:
                    raise SystemExit(f"{method} {url} answered {answer.status_code}")

        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))  # warm the connections
        done = 0
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
        return (time.perf_counter() - started) / count


def _cache_hit_row(tmp: Path, count: int) -> Row:
    root = _workspace(tmp / "api")
    env = {"SIGILCTL_ROOT": str(root)}
    subprocess.run([sys.executable, "-m", "sigilctl", "run", JOB], cwd=root, env=_env(env),
                   check=True, capture_output=True)  # fmt: skip
    port = _port()
    server = _start(root, ["serve", "--no-auth", "--port", str(port), "--workers", "1"], env,
                    "Application startup complete")  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        trivial, cached = [], []
        for _ in range(3):
            trivial.append(asyncio.run(_load(f"{base}/healthz", "GET", None, count)))
            cached.append(asyncio.run(_load(f"{base}/jobs/run", "POST", {"job_id": JOB}, count)))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    ours, baseline = min(cached), min(trivial)
    return Row(
        "POST /jobs/run, cache hit (per request)",
        ours,
        "GET /healthz, same server",
        baseline,
        goal="≤ 2.0, i.e. ≥ 0.5× the requests/s",
        extra=f"{1 / ours:.0f} vs {1 / baseline:.0f} requests/s",
    )


def _celery_row(tmp: Path, runs: int) -> Row | None:
    from sigilctl.runner import run_job
    from sigilctl.workspace import Workspace

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        print("  (Redis not reachable at 127.0.0.1:6379: Celery row skipped)")
        return None
    names = [f"bench-{n:03d}" for n in range(runs)]
    local = _workspace(tmp / "local", runs)
    workspace = Workspace.locate(local, None)
    started = time.perf_counter()
    for name in names:
        run_job(name, workspace)
    baseline = (time.perf_counter() - started) / runs

    root = _workspace(tmp / "celery", runs)
    prefix = f"sigilctl_bench_{uuid.uuid4().hex[:8]}:"
    env = {
        "SIGILCTL_ROOT": str(root),
        "SIGILCTL_BROKER_URL": "redis://127.0.0.1:6379/15",
        "SIGILCTL_QUEUE_PREFIX": prefix,
    }
    workers = [_start(root, ["worker", "--concurrency", "1"], env, " ready.") for _ in range(2)]
    saved = dict(os.environ)
    os.environ.update(_env(env))
    try:
        ours = _through_celery(root, names)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
            worker.wait(30)
        _drop_keys(prefix)
        if os.environ.get("SIGILCTL_BENCH_KEEP"):
            shutil.copytree(root, os.environ["SIGILCTL_BENCH_KEEP"], dirs_exist_ok=True)
    return Row(
        f"{runs} offline runs via Celery, 2 workers (per run)",
        ours,
        "same runs, run_job in a loop",
        baseline,
        goal="≤ 1.43, i.e. ≥ 0.7× the runs/s",
        extra=f"{1 / ours:.1f} vs {1 / baseline:.1f} runs/s",
    )


def _through_celery(root: Path, names: list[str]) -> float:
    from sigilctl.manifest import utc_now
    from sigilctl.service.execution import derive
    from sigilctl.service.queue import open_queue
    from sigilctl.service.settings import ServiceSettings
    from sigilctl.service.tasks import TaskRecord, new_task_id
    from sigilctl.workspace import Workspace

    workspace = Workspace.locate(root, None)
    queue = open_queue(ServiceSettings.from_env(), workspace, 0)
    started = time.perf_counter()
    ids = []
    for name in names:
        promise = derive(workspace, name, None)
        record = TaskRecord(
            queue_job_id=new_task_id(),
            job_id=name,
            run_id=promise.run_id,
            inputs_hash=promise.inputs_hash,
            enqueued_at=utc_now(),
        )
        queue.enqueue(record)
        ids.append(record.queue_job_id)
    for task in ids:  # they end roughly in order: one look at a time keeps the CPU free
        while not ((r := queue.store.get(task)) and r.final):
            time.sleep(0.005)
    elapsed = time.perf_counter() - started
    failed = [i for i in ids if (r := queue.store.get(i)) and r.status != "succeeded"]
    queue.stop(0)
    if failed:
        raise SystemExit(f"{len(failed)} queued runs did not succeed")
    return elapsed / len(names)


def _drop_keys(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    client.close()


def run(quick: bool) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="sigilctl-bench-") as tmp:
        rows = [_cache_hit_row(Path(tmp), 300 if quick else 2000)]
        celery = _celery_row(Path(tmp), 20 if quick else 60)
        if celery is not None:
            rows.append(celery)
    return rows
