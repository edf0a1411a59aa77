"""Links to traces, built without importing or calling the SDK (``show`` must stay light)."""

from __future__ import annotations

from sigilctl import env

DEFAULT_HOST = "https://cloud.langfuse.com"


def langfuse_host() -> str:
    """The host the SDK would use: LANGFUSE_BASE_URL wins over LANGFUSE_HOST."""
    host = env.get(env.LANGFUSE_BASE_URL) or env.get(env.LANGFUSE_HOST) or DEFAULT_HOST
    return host.rstrip("/")


def trace_url(trace_id: str) -> str:
    return f"{langfuse_host()}/trace/{trace_id}"
