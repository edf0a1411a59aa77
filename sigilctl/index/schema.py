"""The index schema and every SQL statement the index runs, in one place.

Migrations are named and numbered, applied in order, each inside one transaction, and recorded
in ``schema_migrations``; a database is never migrated twice. The SQL is plain ANSI except the
``?`` placeholders and ``INSERT ... ON CONFLICT``, both of which PostgreSQL also speaks (with
``%s`` placeholders), so a second backend reuses these statements (see docs/index.md).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    """One schema step: its version, a name that says what it does, and its statements."""

    version: int
    name: str
    statements: tuple[str, ...]


CREATE_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
)"""
SELECT_MIGRATIONS = "SELECT version, name FROM schema_migrations ORDER BY version"
INSERT_MIGRATION = "INSERT INTO schema_migrations (version, name) VALUES (?, ?)"

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "m001_runs_snapshots_artifacts",
        (
            """
            CREATE TABLE runs (
                job_id TEXT NOT NULL,
                run_id TEXT NOT NULL,
                inputs_hash TEXT NOT NULL,
                job_type TEXT,
                brand TEXT,
                status TEXT NOT NULL,
                started_at TEXT,
                finished_at TEXT,
                duration_ms INTEGER,
                provider TEXT,
                model TEXT,
                offline INTEGER,
                prompt_tokens INTEGER,
                completion_tokens INTEGER,
                total_tokens INTEGER,
                langfuse_trace_id TEXT,
                error TEXT,
                schema_version TEXT,
                sigilctl_version TEXT,
                pipeline_version TEXT,
                run_dir TEXT NOT NULL,
                PRIMARY KEY (job_id, run_id)
            )""",
            """
            CREATE TABLE input_snapshots (
                job_id TEXT NOT NULL,
                run_id TEXT NOT NULL,
                name TEXT NOT NULL,
                path TEXT NOT NULL,
                sha256 TEXT NOT NULL,
                bytes INTEGER NOT NULL,
                PRIMARY KEY (job_id, run_id, name),
                FOREIGN KEY (job_id, run_id) REFERENCES runs (job_id, run_id) ON DELETE CASCADE
            )""",
            """
            CREATE TABLE artifacts (
                job_id TEXT NOT NULL,
                run_id TEXT NOT NULL,
                path TEXT NOT NULL,
                sha256 TEXT NOT NULL,
                bytes INTEGER NOT NULL,
                PRIMARY KEY (job_id, run_id, path),
                FOREIGN KEY (job_id, run_id) REFERENCES runs (job_id, run_id) ON DELETE CASCADE
            )""",
            "CREATE INDEX runs_finished_at ON runs (finished_at)",
            "CREATE INDEX runs_started_at ON runs (started_at)",
            "CREATE INDEX runs_brand ON runs (brand)",
            "CREATE INDEX runs_job_type ON runs (job_type)",
            "CREATE INDEX runs_status ON runs (status)",
            "CREATE INDEX runs_run_id ON runs (run_id)",
        ),
    ),
)

RUN_COLUMNS: tuple[str, ...] = (
    "job_id",
    "run_id",
    "inputs_hash",
    "job_type",
    "brand",
    "status",
    "started_at",
    "finished_at",
    "duration_ms",
    "provider",
    "model",
    "offline",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "langfuse_trace_id",
    "error",
    "schema_version",
    "sigilctl_version",
    "pipeline_version",
    "run_dir",
)

# Statements built from the constant column list above (never from input: values are bound).
_KEY = ("job_id", "run_id")
_COLUMNS = ", ".join(RUN_COLUMNS)
_VALUES = ", ".join("?" * len(RUN_COLUMNS))
_UPDATES = ", ".join(f"{c} = excluded.{c}" for c in RUN_COLUMNS if c not in _KEY)
UPSERT_RUN = (
    f"INSERT INTO runs ({_COLUMNS}) VALUES ({_VALUES}) "  # noqa: S608
    f"ON CONFLICT (job_id, run_id) DO UPDATE SET {_UPDATES}"
)
DELETE_SNAPSHOTS = "DELETE FROM input_snapshots WHERE job_id = ? AND run_id = ?"
DELETE_ARTIFACTS = "DELETE FROM artifacts WHERE job_id = ? AND run_id = ?"
DELETE_RUN = "DELETE FROM runs WHERE job_id = ? AND run_id = ?"
INSERT_SNAPSHOT = (
    "INSERT INTO input_snapshots (job_id, run_id, name, path, sha256, bytes) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
INSERT_ARTIFACT = (
    "INSERT INTO artifacts (job_id, run_id, path, sha256, bytes) VALUES (?, ?, ?, ?, ?)"
)

# Filters of ``sigilctl runs``: each is a column compared with one parameter.
FILTER_CLAUSES: dict[str, str] = {
    "job_id": "job_id = ?",
    "brand": "brand = ?",
    "job_type": "job_type = ?",
    "status": "status = ?",
    "since": "COALESCE(started_at, finished_at) >= ?",
}


def select_runs(filters: list[str], *, limited: bool) -> str:
    """Runs matching every named filter, newest first (SPEC §7: latest finished_at, then run_id)."""
    where = " AND ".join(FILTER_CLAUSES[name] for name in filters)
    sql = f"SELECT {_COLUMNS} FROM runs"  # noqa: S608 (constant columns, bound values)
    if where:
        sql += f" WHERE {where}"
    sql += " ORDER BY finished_at DESC NULLS LAST, run_id DESC, job_id DESC"
    if limited:
        sql += " LIMIT ?"
    return sql
