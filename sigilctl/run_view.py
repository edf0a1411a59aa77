"""What ``show`` presents about a run: its manifest as written, plus a preview of its outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from sigilctl.errors import InputError
from sigilctl.manifest import MANIFEST_NAME, Manifest, read_manifest

PREVIEW_ITEMS = 3
PREVIEW_CHARS = 280


@dataclass
class RunView:
    run_dir: Path
    manifest: Manifest
    raw: dict[str, Any]
    trace_url: str | None
    preview: list[str] = field(default_factory=list)
    # True while the run's trace waits in the spool (not yet accepted by Langfuse).
    trace_spooled: bool = False

    def as_json(self) -> dict[str, Any]:
        """The manifest's own fields at the top level, plus run_dir, the trace link and state,
        and a preview."""
        return {
            **self.raw,
            "run_dir": str(self.run_dir),
            "trace_url": self.trace_url,
            "trace_spooled": self.trace_spooled,
            "preview": self.preview,
        }


def load_run_view(run_dir: Path, spool_dir: Path | None = None) -> RunView:
    """The run as its manifest records it; ``spool_dir`` is where undelivered traces wait.

    The trace link is built from the manifest's ``langfuse_host`` (where the trace was sent),
    never from the reader's environment: a manifest without it gets no link.
    """
    from sigilctl.observability.links import trace_url
    from sigilctl.observability.spool import TraceSpool

    manifest = read_manifest(run_dir)
    try:
        raw = orjson.loads((run_dir / MANIFEST_NAME).read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:  # pragma: no cover - read_manifest ran
        raise InputError(f"{run_dir / MANIFEST_NAME} cannot be read: {exc}") from None
    trace_id, host = manifest.langfuse_trace_id, manifest.langfuse_host
    url = trace_url(host, trace_id) if trace_id and host else None
    spooled = bool(trace_id and spool_dir and TraceSpool(spool_dir).find(trace_id))
    return RunView(run_dir, manifest, raw, url, _preview(run_dir, manifest), spooled)


def _preview(run_dir: Path, manifest: Manifest) -> list[str]:
    """The first captions (or first lines of the first output), shortened for a terminal."""
    for artifact in manifest.artifacts:
        path = run_dir / artifact.path
        try:
            data = path.read_bytes()
        except OSError:
            continue
        try:
            document = orjson.loads(data)
        except orjson.JSONDecodeError:
            lines = data.decode("utf-8", "replace").splitlines()
            return [_shorten(line) for line in lines[:PREVIEW_ITEMS]]
        captions = document.get("captions") if isinstance(document, dict) else None
        if isinstance(captions, list):
            return [_caption_line(c) for c in captions[:PREVIEW_ITEMS]]
    return []


def _caption_line(caption: Any) -> str:
    if not isinstance(caption, dict):
        return _shorten(str(caption))
    tags = " ".join(str(t) for t in caption.get("hashtags", []) if isinstance(t, str))
    return _shorten(f"{caption.get('text', '')} {tags}".strip())


def _shorten(text: str) -> str:
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"
