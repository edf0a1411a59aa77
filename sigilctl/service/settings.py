"""The service's settings, read from the environment once per process (docs/service.md)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from sigilctl import env
from sigilctl.errors import InputError

DEFAULT_PREFIX = "sigilctl:"
DEFAULT_VISIBILITY_TIMEOUT = 300.0
DEFAULT_LOCK_LEASE = 30.0
DEFAULT_SHUTDOWN_GRACE = 60.0
QUEUE_NAME = "runs"


def _seconds(name: str, default: float, *, minimum: float) -> float:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"{name}='{raw}' is not a number of seconds") from None
    if not value >= minimum:
        raise InputError(f"{name} must be at least {minimum:g} seconds, not {raw}")
    return value


def redact_url(url: str) -> str:
    """The URL without its password (what logs and errors may show)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


@dataclass(frozen=True)
class ServiceSettings:
    """What every service process agrees on: where the queue is and how leases behave."""

    broker_url: str | None
    tokens: tuple[str, ...]
    prefix: str = DEFAULT_PREFIX
    visibility_timeout: float = DEFAULT_VISIBILITY_TIMEOUT
    lock_lease: float = DEFAULT_LOCK_LEASE
    shutdown_grace: float = DEFAULT_SHUTDOWN_GRACE

    @classmethod
    def from_env(cls) -> ServiceSettings:
        broker = env.get(env.SIGILCTL_BROKER_URL)
        if broker is not None and urlsplit(broker).scheme not in ("redis", "rediss"):
            raise InputError(
                f"{env.SIGILCTL_BROKER_URL} must be a redis:// or rediss:// URL, "
                f"not '{redact_url(broker)}'"
            )
        raw_tokens = env.get(env.SIGILCTL_API_TOKENS) or ""
        tokens = tuple(t.strip() for t in raw_tokens.split(",") if t.strip())
        for token in tokens:
            if len(token) < 16 or not token.isascii() or not token.isprintable():
                raise InputError(
                    f"{env.SIGILCTL_API_TOKENS} holds a token that is shorter than 16 characters "
                    "or not printable ASCII; use long random tokens (e.g. openssl rand -hex 32)"
                )
        lease = _seconds(env.SIGILCTL_LOCK_LEASE, DEFAULT_LOCK_LEASE, minimum=3)
        visibility = _seconds(
            env.SIGILCTL_VISIBILITY_TIMEOUT, DEFAULT_VISIBILITY_TIMEOUT, minimum=5
        )
        return cls(
            broker_url=broker,
            tokens=tokens,
            prefix=env.get(env.SIGILCTL_QUEUE_PREFIX) or DEFAULT_PREFIX,
            visibility_timeout=visibility,
            lock_lease=lease,
            shutdown_grace=_seconds(env.SIGILCTL_SHUTDOWN_GRACE, DEFAULT_SHUTDOWN_GRACE, minimum=0),
        )

    @property
    def queue_kind(self) -> str:
        return "celery" if self.broker_url else "local"
