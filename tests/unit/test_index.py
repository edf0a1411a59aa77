"""The run index core, on both backends: rebuilt from manifests alone, atomic swaps, executions
(current and history), upserts that never fail a run, and an index that never lies."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from sigilctl.errors import InputError, StorageError
from sigilctl.index import index_location, open_index, record_run
from sigilctl.index import sqlite as backend
from sigilctl.index.interface import RunIndex
from sigilctl.index.location import IndexLocation
from sigilctl.index.query import RunFilters, parse_since
from sigilctl.index.rows import derive_execution_id
from sigilctl.index.walk import Place
from tests.index_backends import dump, index_exists, reset_schemas, write_manifest


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    artifacts = tmp_path / "artifacts"
    day = "2026-01-0{}T00:00:05.000Z"
    write_manifest(artifacts, "job-a", "a" * 32, finished_at=day.format(1))
    write_manifest(artifacts, "job-a", "b" * 32, status="failed", finished_at=day.format(3))
    write_manifest(artifacts, "job-b", "c" * 32, brand="other", finished_at=day.format(2))
    return artifacts


@pytest.fixture
def location(
    tree: Path, index_setting: str | None, monkeypatch: pytest.MonkeyPatch
) -> IndexLocation:
    """The index of this test's backend; also in $SIGILCTL_INDEX, as ``sigilctl run`` sees it."""
    if index_setting is not None:
        monkeypatch.setenv("SIGILCTL_INDEX", index_setting)
    return index_location(tree)


@pytest.fixture
def index(location: IndexLocation, tree: Path) -> RunIndex:
    return open_index(location, tree)


def ids(records: list[object]) -> list[str]:
    return [r["run_id"][0] for r in records]  # type: ignore[index]


def test_reindex_holds_exactly_the_runs_newest_first(
    tree: Path, index: RunIndex, location: IndexLocation
) -> None:
    result = index.reindex()
    assert (result.indexed, result.skipped) == (3, [])
    records = index.runs(RunFilters())
    assert [r["run_id"] for r in records] == ["b" * 32, "c" * 32, "a" * 32]
    assert records[0].run_dir == tree / "job-a" / ("b" * 32)
    document = records[0].as_json()
    assert document["usage"] == {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    assert document["current"] is True
    assert document["execution_id"].startswith("20260103T000000.000Z-")
    rows = dump(location)
    assert len(rows["input_snapshots"]) == 15 and len(rows["artifacts"]) == 3
    # run_dir is stored relative to the artifacts root, so the tree can move.
    stored = {r[-1] for r in rows["executions"]}
    assert stored == {f"job-a/{'a' * 32}", f"job-a/{'b' * 32}", f"job-b/{'c' * 32}"}


def test_the_rebuilt_sqlite_file_is_self_contained_and_in_wal_mode(tree: Path) -> None:
    index = open_index(index_location(tree), tree)
    index.reindex()
    index.reindex()
    db = index_location(tree).sqlite_path
    assert sorted(p.name for p in db.parent.iterdir()) == ["index.sqlite", "index.sqlite.lock"]
    with backend.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        names = conn.execute("SELECT version, name FROM schema_migrations").fetchall()
    assert names == [(1, "m001_runs_snapshots_artifacts"), (2, "m002_executions")]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (RunFilters(job_id="job-a"), {"a", "b"}),
        (RunFilters(brand="other"), {"c"}),
        (RunFilters(status="failed"), {"b"}),
        (RunFilters(job_type="instagram_copy", status="succeeded"), {"a", "c"}),
        (RunFilters(job_type="nope"), set()),
        (RunFilters(since="2026-01-02"), {"b", "c"}),
        (RunFilters(since="2026-01-02T00:00:01+00:00"), {"b"}),
        (RunFilters(since="2026-01-02T01:00:01+02:00"), {"b", "c"}),
        (RunFilters(limit=1), {"b"}),
    ],
)
def test_filters(index: RunIndex, filters: RunFilters, expected: set[str]) -> None:
    index.reindex()
    assert set(ids(index.runs(filters))) == expected  # type: ignore[arg-type]


def test_corrupt_and_unfinished_run_dirs_are_skipped_and_named(tree: Path, index: RunIndex) -> None:
    (tree / "job-a" / ("d" * 32)).mkdir()
    (tree / "job-a" / ("d" * 32) / "manifest.json").write_text("{not json")
    write_manifest(tree, "job-b", "e" * 32)
    (tree / "job-b" / ("e" * 32) / "manifest.json").write_text('{"job_id": "job-b"}')
    moved = write_manifest(tree, "job-b", "f" * 32)
    moved.rename(tree / "job-b" / ("0" * 32))
    (tree / "job-b" / ("1" * 32)).mkdir()
    (tree / "job-b" / f".tmp-{'2' * 32}-123-abcd").mkdir()
    write_manifest(tree, "job-b", "3" * 32, execution="20260101T000000.000Z-00000000")
    write_manifest(
        tree,
        "job-b",
        "4" * 32,
        execution="20260101T000000.000Z-11111111",
        execution_id="20260101T000000.000Z-22222222",
    )
    result = index.reindex()
    assert result.indexed == 4
    reasons = {s.path.relative_to(tree).as_posix(): s.reason for s in result.skipped}
    history = f"job-b/.history/{'4' * 32}/20260101T000000.000Z-11111111"
    assert set(reasons) == {
        f"job-a/{'d' * 32}/manifest.json",
        f"job-b/{'e' * 32}/manifest.json",
        f"job-b/{'0' * 32}/manifest.json",
        f"job-b/{'1' * 32}",
        f"job-b/.tmp-{'2' * 32}-123-abcd",
        f"{history}/manifest.json",
    }
    assert "not a valid manifest" in reasons[f"job-a/{'d' * 32}/manifest.json"]
    assert "run_id" in reasons[f"job-b/{'e' * 32}/manifest.json"]
    assert "lives in" in reasons[f"job-b/{'0' * 32}/manifest.json"]
    assert "no manifest.json" in reasons[f"job-b/{'1' * 32}"]
    assert "names execution '20260101T000000.000Z-22222222'" in reasons[f"{history}/manifest.json"]


def test_deleted_index_is_rebuilt_with_the_same_rows(
    tree: Path, index: RunIndex, location: IndexLocation
) -> None:
    index.reindex()
    before = dump(location)
    if location.kind == "sqlite":
        location.sqlite_path.unlink()
    else:
        reset_schemas(location.postgres_url)
    assert not index_exists(location)
    index.reindex()
    assert dump(location) == before


def test_a_failed_rebuild_leaves_the_old_index_and_nothing_behind(
    tree: Path, index: RunIndex, location: IndexLocation
) -> None:
    index.reindex()
    before = dump(location)
    write_manifest(tree, "job-c", "9" * 32)

    def crash(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        index.reindex(crash)
    assert dump(location) == before
    if location.kind == "sqlite":
        folder = location.sqlite_path.parent
        assert sorted(p.name for p in folder.iterdir()) == ["index.sqlite", "index.sqlite.lock"]
    else:
        assert _schemas(location) == ["sigilctl"]


def _schemas(location: IndexLocation) -> list[str]:
    import psycopg

    with psycopg.connect(location.postgres_url) as conn:
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'sigilctl%' ORDER BY 1"
        ).fetchall()
    return [name for (name,) in rows]


def test_stale_temp_of_a_dead_sqlite_rebuild_is_removed(tree: Path) -> None:
    db = index_location(tree).sqlite_path
    db.parent.mkdir(parents=True)
    stale = db.with_name(".index.sqlite.tmp-999999999-abcd")
    stale.write_bytes(b"half")
    open_index(index_location(tree), tree).reindex()
    assert not stale.exists()


def test_an_orphan_postgres_build_schema_is_dropped(tree: Path, postgres_index: str) -> None:
    import psycopg

    with psycopg.connect(postgres_index, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA sigilctl_build_dead0000")
    location = index_location(tree, postgres_index)
    open_index(location, tree).reindex()
    assert _schemas(location) == ["sigilctl"]


def test_runs_published_replaced_moved_or_removed_during_the_scan_are_caught(
    tree: Path, index: RunIndex
) -> None:
    late: list[Path] = []
    old_a = tree / "job-a" / ("a" * 32)

    def change_while_scanning(done: int, total: int) -> None:
        if done == total and not late:
            late.append(write_manifest(tree, "job-c", "9" * 32))  # a new job
            late.append(write_manifest(tree, "job-b", "8" * 32))  # a new run of a known job
            os.rename(tree / "job-b" / ("c" * 32), tree / "job-b" / f".trash-{'c' * 32}-ab")
            # run --force: the old execution to history, a new one current
            history = tree / "job-a" / ".history" / ("a" * 32) / "20260101T000000.000Z-aaaaaaaa"
            history.parent.mkdir(parents=True)
            os.rename(old_a, history)
            write_manifest(tree, "job-a", "a" * 32, finished_at="2026-01-09T00:00:05.000Z")

    result = index.reindex(change_while_scanning)
    assert set(ids(index.runs(RunFilters()))) == {"a", "b", "9", "8"}  # type: ignore[arg-type]
    everything = index.runs(RunFilters(history=True))
    assert sorted((r["run_id"][0], r.current) for r in everything) == [
        ("8", True),
        ("9", True),
        ("a", False),
        ("a", True),
        ("b", True),
    ]
    assert result.indexed == 5
    assert [s.path.name for s in result.skipped] == [f".trash-{'c' * 32}-ab"]


def test_swap_waits_for_readers_of_the_old_sqlite_file_and_keeps_it_if_they_stay(
    tree: Path,
) -> None:
    location = index_location(tree)
    open_index(location, tree).reindex()
    db = location.sqlite_path
    new = db.with_name("other.sqlite")
    open_index(index_location(tree, new), tree).reindex()
    with backend.connect(db) as reader:
        reader.execute("SELECT count(*) FROM executions").fetchone()
        with pytest.raises(backend.IndexBusyError):
            backend.swap_in(new, db, timeout=0.2)
    assert new.exists() and db.exists()
    backend.swap_in(new, db, timeout=0.2)
    assert not new.exists() and len(dump(location)["executions"]) == 3


def test_record_run_upserts_into_an_existing_index(
    tree: Path, index: RunIndex, location: IndexLocation
) -> None:
    index.reindex()
    run_dir = write_manifest(tree, "job-c", "9" * 32, status="partial")
    record_run(tree, run_dir)
    record_run(tree, run_dir)  # idempotent
    assert ids(index.runs(RunFilters(status="partial"))) == ["9"]  # type: ignore[arg-type]
    assert len(dump(location)["input_snapshots"]) == 20


def test_record_run_syncs_every_execution_of_the_run(
    tree: Path, index: RunIndex, location: IndexLocation
) -> None:
    index.reindex()
    current = tree / "job-a" / ("a" * 32)
    history = tree / "job-a" / ".history" / ("a" * 32)
    history.mkdir(parents=True)
    old = history / "20260101T000000.000Z-aaaaaaaa"
    os.rename(current, old)  # a --force: the old one to history, the new one current
    write_manifest(tree, "job-a", "a" * 32, finished_at="2026-01-05T00:00:05.000Z")
    record_run(tree, current)
    rows = index.runs(RunFilters(job_id="job-a", history=True))
    assert [(r["run_id"][0], r.current) for r in rows] == [("a", True), ("b", True), ("a", False)]
    assert rows[2]["execution_id"] == old.name
    assert rows[2].run_dir == old
    assert ids(index.runs(RunFilters(job_id="job-a"))) == ["a", "b"]  # type: ignore[arg-type]
    shutil.rmtree(old)  # gc deleted it, then recorded the run (any of its paths)
    record_run(tree, old)
    assert len(index.runs(RunFilters(job_id="job-a", history=True))) == 2
    assert len(dump(location)["executions"]) == 3


def test_rows_whose_folder_was_deleted_by_hand_are_never_listed(
    tree: Path, index: RunIndex, location: IndexLocation
) -> None:
    index.reindex()
    shutil.rmtree(tree / "job-a" / ("b" * 32))  # the newest run
    assert ids(index.runs(RunFilters(limit=1))) == ["c"]  # type: ignore[arg-type]
    assert index.latest_per_job()["job-a"]["run_id"] == "a" * 32
    assert len(dump(location)["executions"]) == 2  # and the index forgot it


def test_latest_per_job(tree: Path, index: RunIndex) -> None:
    write_manifest(tree, "job-b", "d" * 32, finished_at="2026-01-02T00:00:05.000Z")  # a tie
    write_manifest(
        tree, "job-b", "e" * 32, finished_at="2026-01-09T00:00:05.000Z", execution="x"
    )  # history: never the latest
    index.reindex()
    latest = index.latest_per_job()
    assert {job: r["run_id"][0] for job, r in latest.items()} == {"job-a": "b", "job-b": "d"}
    assert list(index.latest_per_job(["job-b", "nope"])) == ["job-b"]


def test_stats(tree: Path, index: RunIndex) -> None:
    write_manifest(tree, "job-a", "d" * 32, cost=0.25, tokens=(100, 10))
    write_manifest(tree, "job-a", "d" * 32, execution="e1", status="failed", cost=0.125)
    write_manifest(tree, "job-b", "e" * 32, brand="other", cost=0.1, tokens=(7, 3))
    index.reindex()
    by_job = {r.key: r.as_json() for r in index.stats()}
    assert by_job["job-a"] == {
        "key": "job-a",
        "runs": 4,
        "succeeded": 2,
        "failed": 2,
        "input_tokens": 103,
        "output_tokens": 16,
        "cost_usd": 0.375,
        "cost_unknown": 2,
        "cache_hits": 0,  # the index alone knows no cache hits (sigilctl.accounting adds them)
        "saved_usd": None,
    }
    assert by_job["job-b"]["cost_usd"] == 0.1 and by_job["job-b"]["runs"] == 2
    brands = [(r.key, r.runs) for r in index.stats("brand")]
    assert brands == [("acme", 4), ("other", 2)]
    days = [(r.key, r.runs) for r in index.stats("day", since="2026-01-02")]
    assert days == [("2026-01-02", 4), ("2026-01-03", 1)]
    assert [r.cost_usd for r in index.stats("job_type", since="2026-01-03")] == [None]
    with pytest.raises(InputError, match="--by 'color'"):
        index.stats("color")


def test_an_old_manifest_gets_a_stable_derived_execution_id(tree: Path, index: RunIndex) -> None:
    index.reindex()
    path = tree / "job-a" / ("a" * 32) / "manifest.json"
    expected = derive_execution_id("2026-01-01T00:00:00.000Z", path.read_bytes())
    assert expected.startswith("20260101T000000.000Z-") and len(expected) == 29
    record = index.runs(RunFilters(job_id="job-a"))[-1]
    assert record["execution_id"] == expected
    index.reindex()
    assert index.runs(RunFilters(job_id="job-a"))[-1]["execution_id"] == expected


def test_record_run_leaves_an_absent_index_absent(
    tree: Path, location: IndexLocation, caplog: pytest.LogCaptureFixture
) -> None:
    record_run(tree, tree / "job-a" / ("a" * 32))
    assert not index_exists(location)
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


def test_record_run_never_raises(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "index-is-a-folder"
    folder.mkdir()
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not a database" * 100)
    for setting in (str(folder), str(garbage), "postgresql://u:pw123456@127.0.0.1:1/db", "xy://y"):
        monkeypatch.setenv("SIGILCTL_INDEX", setting)
        record_run(tree, tree / "job-a" / ("a" * 32))
    messages = [r.getMessage() for r in caplog.records if r.name == "sigilctl.index"]
    assert len(messages) == 4 and all("was not updated" in m for m in messages)
    assert not any("pw123456" in m for m in messages)


def test_record_run_gives_up_quickly_when_the_index_is_locked(
    tree: Path, index: RunIndex, location: IndexLocation, caplog: pytest.LogCaptureFixture
) -> None:
    index.reindex()
    run_dir = write_manifest(tree, "job-c", "9" * 32)
    if location.kind == "sqlite":
        with backend.writer_lock(location.sqlite_path, 1.0):
            import sigilctl.index.sqlite as module

            saved, module.WRITE_TIMEOUT_S = module.WRITE_TIMEOUT_S, 0.1
            try:
                record_run(tree, run_dir)
            finally:
                module.WRITE_TIMEOUT_S = saved
    else:
        import psycopg

        from sigilctl.index import postgres

        with psycopg.connect(location.postgres_url, autocommit=True) as holder:
            holder.execute("SELECT pg_advisory_lock(%s)", (postgres.WRITER_KEY,))
            record_run(tree, run_dir)
    assert any("locked by another" in r.getMessage() for r in caplog.records)
    assert len(dump(location)["executions"]) == 3


def test_an_index_from_a_newer_sigilctl_is_refused_with_advice(
    index: RunIndex, location: IndexLocation
) -> None:
    index.reindex()
    _execute(location, "INSERT INTO {s}schema_migrations VALUES (999, 'm999_future')")
    with pytest.raises(StorageError, match="newer sigilctl"):
        index.runs(RunFilters())


def _execute(location: IndexLocation, sql: str) -> None:
    if location.kind == "sqlite":
        with backend.connect(location.sqlite_path) as conn:
            conn.execute(sql.format(s=""))
        return
    import psycopg

    with psycopg.connect(location.postgres_url, autocommit=True) as conn:
        conn.execute(sql.format(s="sigilctl."))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "damage",
    [
        "DELETE FROM {s}schema_migrations",  # an index with no migration recorded
        "DELETE FROM {s}schema_migrations WHERE version = 2",  # written by an older sigilctl
        "DROP TABLE {s}artifacts",  # missing tables
    ],
)
def test_an_empty_damaged_or_older_index_is_rebuilt_whole_by_a_reader_never_topped_up(
    tree: Path, index: RunIndex, location: IndexLocation, damage: str
) -> None:
    index.reindex()
    _execute(location, damage)
    run_dir = write_manifest(tree, "job-c", "9" * 32)
    record_run(tree, run_dir)  # must not add one row to an index that cannot be trusted
    with pytest.raises(StorageError, match="rebuilds it"):
        index.runs(RunFilters())
    built = index.ensure_built()
    assert built is not None and built.result.indexed == 4
    assert len(index.runs(RunFilters())) == 4
    assert index.ensure_built() is None


def test_a_truncated_sqlite_index_is_rebuilt_whole(tree: Path) -> None:
    index = open_index(index_location(tree), tree)
    index.reindex()
    db = index_location(tree).sqlite_path
    db.write_bytes(b"")
    record_run(tree, write_manifest(tree, "job-c", "9" * 32))
    assert db.stat().st_size == 0  # no row was added to it
    built = index.ensure_built()
    assert built is not None and built.reason == "was empty (no tables)"
    assert len(index.runs(RunFilters())) == 4


def test_a_foreign_sqlite_database_is_never_replaced(tree: Path, tmp_path: Path) -> None:
    other = tmp_path / "app.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE users (name TEXT)")
    conn.commit()
    conn.close()
    index = open_index(index_location(tree, other), tree)
    with pytest.raises(InputError, match="not a sigilctl run index"):
        index.reindex()
    with pytest.raises(InputError, match="not a sigilctl run index"):
        index.runs(RunFilters())
    assert index.ensure_built() is None


def test_bad_input_is_refused(tree: Path, index: RunIndex) -> None:
    with pytest.raises(InputError, match="--status 'done'"):
        RunFilters(status="done").checked()
    with pytest.raises(InputError, match="--since 'yesterday'"):
        RunFilters(since="yesterday").checked()
    with pytest.raises(InputError, match="does not exist"):
        open_index(index.location, tree / "missing").reindex()
    with pytest.raises(InputError, match="is a directory"):
        open_index(index_location(tree, tree), tree).reindex()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-04", "2026-03-04T00:00:00.000Z"),
        ("2026-03-04T05:06:07", "2026-03-04T05:06:07.000Z"),
        ("2026-03-04T05:06:07Z", "2026-03-04T05:06:07.000Z"),
        ("2026-03-04T05:06:07.5+01:00", "2026-03-04T04:06:07.500Z"),
    ],
)
def test_parse_since(text: str, expected: str) -> None:
    assert parse_since(text) == expected


def test_db_location_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    default = index_location(tmp_path)
    assert default.sqlite_path == tmp_path / ".sigilctl" / "index.sqlite"
    assert index_location(tmp_path, configured=str(tmp_path / "t.sqlite")).path == (
        tmp_path / "t.sqlite"
    )
    monkeypatch.setenv("SIGILCTL_INDEX", str(tmp_path / "env.sqlite"))
    assert index_location(tmp_path, configured="x.sqlite").path == tmp_path / "env.sqlite"
    assert index_location(tmp_path, tmp_path / "flag.sqlite").path == tmp_path / "flag.sqlite"
    monkeypatch.chdir(tmp_path)
    assert index_location(tmp_path, "rel.sqlite").path == tmp_path / "rel.sqlite"
    assert index_location(tmp_path, "odd:name.sqlite").path == tmp_path / "odd:name.sqlite"
    assert index_location(tmp_path, "postgresql:///db").kind == "postgresql"


@pytest.mark.parametrize(
    ("setting", "display"),
    [
        ("postgresql://ann:hunter2secret@db.example:5433/runs", "postgresql://ann@db.example:5433/runs"),
        ("postgres://db.example/runs?password=hunter2secret&sslmode=require", "postgres://db.example/runs?sslmode=require"),
        ("postgresql:///runs", "postgresql:///runs"),
    ],
)  # fmt: skip
def test_a_postgres_url_is_shown_without_its_password(setting: str, display: str) -> None:
    location = index_location(Path("/nowhere"), setting)
    assert (location.kind, location.display) == ("postgresql", display)
    assert "hunter2" not in repr(location)


@pytest.mark.parametrize("setting", ["mysql://u:hunter2secret@h/db", "sqlite://x", "http://h/db"])
def test_any_other_url_scheme_is_bad_input_without_its_password(setting: str) -> None:
    with pytest.raises(InputError, match="neither a file path nor a postgresql:// URL") as caught:
        index_location(Path("/nowhere"), setting)
    assert "hunter2" not in str(caught.value)


def test_the_second_look_reads_only_folders_that_changed(tree: Path) -> None:
    from sigilctl.index.walk import list_tree, relist

    first = list_tree(str(tree))
    later = time.time_ns() + 10 * 1_000_000_000  # as if the first look was long ago
    _, changed = relist(first, later)
    assert changed == set()
    write_manifest(tree, "job-b", "9" * 32)  # a run published into one job's folder
    again, changed = relist(first, later)
    assert changed == {"job-b"}
    assert Place("job-b", "9" * 32) in again.places()
    _, changed = relist(first, time.time_ns())  # folders modified within 1 s: read again
    assert {"", "job-a", "job-b"} <= changed


def test_metrics_for_the_service(tree: Path, index: RunIndex) -> None:
    write_manifest(tree, "job-a", "a" * 32, execution="e1", status="failed")  # history: not counted
    write_manifest(tree, "job-c", "d" * 32, duration_ms=400)
    write_manifest(tree, "job-c", "e" * 32, duration_ms=2500)
    index.reindex()
    metrics = index.metrics([0.5, 10.0])
    assert metrics.by_status == {"succeeded": 4, "failed": 1}
    assert (metrics.count, metrics.total_seconds) == (2, 2.9)
    assert metrics.buckets == [(0.5, 1), (10.0, 2)]
