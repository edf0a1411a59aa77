"""Core pieces of the operator commands, called directly: drift naming, suggestions, bounded
parallelism, shared reads, time and table formats."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sigilctl.cli._fit import Col, fit
from sigilctl.cli._format import age, ago, count, duration, first_words, usd, utc
from sigilctl.drift import name_changes
from sigilctl.many import in_parallel, worst_exit
from sigilctl.shared_reads import SharedReads
from sigilctl.suggest import did_you_mean
from sigilctl.workspace import Workspace


def context(*docs: tuple[str, str, int]) -> dict[str, object]:
    return {
        "paths": ["../_brands/x/*.md"],
        "query": "q",
        "top_k": 2,
        "method": "bm25",
        "documents": [{"path": p, "sha256": h, "rank": r, "text": h} for p, h, r in docs],
    }


def test_drift_names_brief_fields_as_dotted_paths() -> None:
    before = {"brief": {"params": {"count": 3, "tags": ["a"]}, "model": {"temperature": 0.7}}}
    after = {"brief": {"params": {"count": 2, "tags": ["a", "b"]}, "model": {"temperature": 0.7}}}
    assert name_changes(before, after) == ["brief: params.count", "brief: params.tags[1]"]


def test_drift_names_context_files_by_what_happened_to_them() -> None:
    before = {"context": context(("b/01.md", "h1", 1), ("b/02.md", "h2", 2))}
    after = {"context": context(("b/01.md", "h1", 1), ("b/02.md", "h9", 2))}
    assert name_changes(before, after) == ["b/02.md"]
    moved = {"context": context(("b/01.md", "h1", 1), ("b/03.md", "h3", 2))}
    assert name_changes(before, moved) == [
        "b/02.md (no longer retrieved)",
        "b/03.md (now retrieved)",
    ]
    reranked = {"context": context(("b/01.md", "h1", 2), ("b/02.md", "h2", 1))}
    assert name_changes(before, reranked) == ["context: ranking"]


def test_drift_names_a_field_once_not_in_every_snapshot_that_copies_it() -> None:
    before = {
        "brief": {"model": {"temperature": 0.7}},
        "model_config": {"temperature": 0.7, "interface": "v1"},
    }
    after = {
        "brief": {"model": {"temperature": 0.2}},
        "model_config": {"temperature": 0.2, "interface": "v2"},
    }
    assert name_changes(before, after) == ["brief: model.temperature", "model_config: interface"]


def test_drift_names_the_doctrine_file_and_pipeline_fields() -> None:
    before = {
        "doctrine": {
            "id": "v",
            "version": "1",
            "path": "b/doctrine.md",
            "sha256": "a",
            "text": "x",
        },
        "pipeline": {"version": "1.0.0", "prompt_template": "t"},
    }
    after = {
        "doctrine": {
            "id": "v",
            "version": "1",
            "path": "b/doctrine.md",
            "sha256": "b",
            "text": "y",
        },
        "pipeline": {"version": "1.1.0", "prompt_template": "t2"},
    }
    assert name_changes(before, after) == [
        "b/doctrine.md", "pipeline: prompt_template", "pipeline: version"
    ]  # fmt: skip
    assert name_changes(before, before) == []


def test_did_you_mean_offers_a_few_close_names_or_nothing() -> None:
    names = [f"nw-autumn-{i:03d}" for i in range(500)]
    assert did_you_mean("nw-autum-042", names).startswith(" (did you mean 'nw-autumn-042'")
    assert did_you_mean("nw-autum-042", names).count("'") <= 6  # at most three names
    assert did_you_mean("zzz", names) == ""


def test_in_parallel_runs_at_most_n_at_once_and_yields_as_they_finish() -> None:
    running = 0
    peak = 0
    lock = threading.Lock()

    def work(item: str) -> str:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05 if item != "slow" else 0.3)
        with lock:
            running -= 1
        return item

    order = list(in_parallel(["slow", "a", "b", "c", "d"], work, 2))
    assert sorted(order) == ["a", "b", "c", "d", "slow"]
    assert peak == 2
    assert order[-1] == "slow"  # the slow one did not hold the others back
    assert list(in_parallel(["x", "y"], str.upper, 1)) == ["X", "Y"]
    assert worst_exit([0, 1, 2, 0]) == 2 and worst_exit([]) == 0


def test_shared_reads_read_a_file_once(tmp_path: Path) -> None:
    root = tmp_path
    (root / "jobs").mkdir()
    path = root / "doc.md"
    path.write_text("one\r\ntwo\n")
    workspace = Workspace(root.resolve(), root.resolve() / "artifacts")
    reads = SharedReads()
    first = reads.file(workspace, path.resolve(), what="context file")
    path.write_text("changed")
    second = reads.file(workspace, path.resolve(), what="context file")
    assert first is second and first.text == "one\ntwo\n" and first.path == "doc.md"
    assert SharedReads().file(workspace, path.resolve(), what="x").text == "changed"


def test_time_and_number_forms() -> None:
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    at = (now - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    assert age(at, now) == "5m" and ago(at, now) == "5m ago"
    assert age((now - timedelta(seconds=3)).isoformat(), now) == "<1m"
    assert age((now - timedelta(days=3, hours=1)).isoformat(), now) == "3d"
    assert age(None) == "?"
    assert utc("2026-11-26T15:16:23.651Z") == "2026-11-26 15:16:23Z"
    assert utc("2026-11-26T17:16:23+02:00") == "2026-11-26 15:16:23Z"
    assert duration(850) == "850ms" and duration(8200) == "8.2s" and duration(185_000) == "3m05s"
    assert count(None) == "-" and count(1234) == "1,234" and count(123_456) == "123k"
    assert usd(None) == "-" and usd(0) == "$0" and usd(0.00042) == "$0.0004" and usd(1.5) == "$1.50"
    assert first_words("a b c d e f g", 3) == "a b c…" and first_words(None) == ""


@pytest.mark.parametrize("width", [80, 60, 200])
def test_fit_never_exceeds_the_width_and_cuts_ids_last(width: int) -> None:
    from rich.console import Console

    columns = (
        Col("age", drop=3),
        Col("job", shrink=((4, 10),)),
        Col("run"),
        Col("status", shrink=((1, 9),)),
        Col("tokens", right=True, drop=2),
        Col("cost", right=True, drop=2),
    )
    rows = [
        (
            "5m",
            "nw-autumn-launch-captions-2026-001",
            "abd3a9830ba1",
            "failed: the server",
            "1",
            "-",
        ),
        ("1h", "ig-test-001", "c3402d26f034", "succeeded", "22", "-"),
    ]
    console = Console(width=width, no_color=True, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(fit(columns, rows, width))
    console.file.close()
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= width
    assert "abd3a9830ba1" in text and "c3402d26f034" in text  # never cut
    if width < 90:
        assert "cost" not in text  # empty on every row: the first to go when room is short
    if width >= 80:
        assert "nw-autumn-launch-captions-2026-001" in text
