"""``sigilctl stats``: what the runs cost, and what the cache saved (SPEC §12).

The index counts every execution with its tokens and cost; a cache hit writes no run folder,
so the hits are read from their own append-only log (``sigilctl.cache_log``) and joined onto the
same groups: each hit saved what the reused run cost. Both sources are files under the
artifacts tree, so the answer is the same whichever index backend is used.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from pathlib import Path

from sigilctl.cache_log import CacheHit, read_cache_hits
from sigilctl.index.interface import RunIndex
from sigilctl.index.query import parse_since
from sigilctl.index.stats import StatsRow, check_by, ordered

NANO = 1_000_000_000


def stats(
    index: RunIndex, artifacts: Path, by: str = "job_id", since: str | None = None
) -> list[StatsRow]:
    """Per group: executions, outcomes, tokens, cost, and the cache's hits and savings."""
    check_by(by)
    rows = {row.key: row for row in index.stats(by, since)}
    hits: dict[str | None, list[CacheHit]] = defaultdict(list)
    for hit in read_cache_hits(artifacts, parse_since(since) if since else None):
        hits[_key(hit, by)].append(hit)
    for key, group in hits.items():
        row = rows.get(key) or StatsRow(key, 0, 0, 0, 0, 0, None, 0)
        known = [round(h.saved_usd * NANO) for h in group if h.saved_usd is not None]
        saved = sum(known) / NANO if known else None
        rows[key] = dataclasses.replace(row, cache_hits=len(group), saved_usd=saved)
    return ordered(list(rows.values()))


def _key(hit: CacheHit, by: str) -> str | None:
    if by == "day":
        return hit.at[:10]
    value = getattr(hit, by)
    return value if isinstance(value, str) else None
