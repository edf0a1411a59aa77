"""The run index core: rebuilt from manifests alone, atomic swaps, upserts that never fail a run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sigilctl.errors import InputError, StorageError
from sigilctl.index import default_db_path, record_run
from sigilctl.index import sqlite as backend
from sigilctl.index.build import reindex
from sigilctl.index.query import RunFilters, parse_since, query_runs
from sigilctl.manifest import ArtifactEntry, Manifest, SnapshotEntry, UsageRecord

HASH = "ab" * 32


def write_manifest(
    artifacts: Path,
    job_id: str,
    run_id: str,
    *,
    status: str = "succeeded",
    brand: str = "acme",
    job_type: str = "instagram_copy",
    finished_at: str = "2026-01-02T03:04:05.000Z",
) -> Path:
    """A hand-written run directory (manifest only: the index never reads the other files)."""
    run_dir = artifacts / job_id / run_id
    run_dir.mkdir(parents=True)
    manifest = Manifest(
        job_id=job_id,
        run_id=run_id,
        inputs_hash=HASH,
        job_type=job_type,
        brand=brand,
        status=status,  # type: ignore[arg-type]
        input_snapshots={
            name: SnapshotEntry(path=f"inputs/{name}.resolved.json", sha256=HASH, bytes=10)
            for name in ("brief", "doctrine", "context", "model_config", "pipeline")
        },
        artifacts=[ArtifactEntry(path="outputs/captions.json", sha256=HASH, bytes=42)],
        started_at=finished_at.replace("05.000Z", "00.000Z"),
        finished_at=finished_at,
        usage=UsageRecord(prompt_tokens=1, completion_tokens=2, total_tokens=3),
    )
    (run_dir / "manifest.json").write_bytes(manifest.to_bytes())
    return run_dir


def dump(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every data table, in a stable order."""
    with backend.connect(db) as conn:
        return {
            table: sorted(conn.execute(f"SELECT * FROM {table}").fetchall())
            for table in ("runs", "input_snapshots", "artifacts")
        }


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    artifacts = tmp_path / "artifacts"
    day = "2026-01-0{}T00:00:05.000Z"
    write_manifest(artifacts, "job-a", "a" * 32, finished_at=day.format(1))
    write_manifest(artifacts, "job-a", "b" * 32, status="failed", finished_at=day.format(3))
    write_manifest(artifacts, "job-b", "c" * 32, brand="other", finished_at=day.format(2))
    return artifacts


def test_reindex_holds_exactly_the_runs_newest_first(tree: Path) -> None:
    db = default_db_path(tree)
    result = reindex(tree, db)
    assert (result.indexed, result.skipped) == (3, [])
    records = query_runs(db, tree, RunFilters())
    assert [r["run_id"] for r in records] == ["b" * 32, "c" * 32, "a" * 32]
    assert records[0].run_dir == tree / "job-a" / ("b" * 32)
    assert records[0].as_json()["usage"] == {
        "prompt_tokens": 1,
        "completion_tokens": 2,
        "total_tokens": 3,
    }
    rows = dump(db)
    assert len(rows["input_snapshots"]) == 15 and len(rows["artifacts"]) == 3
    # run_dir is stored relative to the artifacts root, so the tree can move.
    stored = {r[-1] for r in rows["runs"]}
    assert stored == {f"job-a/{'a' * 32}", f"job-a/{'b' * 32}", f"job-b/{'c' * 32}"}


def test_the_rebuilt_file_is_self_contained_and_in_wal_mode(tree: Path) -> None:
    db = default_db_path(tree)
    reindex(tree, db)
    reindex(tree, db)
    assert sorted(p.name for p in db.parent.iterdir()) == ["index.sqlite", "index.sqlite.lock"]
    with backend.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        names = conn.execute("SELECT version, name FROM schema_migrations").fetchall()
    assert names == [(1, "m001_runs_snapshots_artifacts")]


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
def test_filters(tree: Path, filters: RunFilters, expected: set[str]) -> None:
    db = default_db_path(tree)
    reindex(tree, db)
    assert {r["run_id"][0] for r in query_runs(db, tree, filters.checked())} == expected


def test_corrupt_and_unfinished_run_dirs_are_skipped_and_named(tree: Path) -> None:
    (tree / "job-a" / ("d" * 32)).mkdir()
    (tree / "job-a" / ("d" * 32) / "manifest.json").write_text("{not json")
    write_manifest(tree, "job-b", "e" * 32)
    (tree / "job-b" / ("e" * 32) / "manifest.json").write_text('{"job_id": "job-b"}')
    moved = write_manifest(tree, "job-b", "f" * 32)
    moved.rename(tree / "job-b" / ("0" * 32))
    (tree / "job-b" / ("1" * 32)).mkdir()
    (tree / "job-b" / f".tmp-{'2' * 32}-123-abcd").mkdir()
    result = reindex(tree, default_db_path(tree))
    assert result.indexed == 3
    reasons = {s.path.relative_to(tree).as_posix(): s.reason for s in result.skipped}
    assert set(reasons) == {
        f"job-a/{'d' * 32}/manifest.json",
        f"job-b/{'e' * 32}/manifest.json",
        f"job-b/{'0' * 32}/manifest.json",
        f"job-b/{'1' * 32}",
        f"job-b/.tmp-{'2' * 32}-123-abcd",
    }
    assert "not a valid manifest" in reasons[f"job-a/{'d' * 32}/manifest.json"]
    assert "run_id" in reasons[f"job-b/{'e' * 32}/manifest.json"]
    assert "lives in" in reasons[f"job-b/{'0' * 32}/manifest.json"]
    assert "no manifest.json" in reasons[f"job-b/{'1' * 32}"]


def test_deleted_index_is_rebuilt_with_the_same_rows(tree: Path) -> None:
    db = default_db_path(tree)
    reindex(tree, db)
    before = dump(db)
    db.unlink()
    reindex(tree, db)
    assert dump(db) == before


def test_a_failed_rebuild_leaves_the_old_index_and_no_temp_file(tree: Path) -> None:
    db = default_db_path(tree)
    reindex(tree, db)
    before = dump(db)
    write_manifest(tree, "job-c", "9" * 32)

    def crash(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        reindex(tree, db, crash)
    assert dump(db) == before
    assert sorted(p.name for p in db.parent.iterdir()) == ["index.sqlite", "index.sqlite.lock"]


def test_stale_temp_of_a_dead_rebuild_is_removed(tree: Path) -> None:
    db = default_db_path(tree)
    db.parent.mkdir(parents=True)
    stale = db.with_name(".index.sqlite.tmp-999999999-abcd")
    stale.write_bytes(b"half")
    reindex(tree, db)
    assert not stale.exists()


def test_runs_published_or_removed_during_the_scan_are_caught_before_the_swap(tree: Path) -> None:
    db = default_db_path(tree)
    late: list[Path] = []

    def publish_while_scanning(done: int, total: int) -> None:
        if done == total and not late:
            late.append(write_manifest(tree, "job-c", "9" * 32))
            os.rename(tree / "job-b" / ("c" * 32), tree / "job-b" / f".trash-{'c' * 32}-ab")

    result = reindex(tree, db, publish_while_scanning)
    assert {r["run_id"][0] for r in query_runs(db, tree, RunFilters())} == {"a", "b", "9"}
    assert result.indexed == 3
    assert [s.path.name for s in result.skipped] == [f".trash-{'c' * 32}-ab"]


def test_swap_waits_for_readers_of_the_old_file_and_keeps_it_if_they_stay(tree: Path) -> None:
    db = default_db_path(tree)
    reindex(tree, db)
    new = db.with_name("other.sqlite")
    reindex(tree, new)
    with backend.connect(db) as reader:
        reader.execute("SELECT count(*) FROM runs").fetchone()
        with pytest.raises(backend.IndexBusyError):
            backend.swap_in(new, db, timeout=0.2)
    assert new.exists() and db.exists()
    backend.swap_in(new, db, timeout=0.2)
    assert not new.exists() and len(dump(db)["runs"]) == 3


def test_record_run_upserts_into_an_existing_index(tree: Path) -> None:
    db = default_db_path(tree)
    reindex(tree, db)
    run_dir = write_manifest(tree, "job-c", "9" * 32, status="partial")
    record_run(tree, run_dir)
    record_run(tree, run_dir)  # idempotent
    assert {r["run_id"][0] for r in query_runs(db, tree, RunFilters(status="partial"))} == {"9"}
    assert len(dump(db)["input_snapshots"]) == 20


def test_record_run_leaves_an_absent_index_absent(tree: Path) -> None:
    record_run(tree, tree / "job-a" / ("a" * 32))
    assert not default_db_path(tree).exists()


def test_record_run_never_raises(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "index-is-a-folder"
    folder.mkdir()
    monkeypatch.setenv("SIGILCTL_INDEX", str(folder))
    record_run(tree, tree / "job-a" / ("a" * 32))
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not a database" * 100)
    monkeypatch.setenv("SIGILCTL_INDEX", str(garbage))
    record_run(tree, tree / "job-a" / ("a" * 32))
    messages = [r.getMessage() for r in caplog.records if r.name == "sigilctl.index"]
    assert len(messages) == 2 and all("was not updated" in m for m in messages)


def test_record_run_gives_up_quickly_when_the_index_is_locked(
    tree: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    db = default_db_path(tree)
    reindex(tree, db)
    monkeypatch.setattr(backend, "WRITE_TIMEOUT_S", 0.1)
    run_dir = write_manifest(tree, "job-c", "9" * 32)
    with backend.writer_lock(db, 1.0):
        record_run(tree, run_dir)
    assert any("locked by another process" in r.getMessage() for r in caplog.records)
    assert len(dump(db)["runs"]) == 3


def test_an_index_from_a_newer_sigilctl_is_refused_with_advice(tree: Path) -> None:
    db = default_db_path(tree)
    reindex(tree, db)
    with backend.connect(db) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (999, 'm999_future')")
    with pytest.raises(StorageError, match="newer sigilctl"):
        query_runs(db, tree, RunFilters())


def test_an_older_index_is_migrated_on_read(tree: Path) -> None:
    db = default_db_path(tree)
    db.parent.mkdir(parents=True)
    with backend.connect(db) as conn:
        conn.execute(backend.schema.CREATE_MIGRATIONS_TABLE)
    assert query_runs(db, tree, RunFilters()) == []
    with backend.connect(db) as conn:
        assert backend.schema_state(conn) == "current"


def test_bad_input_is_refused(tree: Path) -> None:
    with pytest.raises(InputError, match="--status 'done'"):
        RunFilters(status="done").checked()
    with pytest.raises(InputError, match="--since 'yesterday'"):
        RunFilters(since="yesterday").checked()
    with pytest.raises(InputError, match="does not exist"):
        reindex(tree / "missing", default_db_path(tree))
    with pytest.raises(InputError, match="is a directory"):
        reindex(tree, tree)


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
    assert default_db_path(tmp_path) == tmp_path / ".sigilctl" / "index.sqlite"
    monkeypatch.setenv("SIGILCTL_INDEX", str(tmp_path / "env.sqlite"))
    assert default_db_path(tmp_path) == tmp_path / "env.sqlite"
    assert default_db_path(tmp_path, tmp_path / "flag.sqlite") == tmp_path / "flag.sqlite"
