"""The trace spool: traces Langfuse did not accept in time, kept on disk until re-sent.

One file per trace, ``<spooled-at>-<trace_id>.otlp``: the exact OTLP protobuf request the run
tried to send (uncompressed), so a re-send carries the original trace and span ids and the
server treats it as the same trace. Files are written atomically (a hidden temp file, fsync,
rename, fsync of the folder): a crash leaves a whole entry or none. The spool is capped
(``SIGILCTL_TRACE_SPOOL_MAX_MB``); the oldest entries are dropped first, and every drop is
counted in ``dropped.log`` (one line each, appended), so the loss is never silent.

No network and no heavy import here: ``show`` asks whether a trace is still spooled.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sigilctl import logs
from sigilctl.durable import fsync_path, is_temp, write_atomic

log = logs.get_logger("observability")
SUFFIX = ".otlp"
DROPPED_LOG = "dropped.log"
STALE_TEMP_S = 600.0
_NAME = re.compile(r"^(\d{8}T\d{6}\.\d{6}Z)-([0-9a-f]{32})\.otlp$")


@dataclass(frozen=True)
class SpoolEntry:
    path: Path
    trace_id: str
    spooled_at: str  # ISO 8601, UTC
    bytes: int


@dataclass(frozen=True)
class SpoolStatus:
    """The backlog: ``traces status --json`` and trace-health print exactly these fields."""

    directory: Path
    spooled_traces: int
    spooled_bytes: int
    oldest: str | None
    dropped: int

    def as_json(self) -> dict[str, Any]:
        return {
            "spooled_traces": self.spooled_traces,
            "spooled_bytes": self.spooled_bytes,
            "oldest": self.oldest,
            "dropped": self.dropped,
        }


def _stamp(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%S.%fZ")


def _iso(stamp: str) -> str:
    parsed = datetime.strptime(stamp, "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=UTC)
    return parsed.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TraceSpool:
    """The spool folder; every method is safe to call from several processes at once."""

    def __init__(self, directory: Path, max_bytes: float = float("inf")) -> None:
        self.directory = directory
        self.max_bytes = max_bytes

    def entries(self) -> list[SpoolEntry]:
        """Spooled traces, oldest first (an absent folder is an empty spool)."""
        found: list[SpoolEntry] = []
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return found
        for name in sorted(names):
            match = _NAME.match(name)
            if match is None:
                continue
            path = self.directory / name
            try:
                size = path.stat().st_size
            except FileNotFoundError:  # re-sent by another process meanwhile
                continue
            found.append(SpoolEntry(path, match.group(2), _iso(match.group(1)), size))
        return found

    def find(self, trace_id: str) -> SpoolEntry | None:
        return next((e for e in self.entries() if e.trace_id == trace_id), None)

    def put(self, trace_id: str, request: bytes) -> SpoolEntry | None:
        """Write one trace atomically, then keep the spool under its cap (oldest dropped first).

        Returns the entry, or None when the cap left no room even for it (it was dropped and
        counted). Raises OSError when the folder cannot be written.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = _stamp(time.time())
        final = self.directory / f"{stamp}-{trace_id}{SUFFIX}"
        write_atomic(final, request)
        entry = SpoolEntry(final, trace_id, _iso(stamp), len(request))
        kept = self._enforce_cap()
        return entry if final in kept else None

    def remove(self, entry: SpoolEntry) -> bool:
        """Delete an entry (after the server accepted it). False if it was already gone."""
        try:
            entry.path.unlink()
        except FileNotFoundError:
            return False
        fsync_path(self.directory)
        return True

    def dropped(self) -> int:
        try:
            with open(self.directory / DROPPED_LOG, "rb") as handle:
                return sum(1 for line in handle if line.strip())
        except FileNotFoundError:
            return 0

    def status(self) -> SpoolStatus:
        entries = self.entries()
        return SpoolStatus(
            self.directory,
            len(entries),
            sum(e.bytes for e in entries),
            entries[0].spooled_at if entries else None,
            self.dropped(),
        )

    def clean_temp(self) -> None:
        """Remove temp files a crashed writer left (old enough that no writer still owns them)."""
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return
        horizon = time.time() - STALE_TEMP_S
        for name in names:
            if is_temp(name):
                path = self.directory / name
                try:
                    if path.stat().st_mtime < horizon:
                        path.unlink()
                except FileNotFoundError:
                    continue

    def _enforce_cap(self) -> set[Path]:
        entries = self.entries()
        total = sum(e.bytes for e in entries)
        kept = {e.path for e in entries}
        for entry in entries:  # oldest first
            if total <= self.max_bytes:
                break
            total -= entry.bytes
            kept.discard(entry.path)
            if self.remove(entry):
                self._count_drop(entry)
        return kept

    def _count_drop(self, entry: SpoolEntry) -> None:
        line = f"{_stamp(time.time())} {entry.trace_id} {entry.bytes}\n".encode()
        fd = os.open(self.directory / DROPPED_LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
        try:
            os.write(fd, line)  # one short append: atomic among concurrent writers
            os.fsync(fd)
        finally:
            os.close(fd)
        log.debug("trace spool over its cap: dropped %s (%d bytes)", entry.trace_id, entry.bytes)
