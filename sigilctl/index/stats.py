"""``sigilctl stats``: runs, outcomes, tokens and cost per job, brand, job type or day (SPEC §12).

Every execution counts (history included): a failed attempt that was retried still happened
and was paid for. Costs are summed as whole nano-dollars so both backends give the same total;
``cost_usd`` is null when no execution of the group has a known cost (never a made-up 0), and
``cost_unknown`` says how many executions the sum leaves out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sigilctl.errors import InputError
from sigilctl.index.schema import STATS_KEYS

STATS_BY: tuple[str, ...] = tuple(STATS_KEYS)


@dataclass(frozen=True)
class StatsRow:
    key: str | None
    runs: int
    succeeded: int
    failed: int
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    cost_unknown: int
    # Cache hits of the group, and what they did not spend again (from the cache-hit log,
    # sigilctl.accounting): null when no hit's cost is known.
    cache_hits: int = 0
    saved_usd: float | None = None

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> StatsRow:
        key, runs, succeeded, failed, tokens_in, tokens_out, nanousd, unknown = row
        return cls(
            key,
            int(runs),
            int(succeeded or 0),
            int(failed or 0),
            int(tokens_in or 0),
            int(tokens_out or 0),
            None if nanousd is None else round(int(nanousd) / 1_000_000_000, 9),
            int(unknown or 0),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "runs": self.runs,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": self.cost_usd,
            "cost_unknown": self.cost_unknown,
            "cache_hits": self.cache_hits,
            "saved_usd": self.saved_usd,
        }


@dataclass(frozen=True)
class RunMetrics:
    """Current runs by status and the distribution of their durations (service metrics)."""

    by_status: dict[str, int]
    buckets: list[tuple[float, int]]  # (upper bound in s, runs at or under it), cumulative
    count: int  # runs with a known duration
    total_seconds: float


def check_by(by: str) -> str:
    if by not in STATS_KEYS:
        raise InputError(f"--by '{by}' is not a grouping (use one of: {', '.join(STATS_BY)})")
    return by


def ordered(rows: list[StatsRow]) -> list[StatsRow]:
    """By key, rows without one (no brand, no timestamp) last: the same in every backend."""
    return sorted(rows, key=lambda r: (r.key is None, r.key or ""))
