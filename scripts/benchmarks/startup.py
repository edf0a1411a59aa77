"""Start-up: `sigilctl --help` (and lean commands) vs `python -c "import typer"`."""

from __future__ import annotations

import subprocess
import sys

from benchmarks import Row, best_of

HEAVY = ("openai", "langfuse", "opentelemetry")


def _time(args: list[str], repeat: int) -> float:
    return best_of(lambda: subprocess.run(args, check=True, capture_output=True), repeat=repeat)


def heavy_imports(args: list[str]) -> list[str]:
    """Top-level heavy packages a command imports (read from -X importtime)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *args], capture_output=True, text=True, check=False
    )
    found = set()
    for line in proc.stderr.splitlines():
        name = line.rsplit("|", 1)[-1].strip()
        if name.split(".")[0] in HEAVY:
            found.add(name.split(".")[0])
    return sorted(found)


def run(quick: bool) -> list[Row]:
    repeat = 5 if quick else 15
    baseline = _time([sys.executable, "-c", "import typer"], repeat)
    bare = _time([sys.executable, "-c", "pass"], repeat)
    rows = []
    for label, args in (
        ("sigilctl --help", ["-m", "sigilctl", "--help"]),
        ("sigilctl schema manifest", ["-m", "sigilctl", "schema", "manifest"]),
    ):
        ours = _time([sys.executable, *args], repeat)
        heavy = heavy_imports(args)
        rows.append(
            Row(
                label,
                ours,
                'python -c "import typer"',
                baseline,
                "≤ 1.5",
                f"heavy imports: {', '.join(heavy) or 'none'}",
            )
        )
    rows.append(Row("python -c pass", bare, 'python -c "import typer"', baseline))
    return rows
