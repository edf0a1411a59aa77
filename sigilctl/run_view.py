"""What ``show`` presents about a run: its manifest as written, plus a preview of its outputs.

Everything is read through sigilctl.run_files: a run that holds a symbolic link or names a path
outside itself is refused as a whole (exit 1, ``verify`` names the problems), and nothing of it
is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from sigilctl.errors import InputError, SigilError
from sigilctl.manifest import MANIFEST_NAME, Manifest, parse_manifest
from sigilctl.nesting import NestingError
from sigilctl.run_files import RunFolder, UnsafeRunPath

PREVIEW_ITEMS = 3
PREVIEW_CHARS = 280
# The preview needs the first few captions or lines, not a whole (possibly huge) output.
PREVIEW_READ_BYTES = 1024 * 1024


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
    """The run as ``show`` presents it; UnsafeRun when any of it would be read from outside.

    ``spool_dir`` is where undelivered traces wait. The trace link is built from the
    manifest's ``langfuse_host`` (where the trace was sent), never from the reader's
    environment: a manifest without it gets no link.
    """
    from sigilctl.observability.links import trace_url
    from sigilctl.observability.spool import TraceSpool

    try:
        with RunFolder.open(run_dir) as folder:
            raw, manifest = _read_manifest(folder, run_dir)
            listed = [e.path for e in manifest.input_snapshots.values()]
            for path in [*listed, *(a.path for a in manifest.artifacts)]:
                folder.check_file(path)
            preview = _preview(folder, manifest)
    except UnsafeRunPath as exc:
        raise UnsafeRun(run_dir, exc) from None
    except FileNotFoundError:
        raise InputError(f"{run_dir} is not a run directory (no {MANIFEST_NAME})") from None
    except OSError as exc:
        raise InputError(f"{run_dir} cannot be read: {exc.strerror or exc}") from None
    trace_id, host = manifest.langfuse_trace_id, manifest.langfuse_host
    url = trace_url(host, trace_id) if trace_id and host else None
    spooled = bool(trace_id and spool_dir and TraceSpool(spool_dir).find(trace_id))
    return RunView(run_dir, manifest, raw, url, preview, spooled)


class UnsafeRun(SigilError):
    """A run that holds a link or names a path outside itself: tampered, shown not at all."""

    exit_code = 1

    def __init__(self, run_dir: Path, cause: UnsafeRunPath) -> None:
        super().__init__(
            f"run {run_dir} is unsafe to read and is not shown: {cause.message} "
            f"(it has been tampered with; `sigilctl verify {run_dir}` names every problem)"
        )
        self.cause = cause


def _read_manifest(folder: RunFolder, run_dir: Path) -> tuple[dict[str, Any], Manifest]:
    path = run_dir / MANIFEST_NAME
    try:
        raw = folder.read_json(MANIFEST_NAME)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{path} is not valid JSON ({exc})") from None
    except NestingError as exc:
        raise InputError(f"{path} is not a manifest: {exc}") from None
    return raw, parse_manifest(raw, path)


def _preview(folder: RunFolder, manifest: Manifest) -> list[str]:
    """The first captions (or first lines of the first output), shortened for a terminal."""
    for artifact in manifest.artifacts:
        try:
            data = folder.read(artifact.path, limit=PREVIEW_READ_BYTES)
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
