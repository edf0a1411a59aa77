"""Start-up: `sigilctl --help` (and lean commands) vs `python -c "import typer"`."""

from __future__ import annotations

import subprocess
import sys

from benchmarks import Row, best_of

HEAVY = (
    "openai", "langfuse", "opentelemetry", "httpx", "fastapi", "uvicorn", "celery", "redis",
    "psycopg",
)  # fmt: skip


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
    typer_only = _time([sys.executable, "-c", "import typer"], repeat)
    # A command that reads a manifest or a brief needs pydantic: that is its floor.
    with_models = _time([sys.executable, "-c", "import typer, pydantic"], repeat)
    bare = _time([sys.executable, "-c", "pass"], repeat)
    rows = []
    for label, args, baseline, name, goal in (
        ("sigilctl --help", ["-m", "sigilctl", "--help"], typer_only, "import typer", "≤ 1.5"),
        (
            "sigilctl schema manifest",
            ["-m", "sigilctl", "schema", "manifest"],
            with_models,
            "import typer, pydantic",
            "",  # for the record: generating a JSON Schema costs what it costs
        ),
    ):
        ours = _time([sys.executable, *args], repeat)
        heavy = heavy_imports(args)
        rows.append(
            Row(
                label,
                ours,
                f'python -c "{name}"',
                baseline,
                goal,
                f"heavy imports: {', '.join(heavy) or 'none'}",
            )
        )
    rows.append(Row("python -c pass", bare, 'python -c "import typer"', typer_only))
    return rows
