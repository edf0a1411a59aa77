"""Both index backends for the tests: ``index_setting`` is None (the default SQLite file) or the
URL of a PostgreSQL database made for this test session (dropped at its end; each test starts
with no index in it). Tests that take it run once per backend.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sigilctl.index.location import IndexLocation
from sigilctl.manifest import ArtifactEntry, CostRecord, Manifest, SnapshotEntry, UsageRecord
from tests.services import POSTGRES_HOST, POSTGRES_PORT, require_postgres, unique_name

ADMIN_URL = f"postgresql://{POSTGRES_HOST}:{POSTGRES_PORT}/test"
TABLES = ("executions", "input_snapshots", "artifacts")


def pg_url(database: str) -> str:
    return f"postgresql://{POSTGRES_HOST}:{POSTGRES_PORT}/{database}"


def admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def reset_schemas(url: str) -> None:
    """No index (and no leftover build schema) in the database at ``url``."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        names = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'sigilctl%%'"
        ).fetchall()
        for (name,) in names:
            conn.execute(f'DROP SCHEMA "{name}" CASCADE')


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A PostgreSQL database of this test session's own, dropped afterwards."""
    require_postgres()
    name = unique_name("sigilctl_test")
    admin(f'CREATE DATABASE "{name}"')
    try:
        yield pg_url(name)
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_index(pg_database: str) -> str:
    """The session database, emptied of any index: its URL."""
    reset_schemas(pg_database)
    return pg_database


@pytest.fixture(params=["sqlite", "postgresql"])
def index_setting(request: pytest.FixtureRequest) -> str | None:
    """None for the default SQLite file, else a PostgreSQL URL with no index in it yet."""
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("postgres_index")
    return url


def dump(location: IndexLocation) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every data table, in a stable order."""
    if location.kind == "sqlite":
        conn = sqlite3.connect(location.sqlite_path)
        try:
            return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in TABLES}
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(location.postgres_url) as pg:
        return {t: sorted(pg.execute(f"SELECT * FROM sigilctl.{t}").fetchall()) for t in TABLES}


def index_exists(location: IndexLocation) -> bool:
    if location.kind == "sqlite":
        return location.sqlite_path.exists()
    import psycopg

    with psycopg.connect(location.postgres_url) as pg:
        found = pg.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'sigilctl'").fetchone()
    return found is not None


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
    execution: str | None = None,
    execution_id: str | None = None,
    cost: float | None = None,
    tokens: tuple[int, int] = (1, 2),
    duration_ms: int | None = None,
) -> Path:
    """A hand-written run folder (manifest only: the index never reads the other files);
    ``execution`` puts it in the run's history under that folder name."""
    run_dir = artifacts / job_id / run_id
    if execution is not None:
        run_dir = artifacts / job_id / ".history" / run_id / execution
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
        usage=UsageRecord(
            prompt_tokens=tokens[0], completion_tokens=tokens[1], total_tokens=sum(tokens)
        ),
        execution_id=execution_id,
        duration_ms=duration_ms,
        cost=None if cost is None else CostRecord(total=cost, source="test"),
    )
    (run_dir / "manifest.json").write_bytes(manifest.to_bytes())
    return run_dir
