"""docs/screens.md is what `jobs`, `runs` and `show` print now, at 80 columns."""

from __future__ import annotations

from scripts.capture_screens import TARGET, WIDTH, capture, normalized


def test_the_screens_in_the_docs_are_current() -> None:
    fresh = capture()
    for block in fresh.split("```console\n")[1:]:
        for line in block.split("```")[0].splitlines():
            assert len(line) <= WIDTH, line
    assert normalized(TARGET.read_text()) == normalized(fresh), (
        "docs/screens.md is out of date: run python scripts/capture_screens.py"
    )
