"""The trace spool on a real folder: atomic entries, oldest first, a cap that drops the oldest and
counts every drop, and exactly the JSON shape SPEC §9 gives ``traces status``."""

from __future__ import annotations

import os
import time
from pathlib import Path

from sigilctl.observability.spool import DROPPED_LOG, TraceSpool


def tid(n: int) -> str:
    return f"{n:032x}"


def test_an_absent_spool_is_empty(tmp_path: Path) -> None:
    spool = TraceSpool(tmp_path / "nowhere")
    assert spool.entries() == []
    assert spool.status().as_json() == {
        "spooled_traces": 0,
        "spooled_bytes": 0,
        "oldest": None,
        "dropped": 0,
    }
    assert spool.find(tid(1)) is None
    assert not (tmp_path / "nowhere").exists()  # reading never creates it


def test_entries_come_back_oldest_first_with_their_bytes(tmp_path: Path) -> None:
    spool = TraceSpool(tmp_path / "spool")
    first = spool.put(tid(2), b"first")
    time.sleep(0.002)
    second = spool.put(tid(1), b"second!")
    assert first is not None and second is not None
    assert [e.trace_id for e in spool.entries()] == [tid(2), tid(1)]
    assert spool.find(tid(1)) == second
    assert second.path.read_bytes() == b"second!"
    status = spool.status()
    assert status.as_json() == {
        "spooled_traces": 2,
        "spooled_bytes": 12,
        "oldest": first.spooled_at,
        "dropped": 0,
    }
    assert first.spooled_at.endswith("Z") and "T" in first.spooled_at
    assert [p.name for p in (tmp_path / "spool").iterdir() if p.name.startswith(".")] == []
    assert spool.remove(first) is True
    assert spool.remove(first) is False
    assert [e.trace_id for e in spool.entries()] == [tid(1)]


def test_the_cap_drops_the_oldest_first_and_counts_each_drop(tmp_path: Path) -> None:
    spool = TraceSpool(tmp_path / "spool", max_bytes=25)
    for n in range(4):
        spool.put(tid(n), b"x" * 10)
        time.sleep(0.002)
    kept = [e.trace_id for e in spool.entries()]
    assert kept == [tid(2), tid(3)]
    assert spool.dropped() == 2
    assert spool.status().as_json()["dropped"] == 2
    log = (tmp_path / "spool" / DROPPED_LOG).read_text().splitlines()
    assert [line.split()[1] for line in log] == [tid(0), tid(1)]
    # one trace bigger than the whole cap is dropped too, and counted
    assert spool.put(tid(9), b"y" * 30) is None
    assert tid(9) not in [e.trace_id for e in spool.entries()]
    assert spool.dropped() >= 3


def test_files_that_are_not_entries_are_ignored_and_stale_temp_files_cleaned(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "spool"
    spool = TraceSpool(folder)
    spool.put(tid(1), b"whole")
    (folder / f".tmp-20260101T000000.000000Z-{tid(2)}.otlp.123").write_bytes(b"half")
    (folder / "notes.txt").write_text("hello")
    fresh = folder / ".tmp-fresh"
    fresh.write_bytes(b"being written")
    old = time.time() - 3600
    os.utime(folder / f".tmp-20260101T000000.000000Z-{tid(2)}.otlp.123", (old, old))
    assert [e.trace_id for e in spool.entries()] == [tid(1)]
    spool.clean_temp()
    names = sorted(p.name for p in folder.iterdir())
    assert names == [".tmp-fresh", names[1], "notes.txt"]
    assert names[1].endswith(f"-{tid(1)}.otlp")
