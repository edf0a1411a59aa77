"""Canonicalization: ours vs orjson sorted dumps (the floor) and vs the rfc8785 package."""

from __future__ import annotations

import sys
from pathlib import Path

import orjson
import rfc8785

from benchmarks import Row, best_of
from sigilctl.identity import compute_identity
from sigilctl.resolve import resolve_job
from sigilctl.workspace import Workspace

REPO = Path(__file__).resolve().parents[2]


def realistic_snapshots() -> list[object]:
    """The five snapshots of the shipped example job (as `run` freezes them)."""
    workspace = Workspace.locate(REPO, REPO / "artifacts")
    job = resolve_job(REPO / "jobs/ig-test-001/brief.yaml", workspace)
    return list(job.snapshots.values())


# Values orjson cannot emit canonically (integral floats, exponents, keys beyond U+FFFF):
# they take the exact path, which is compared with the rfc8785 package separately.
HARD = {"temperature": 1.0, "penalties": [0.1, 1e-7, 1e21, -0.0], "\U0001f600": None, "n": None}


def run(quick: bool) -> list[Row]:
    values = realistic_snapshots()
    from sigilctl.canonical import canonical_bytes

    loops = 200 if quick else 2000
    size = sum(len(canonical_bytes(v)) for v in values)

    def ours() -> None:
        for _ in range(loops):
            for value in values:
                canonical_bytes(value)

    def floor() -> None:
        for _ in range(loops):
            for value in values:
                orjson.dumps(value, option=orjson.OPT_SORT_KEYS)

    def oracle() -> None:
        for _ in range(max(1, loops // 20)):
            for value in values:
                rfc8785.dumps(value)

    ours_s = best_of(ours)
    oracle_s = best_of(oracle) * 20
    job_s = best_of(
        lambda: [compute_identity({str(i): v for i, v in enumerate(values)}) for _ in range(loops)]
    )
    per = f"{loops * len(values)} snapshots, {size} bytes per set"
    hard_s = best_of(lambda: [canonical_bytes(HARD) for _ in range(loops)])
    hard_oracle_s = best_of(lambda: [rfc8785.dumps(HARD) for _ in range(loops)])
    return [
        Row("canonical_bytes (ours)", ours_s, "orjson OPT_SORT_KEYS", best_of(floor), "≤ 2.0", per),
        Row(
            "rfc8785 package", oracle_s, "canonical_bytes (ours)", ours_s, "≥ 20 (theirs/ours)", per
        ),
        Row("compute_identity (hash + derive)", job_s, "canonical_bytes (ours)", ours_s, "", per),
        Row(
            "rfc8785 package, exact-path value",
            hard_oracle_s,
            "canonical_bytes (ours)",
            hard_s,
            "",
            f"{loops} values with integral floats, exponents, a U+1F600 key",
        ),
    ]


if __name__ == "__main__":
    sys.exit(0)
