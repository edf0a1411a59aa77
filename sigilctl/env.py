"""Every environment variable sigilctl reads, in one place. Precedence: flag > env > default."""

from __future__ import annotations

import os
from pathlib import Path

SIGILCTL_ROOT = "SIGILCTL_ROOT"
SIGILCTL_ARTIFACTS = "SIGILCTL_ARTIFACTS"
SIGILCTL_INDEX = "SIGILCTL_INDEX"
SIGILCTL_TRACE_SAMPLE_RATE = "SIGILCTL_TRACE_SAMPLE_RATE"
SIGILCTL_TRACE_FLUSH_TIMEOUT = "SIGILCTL_TRACE_FLUSH_TIMEOUT"
SIGILCTL_OPENAI_TIMEOUT = "SIGILCTL_OPENAI_TIMEOUT"
SIGILCTL_OPENAI_MAX_RETRIES = "SIGILCTL_OPENAI_MAX_RETRIES"
NO_COLOR = "NO_COLOR"

OPENAI_API_KEY = "OPENAI_API_KEY"
OPENAI_BASE_URL = "OPENAI_BASE_URL"

LANGFUSE_PUBLIC_KEY = "LANGFUSE_PUBLIC_KEY"
LANGFUSE_SECRET_KEY = "LANGFUSE_SECRET_KEY"  # noqa: S105 - a variable name
LANGFUSE_BASE_URL = "LANGFUSE_BASE_URL"
LANGFUSE_HOST = "LANGFUSE_HOST"
LANGFUSE_TRACING_ENABLED = "LANGFUSE_TRACING_ENABLED"

# Values that must never reach artifacts/, the index or any output.
SECRET_VARIABLES = (OPENAI_API_KEY, LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY)


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


def secret_values() -> list[str]:
    """The secret values present in this process's environment (to scrub from any text):
    the keys, a password or query value written into an endpoint URL, and remembered ones."""
    values = [v for name in SECRET_VARIABLES if (v := get(name)) and len(v) >= 4]
    values.extend(sorted(_remembered, key=len, reverse=True))
    for name in (OPENAI_BASE_URL, LANGFUSE_BASE_URL, LANGFUSE_HOST, SIGILCTL_INDEX):
        values.extend(_url_credentials(get(name)))
    return values


def _url_credentials(url: str | None) -> list[str]:
    if not url:
        return []
    from urllib.parse import parse_qsl, urlsplit

    try:
        parts = urlsplit(url)
        found = [parts.password or ""] + [v for _, v in parse_qsl(parts.query)]
    except ValueError:
        return []
    return [v for v in found if len(v) >= 8]


def scrub(text: str) -> str:
    """Replace any secret value present in the environment by a marker."""
    for value in secret_values():
        text = text.replace(value, "***")
    return text
