"""Real service processes for the service tests: ``sigilctl serve`` (uvicorn) and
``sigilctl worker`` (Celery), each in its own session so a test can signal or kill it whole,
plus a private Redis namespace (its own database number and key prefix) removed afterwards.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.helpers import ENV_PREFIXES
from tests.services import REDIS_HOST, REDIS_PORT, require_redis, unique_name

TOKEN = "test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIXES)}
    env["NO_COLOR"] = "1"
    env.update(extra)
    return env


@dataclass
class Proc:
    """A sigilctl child process whose output goes to a log file."""

    popen: subprocess.Popen[bytes]
    log: Path
    url: str = ""

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def signal(self, signum: int) -> None:
        if self.popen.poll() is None:
            os.kill(self.popen.pid, signum)

    def kill_group(self) -> None:
        """SIGKILL the process and every child it started (a machine dying)."""
        with suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(10)

    def stop(self, timeout: float = 30) -> int:
        self.signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill_group()
            message = f"{self.log.name} did not stop on SIGTERM:\n{self.output()}"
            raise AssertionError(message) from None


def start(args: list[str], cwd: Path, env: dict[str, str], log: Path) -> Proc:
    handle = log.open("wb")
    popen = subprocess.Popen(
        [sys.executable, "-m", "sigilctl", *args],
        cwd=cwd,
        env=child_env(env),
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    handle.close()
    return Proc(popen, log)


def start_serve(cwd: Path, env: dict[str, str], *args: str, name: str = "serve") -> Proc:
    port = free_port()
    proc = start(["serve", "--port", str(port), *args], cwd, env, cwd / f"{name}.log")
    proc.url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise AssertionError(f"serve exited {proc.popen.returncode}:\n{proc.output()}")
        try:
            if httpx.get(f"{proc.url}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill_group()
    raise AssertionError(f"serve did not become healthy:\n{proc.output()}")


def start_worker(
    cwd: Path, env: dict[str, str], concurrency: int = 1, name: str = "worker"
) -> Proc:
    proc = start(["worker", "--concurrency", str(concurrency)], cwd, env, cwd / f"{name}.log")
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise AssertionError(f"worker exited {proc.popen.returncode}:\n{proc.output()}")
        if " ready." in proc.output():
            return proc
        time.sleep(0.1)
    proc.kill_group()
    raise AssertionError(f"worker did not become ready:\n{proc.output()}")


@dataclass
class RedisSpace:
    """One test's Redis: a database number and a key prefix nobody else uses."""

    db: int
    prefix: str
    procs: list[Proc] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"redis://{REDIS_HOST}:{REDIS_PORT}/{self.db}"

    def env(self, **extra: str) -> dict[str, str]:
        return {"SIGILCTL_BROKER_URL": self.url, "SIGILCTL_QUEUE_PREFIX": self.prefix, **extra}

    def client(self) -> Any:
        import redis

        return redis.Redis.from_url(self.url)

    def keys(self) -> list[str]:
        client = self.client()
        try:
            return sorted(k.decode() for k in client.scan_iter(match=f"{self.prefix}*"))
        finally:
            client.close()

    def cleanup(self) -> None:
        client = self.client()
        try:
            for key in client.scan_iter(match=f"{self.prefix}*"):
                client.delete(key)
        finally:
            client.close()


@contextmanager
def redis_space() -> Iterator[RedisSpace]:
    require_redis()
    space = RedisSpace(db=1 + os.getpid() % 15, prefix=unique_name("sigilctl_test") + ":")
    try:
        yield space
    finally:
        for proc in space.procs:
            if proc.popen.poll() is None:
                proc.kill_group()
        space.cleanup()


def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def job_state(url: str, ref: str) -> dict[str, Any]:
    answer = httpx.get(f"{url}/jobs/{ref}", headers=AUTH, timeout=10)
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document
