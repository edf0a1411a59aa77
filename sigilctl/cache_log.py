"""Cache hits, kept so ``stats`` can say what the cache saved: an append-only JSON Lines log.

A cache hit writes no run folder (nothing new was produced), so it is recorded here instead:
``<artifacts>/.sigilctl/cache-hits.jsonl``, one line per hit with the reused run's ids, tokens
and cost (what the hit did not spend again). Each line is one ``write`` under an exclusive lock,
then fsynced; a line torn by a crash is skipped by readers and the next append starts on a
fresh line, so one bad tail never swallows a good record. Like the index, the log is a side
record: a failure to write it is a warning, never a failed run.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson

from sigilctl.manifest import Manifest, utc_now

LOG_DIR = ".sigilctl"
LOG_NAME = "cache-hits.jsonl"


@dataclass(frozen=True)
class CacheHit:
    """One reuse of a succeeded run: ``saved_usd`` is the reused run's cost (null if unknown)."""

    at: str
    job_id: str
    run_id: str
    brand: str | None
    job_type: str | None
    saved_usd: float | None
    input_tokens: int | None
    output_tokens: int | None


_FIELDS = tuple(CacheHit.__dataclass_fields__)


def log_path(artifacts: Path) -> Path:
    return artifacts / LOG_DIR / LOG_NAME


def cache_hit(manifest: Manifest, at: str | None = None) -> CacheHit:
    usage = manifest.usage
    return CacheHit(
        at=at or utc_now(),
        job_id=manifest.job_id,
        run_id=manifest.run_id,
        brand=manifest.brand,
        job_type=manifest.job_type,
        saved_usd=manifest.cost.total if manifest.cost else None,
        input_tokens=usage.prompt_tokens if usage else None,
        output_tokens=usage.completion_tokens if usage else None,
    )


def append_hit(artifacts: Path, hit: CacheHit) -> None:
    """Append one line (raises OSError on failure; ``record_cache_hit`` is the forgiving one)."""
    path = log_path(artifacts)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = orjson.dumps(asdict(hit)) + b"\n"
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            line = b"\n" + line  # a torn tail from a crash: start a fresh line
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def record_cache_hit(artifacts: Path, manifest: Manifest) -> None:
    """Log a cache hit; a failure is one warning line, never an error of the run."""
    from sigilctl.logs import get_logger

    try:
        append_hit(artifacts, cache_hit(manifest))
    except OSError as exc:
        get_logger("cache").warning(
            "the cache hit was not logged in %s (%s)", log_path(artifacts), exc.strerror or exc
        )


def read_cache_hits(artifacts: Path, since: str | None = None) -> list[CacheHit]:
    """Every logged hit (at or after ``since``, an ISO time prefix), skipping torn lines."""
    try:
        data = log_path(artifacts).read_bytes()
    except FileNotFoundError:
        return []
    hits: list[CacheHit] = []
    for raw in data.splitlines():
        try:
            fields = orjson.loads(raw)
            hit = CacheHit(**{name: fields.get(name) for name in _FIELDS})
        except (orjson.JSONDecodeError, AttributeError):
            continue
        if not isinstance(hit.run_id, str) or not isinstance(hit.at, str):
            continue
        if since is None or hit.at >= since:
            hits.append(hit)
    return hits
