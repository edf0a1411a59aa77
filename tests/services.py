"""Real local services for the tests that need them (PostgreSQL, Redis).

A test asks for a service through these helpers; where the service is unreachable the test is
skipped with one line saying so, except under ``CI=true``, where a missing service is a failure
(CI machines run them, so a skip there would hide a broken setup). Every test gets its own
database or Redis database number and key prefix, and cleans up after itself.
"""

from __future__ import annotations

import os
import socket
import uuid

import pytest

POSTGRES_HOST = os.environ.get("SIGILCTL_TEST_PGHOST", "127.0.0.1")
POSTGRES_PORT = int(os.environ.get("SIGILCTL_TEST_PGPORT", "5432"))
REDIS_HOST = os.environ.get("SIGILCTL_TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("SIGILCTL_TEST_REDIS_PORT", "6379"))


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def reachable(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require(name: str, host: str, port: int) -> None:
    """Skip (or fail under CI=true) when ``name`` does not answer at host:port."""
    if reachable(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}"
    if in_ci():
        pytest.fail(f"{message} (CI=true: a missing service is a failure, not a skip)")
    pytest.skip(message)


def require_postgres() -> None:
    require("PostgreSQL", POSTGRES_HOST, POSTGRES_PORT)


def require_redis() -> None:
    require("Redis", REDIS_HOST, REDIS_PORT)


def unique_name(prefix: str) -> str:
    """A name no other test run uses (databases, key prefixes, queues)."""
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
