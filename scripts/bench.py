"""Benchmarks that print ratios against a baseline measured in the same run.

Each section lives in scripts/benchmarks/<name>.py and exposes ``run(quick: bool) -> list[Row]``.
Usage: python scripts/bench.py [--quick] [SECTION ...]
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchmarks import Row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sections", nargs="*", help="sections to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a fast look")
    args = parser.parse_args()
    import benchmarks

    names = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__))
    chosen = args.sections or names
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        parser.error(f"unknown section(s): {', '.join(unknown)} (known: {', '.join(names)})")
    for name in chosen:
        module = importlib.import_module(f"benchmarks.{name}")
        started = time.perf_counter()
        rows: list[Row] = module.run(quick=args.quick)
        print(f"\n== {name} ({time.perf_counter() - started:.1f} s)")
        for row in rows:
            print(row.render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
