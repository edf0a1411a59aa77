"""Write docs/screens.md: what `jobs`, `runs` and `show` print at 80 columns, from real runs.

A temporary copy of the repository's jobs/ gets a long-named job, a run of every job (the
openai job against a closed port, so it fails), one brief edited afterwards (stale) and one job
added without a run; then each command is captured as a pipe sees it (COLUMNS=80, no colour).
tests/e2e/test_screens.py keeps the file current (times and durations aside).

Usage: python scripts/capture_screens.py [--check]
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET = REPO / "docs" / "screens.md"
ENV_PREFIXES = ("SIGILCTL_", "LANGFUSE_", "OPENAI_", "OTEL_")
WIDTH = 80
SHOWN = (
    ("jobs",),
    ("runs",),
    ("show", "nw-autumn-launch-001"),
    ("show", "ig-launch-openai"),
)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIXES)}
    env.update(NO_COLOR="1", COLUMNS=str(WIDTH), **extra)
    return env


def _sigilctl(root: Path, *args: str, **env: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "sigilctl", *args],
        cwd=root,
        env=_env(**env),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    return proc.stdout


def _copy_job(root: Path, source: str, target: str) -> None:
    shutil.copytree(root / "jobs" / source, root / "jobs" / target)
    brief = root / "jobs" / target / "brief.yaml"
    brief.write_text(brief.read_text().replace(f"job_id: {source}", f"job_id: {target}"))


def capture() -> str:
    """The whole of docs/screens.md, captured now."""
    with tempfile.TemporaryDirectory(prefix="sigilctl-screens-") as tmp:
        root = Path(tmp)
        shutil.copytree(REPO / "jobs", root / "jobs")
        _copy_job(root, "ig-test-001", "nw-autumn-launch-001")
        # Port 9 (discard) is closed on a normal machine: the openai run fails at once.
        _sigilctl(
            root, "run", "--all",
            OPENAI_API_KEY="sk-example", OPENAI_BASE_URL="http://127.0.0.1:9/v1",
            SIGILCTL_OPENAI_MAX_RETRIES="0",
        )  # fmt: skip
        brief = root / "jobs/ig-test-001/brief.yaml"
        brief.write_text(brief.read_text().replace("count: 3", "count: 4"))
        _copy_job(root, "email-test-001", "email-winter-002")
        parts = [
            "# What the operator commands print (80 columns)\n",
            "Captured by `python scripts/capture_screens.py` from real runs in a scratch copy of "
            "`jobs/` (one job renamed long, the openai job run against a closed port, one brief "
            "edited after its run, one job added without a run), as a pipe or a CI log sees them: "
            "`COLUMNS=80`, no colour. A test keeps this file current.\n",
        ]
        for args in SHOWN:
            text = _sigilctl(root, *args)
            parts.append(f"## sigilctl {' '.join(args)}\n")
            parts.append(f"```console\n$ sigilctl {' '.join(args)}\n{text.rstrip()}\n```\n")
    return "\n".join(parts)


def normalized(text: str) -> str:
    """What may differ between two captures: times, durations and the layout they widen."""
    text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ", "<utc>", text)
    text = re.sub(r"\b\d+(\.\d+)?(ms|s)\b", "<duration>", text)
    text = re.sub(r"\b\d+[mhd]( ago)?\b|<1m( ago)?", "<age>", text)
    text = re.sub(r"-{3,}", "---", text)
    return "\n".join(" ".join(line.split()) for line in text.splitlines())


def main() -> int:
    text = capture()
    if "--check" in sys.argv[1:]:
        current = TARGET.read_text() if TARGET.exists() else ""
        if normalized(current) != normalized(text):
            print(f"{TARGET} is out of date: run python scripts/capture_screens.py")
            return 1
        return 0
    TARGET.write_text(text)
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
