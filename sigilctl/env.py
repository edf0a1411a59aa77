"""Every environment variable sigilctl reads, in one place. Precedence: flag > env > default."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

SIGILCTL_ROOT = "SIGILCTL_ROOT"
SIGILCTL_ARTIFACTS = "SIGILCTL_ARTIFACTS"
SIGILCTL_INDEX = "SIGILCTL_INDEX"
SIGILCTL_TRACE_SAMPLE_RATE = "SIGILCTL_TRACE_SAMPLE_RATE"
SIGILCTL_TRACE_FLUSH_TIMEOUT = "SIGILCTL_TRACE_FLUSH_TIMEOUT"
SIGILCTL_TRACE_SPOOL = "SIGILCTL_TRACE_SPOOL"
SIGILCTL_TRACE_SPOOL_MAX_MB = "SIGILCTL_TRACE_SPOOL_MAX_MB"
SIGILCTL_OPENAI_TIMEOUT = "SIGILCTL_OPENAI_TIMEOUT"
SIGILCTL_OPENAI_MAX_RETRIES = "SIGILCTL_OPENAI_MAX_RETRIES"
SIGILCTL_BROKER_URL = "SIGILCTL_BROKER_URL"
NO_COLOR = "NO_COLOR"
PGPASSWORD = "PGPASSWORD"

# Service mode (docs/service.md).
SIGILCTL_API_TOKENS = "SIGILCTL_API_TOKENS"
SIGILCTL_QUEUE_PREFIX = "SIGILCTL_QUEUE_PREFIX"
SIGILCTL_VISIBILITY_TIMEOUT = "SIGILCTL_VISIBILITY_TIMEOUT"
SIGILCTL_LOCK_LEASE = "SIGILCTL_LOCK_LEASE"
SIGILCTL_SHUTDOWN_GRACE = "SIGILCTL_SHUTDOWN_GRACE"
SIGILCTL_TRACE_SPOOL = "SIGILCTL_TRACE_SPOOL"  # SPEC §9: where unsent traces wait

OPENAI_API_KEY = "OPENAI_API_KEY"
OPENAI_BASE_URL = "OPENAI_BASE_URL"

LANGFUSE_PUBLIC_KEY = "LANGFUSE_PUBLIC_KEY"
LANGFUSE_SECRET_KEY = "LANGFUSE_SECRET_KEY"  # noqa: S105 - a variable name
LANGFUSE_BASE_URL = "LANGFUSE_BASE_URL"
LANGFUSE_HOST = "LANGFUSE_HOST"
LANGFUSE_TRACING_ENABLED = "LANGFUSE_TRACING_ENABLED"
LANGFUSE_TRACING_ENVIRONMENT = "LANGFUSE_TRACING_ENVIRONMENT"
LANGFUSE_RELEASE = "LANGFUSE_RELEASE"

# Values that must never reach artifacts/, the index or any output.
SECRET_VARIABLES = (OPENAI_API_KEY, LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY, PGPASSWORD)
# Lists of secrets: every comma-separated item is a secret of its own.
SECRET_LISTS = (SIGILCTL_API_TOKENS,)
# Every variable that names an endpoint: credentials written into one (user:password@, a
# query value such as ?token=) are secrets too. A new endpoint variable is added here.
ENDPOINT_VARIABLES = (
    OPENAI_BASE_URL,
    LANGFUSE_BASE_URL,
    LANGFUSE_HOST,
    SIGILCTL_INDEX,
    SIGILCTL_BROKER_URL,
)
# A secret shorter than this is not replaced by value (it would mangle ordinary text); URL
# credentials are still masked by their position (user:password@).
MIN_SECRET_LENGTH = 8
_USERINFO = re.compile(r"(?<=://)[^/\s@]+@")
_flag_endpoints: set[str] = set()


def get(name: str) -> str | None:
    """Return a non-empty environment value, or None."""
    value = os.environ.get(name)
    return value if value else None


def path_setting(flag: Path | None, variable: str, default: Path) -> Path:
    """Resolve a path setting with the house precedence: flag > environment > default."""
    if flag is not None:
        return flag
    from_env = get(variable)
    return Path(from_env) if from_env else default


_remembered: set[str] = set()


def remember_secret(value: str) -> None:
    """Scrub ``value`` from now on too: a secret that came from a flag, not the environment
    (e.g. the password of a ``--db postgresql://`` URL)."""
    if len(value) >= 4:
        _remembered.add(value)


def register_endpoint(url: str) -> None:
    """An endpoint given as a flag (``--db postgresql://…``): its credentials are secrets too."""
    for value in _url_credentials(url):
        remember_secret(value)


def secret_values() -> list[str]:
    """The secret values present in this process (to scrub from any text), longest first:
    the keys, Langfuse's Basic auth token, credentials written into an endpoint URL, and the
    secrets remembered from flags."""
    values = [v for name in SECRET_VARIABLES if (v := get(name)) and len(v) >= 4]
    for name in SECRET_LISTS:
        tokens = (item.strip() for item in (get(name) or "").split(","))
        values.extend(token for token in tokens if len(token) >= 4)
    public, secret = get(LANGFUSE_PUBLIC_KEY), get(LANGFUSE_SECRET_KEY)
    if public and secret:
        values.append(basic_token(public, secret))
    for name in ENDPOINT_VARIABLES:
        values.extend(_url_credentials(get(name)))
    values.extend(_remembered)
    return sorted(set(values), key=len, reverse=True)


def basic_token(user: str, password: str) -> str:
    """What ``Authorization: Basic`` carries for these credentials (servers may echo it)."""
    return base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _url_credentials(url: str | None) -> list[str]:
    if not url:
        return []
    from urllib.parse import parse_qsl, unquote, urlsplit

    try:
        parts = urlsplit(url)
        user, password = parts.username, parts.password
        queries = [v for _, v in parse_qsl(parts.query)]
    except ValueError:
        return []
    found = [*queries, *(unquote(v) for v in queries)]
    if password:
        found += [password, unquote(password)]
        found.append(basic_token(unquote(user or ""), unquote(password)))
    elif user:  # a token written as the user name: https://TOKEN@host
        found += [user, unquote(user)]
    return [v for v in found if len(v) >= MIN_SECRET_LENGTH]


def scrub(text: str) -> str:
    """Replace every secret value present in the process by a marker, and mask the user
    information of any URL in ``text`` (``scheme://***@host``), known or not."""
    for value in secret_values():
        text = text.replace(value, "***")
    if "://" in text and "@" in text:
        text = _USERINFO.sub("***@", text)
    return text
