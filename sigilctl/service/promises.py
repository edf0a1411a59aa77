"""A memo of derived identities, so a cache-hit ``POST /jobs/run`` does not re-resolve its job.

Deriving a run_id reads and canonicalizes the brief, the doctrine and every context file the
brief's globs match. The memo keeps, per (job_id, params), the run_id it derived and a
fingerprint of those files: their paths (the globs are expanded again each time, so a new or
removed file shows) and each file's size, inode, mtime and ctime. Any difference and the job is
resolved again. Like git's index, a fingerprint taken while a file is younger than two seconds
is not trusted (a change within one clock tick could keep the same mtime), so such a job is
simply resolved every time until its files settle. A stale memo could at worst promise a run_id
the worker then refuses ("inputs changed"): the worker always re-derives before it executes.
"""

from __future__ import annotations

import glob
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from sigilctl.workspace import Workspace

RACY_S = 2.0
Fingerprint = tuple[tuple[str, int, int, int, int], ...]


@dataclass(frozen=True)
class Derived:
    run_id: str
    inputs_hash: str


@dataclass(frozen=True)
class _Entry:
    brief: Path
    doctrine: Path
    patterns: tuple[str, ...]
    fingerprint: Fingerprint
    derived: Derived


def _key(job_id: str, params: Mapping[str, Any] | None) -> str:
    body = orjson.dumps(dict(params or {}), option=orjson.OPT_SORT_KEYS).decode()
    return f"{job_id}\n{body}"


def _fingerprint(brief: Path, doctrine: Path, patterns: tuple[str, ...]) -> Fingerprint | None:
    """Stats of every file the derivation read; None when one is missing or too young."""
    paths = [brief, doctrine]
    for pattern in patterns:
        matches = glob.glob(pattern, root_dir=brief.parent, recursive=True)
        paths.extend(brief.parent / match for match in sorted(matches))
    settled = time.time_ns() - int(RACY_S * 1e9)
    rows = []
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            return None
        if st.st_mtime_ns > settled or st.st_ctime_ns > settled:
            return None
        rows.append((str(path), st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns))
    return tuple(rows)


class PromiseCache:
    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def lookup(self, job_id: str, params: Mapping[str, Any] | None) -> Derived | None:
        key = _key(job_id, params)
        with self._lock:
            entry = self._entries.get(key)
        if entry is None:
            return None
        if _fingerprint(entry.brief, entry.doctrine, entry.patterns) != entry.fingerprint:
            with self._lock:
                self._entries.pop(key, None)
            return None
        return entry.derived

    def remember(
        self,
        workspace: Workspace,
        job_id: str,
        params: Mapping[str, Any] | None,
        brief: Path,
        snapshots: Mapping[str, Any],
        derived: Derived,
    ) -> None:
        doctrine = workspace.root / str(snapshots["doctrine"]["path"])
        patterns = tuple(str(p) for p in snapshots["context"]["paths"])
        fingerprint = _fingerprint(brief, doctrine, patterns)
        if fingerprint is None:
            return
        with self._lock:
            self._entries[_key(job_id, params)] = _Entry(
                brief, doctrine, patterns, fingerprint, derived
            )
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
