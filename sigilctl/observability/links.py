"""Where traces go and how to link to one, without importing or calling anything heavy.

The host is the Langfuse base URL *without credentials*: a user/password, query or fragment in
``LANGFUSE_BASE_URL`` never reaches a manifest, a link, a log line or the wire (Langfuse
authenticates with the project keys, and a URL password would replace them as Basic auth).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from sigilctl import env

DEFAULT_HOST = "https://cloud.langfuse.com"


def clean_base_url(url: str) -> str:
    """``scheme://host[:port][/path]`` of ``url``: userinfo, query and fragment dropped."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "(invalid URL)"
    if ":" in host:  # an IPv6 literal goes back in brackets
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def langfuse_host() -> str:
    """The configured Langfuse base URL (LANGFUSE_BASE_URL wins over LANGFUSE_HOST), clean."""
    raw = env.get(env.LANGFUSE_BASE_URL) or env.get(env.LANGFUSE_HOST) or DEFAULT_HOST
    return clean_base_url(raw)


def trace_url(host: str, trace_id: str) -> str:
    """The Langfuse page of a trace on ``host`` (as recorded in the run's manifest)."""
    return f"{clean_base_url(host)}/trace/{trace_id}"
