"""The index schema and every SQL statement the index runs, for both backends, in one place.

Statements are written once with ``?`` placeholders and ``{s}`` before every table name; a
``Dialect`` renders them for SQLite (no prefix) or PostgreSQL (``%s`` placeholders and a schema
prefix, so a rebuild can fill a fresh schema and swap it in). Key text columns are ``COLLATE "C"``
in PostgreSQL so both backends order text by bytes and give the same answers.

Migrations are named and numbered, applied in order, each inside one transaction, and recorded
in ``schema_migrations``. A *baseline* migration changes what a row means (m002: one row per
execution instead of one per run): an index older than it cannot be migrated in place, since
the new rows need the manifests, so it is rebuilt whole from them; a fresh index starts at the
latest baseline. Never edit an applied migration: append one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Migration:
    """One schema step: its version, a name that says what it does, and its statements.

    ``indexes`` are created after the tables are filled when an index is built from scratch.
    """

    version: int
    name: str
    statements: tuple[str, ...]
    indexes: tuple[str, ...] = ()
    baseline: bool = False


@dataclass(frozen=True)
class Dialect:
    name: str
    placeholder: str
    key_type: str  # text compared and ordered the same way in both backends

    @cache  # noqa: B019 - a handful of constant statements per dialect and prefix
    def sql(self, statement: str, prefix: str = "") -> str:
        text = statement.replace("{key}", self.key_type).replace("{s}", prefix)
        return text.replace("?", self.placeholder) if self.placeholder != "?" else text


SQLITE = Dialect("sqlite", "?", "TEXT")
POSTGRES = Dialect("postgresql", "%s", 'TEXT COLLATE "C"')

CREATE_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS {s}schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
)"""
SELECT_MIGRATIONS = "SELECT version, name FROM {s}schema_migrations ORDER BY version"
INSERT_MIGRATION = "INSERT INTO {s}schema_migrations (version, name) VALUES (?, ?)"

# The order every listing uses (SPEC §7: latest finished_at, ties by run_id), total over rows.
ORDER = "COALESCE(finished_at, '') DESC, run_id DESC, job_id DESC, execution_id DESC"
SINCE_EXPR = "COALESCE(started_at, finished_at)"

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "m001_runs_snapshots_artifacts",
        (
            """
            CREATE TABLE {s}runs (
                job_id TEXT NOT NULL, run_id TEXT NOT NULL, inputs_hash TEXT NOT NULL,
                job_type TEXT, brand TEXT, status TEXT NOT NULL, started_at TEXT,
                finished_at TEXT, duration_ms INTEGER, provider TEXT, model TEXT,
                offline INTEGER, prompt_tokens INTEGER, completion_tokens INTEGER,
                total_tokens INTEGER, langfuse_trace_id TEXT, error TEXT, schema_version TEXT,
                sigilctl_version TEXT, pipeline_version TEXT, run_dir TEXT NOT NULL,
                PRIMARY KEY (job_id, run_id)
            )""",
        ),
    ),
    Migration(
        2,
        "m002_executions",
        (
            """
            CREATE TABLE {s}executions (
                job_id {key} NOT NULL,
                run_id {key} NOT NULL,
                execution_id {key} NOT NULL,
                is_current SMALLINT NOT NULL,
                inputs_hash TEXT NOT NULL,
                job_type {key},
                brand {key},
                status {key} NOT NULL,
                started_at {key},
                finished_at {key},
                duration_ms BIGINT,
                provider TEXT,
                model TEXT,
                offline SMALLINT,
                prompt_tokens BIGINT,
                completion_tokens BIGINT,
                total_tokens BIGINT,
                cost_usd DOUBLE PRECISION,
                cost_nanousd BIGINT,
                langfuse_trace_id TEXT,
                langfuse_host TEXT,
                queue_job_id TEXT,
                error TEXT,
                schema_version TEXT,
                sigilctl_version TEXT,
                pipeline_version TEXT,
                run_dir TEXT NOT NULL,
                PRIMARY KEY (job_id, run_id, execution_id)
            )""",
            """
            CREATE TABLE {s}input_snapshots (
                job_id {key} NOT NULL,
                run_id {key} NOT NULL,
                execution_id {key} NOT NULL,
                name {key} NOT NULL,
                path TEXT NOT NULL,
                sha256 TEXT NOT NULL,
                bytes BIGINT NOT NULL,
                PRIMARY KEY (job_id, run_id, execution_id, name)
            )""",
            """
            CREATE TABLE {s}artifacts (
                job_id {key} NOT NULL,
                run_id {key} NOT NULL,
                execution_id {key} NOT NULL,
                path {key} NOT NULL,
                sha256 TEXT NOT NULL,
                bytes BIGINT NOT NULL,
                PRIMARY KEY (job_id, run_id, execution_id, path)
            )""",
        ),
        indexes=(
            # runs (current executions), newest first; and per job (also the latest-run lookup)
            "CREATE INDEX executions_current_order ON {s}executions "
            "(COALESCE(finished_at, ''), run_id, job_id, execution_id) WHERE is_current = 1",
            "CREATE INDEX executions_current_job ON {s}executions "
            "(job_id, COALESCE(finished_at, ''), run_id, execution_id) WHERE is_current = 1",
            # runs --history, newest first
            "CREATE INDEX executions_order ON {s}executions "
            "(COALESCE(finished_at, ''), run_id, job_id, execution_id)",
            # --since (runs and stats)
            f"CREATE INDEX executions_started ON {{s}}executions ({SINCE_EXPR})",
            # a run_id or a prefix of one, whatever its job
            "CREATE INDEX executions_run_id ON {s}executions (run_id)",
        ),
        baseline=True,
    ),
)

RUN_COLUMNS: tuple[str, ...] = (
    "job_id",
    "run_id",
    "execution_id",
    "is_current",
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
    "cost_usd",
    "cost_nanousd",
    "langfuse_trace_id",
    "langfuse_host",
    "queue_job_id",
    "error",
    "schema_version",
    "sigilctl_version",
    "pipeline_version",
    "run_dir",
)
SNAPSHOT_COLUMNS = ("job_id", "run_id", "execution_id", "name", "path", "sha256", "bytes")
ARTIFACT_COLUMNS = ("job_id", "run_id", "execution_id", "path", "sha256", "bytes")
TABLES = {
    "executions": RUN_COLUMNS,
    "input_snapshots": SNAPSHOT_COLUMNS,
    "artifacts": ARTIFACT_COLUMNS,
}

# Statements built from the constant column lists above (never from input: values are bound).
_KEY = ("job_id", "run_id", "execution_id")
_COLUMNS = ", ".join(RUN_COLUMNS)
_UPDATES = ", ".join(f"{c} = excluded.{c}" for c in RUN_COLUMNS if c not in _KEY)


def _insert(table: str) -> str:
    columns = TABLES[table]
    marks = ", ".join("?" * len(columns))
    return f"INSERT INTO {{s}}{table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608


INSERT_RUN = _insert("executions")
UPSERT_RUN = f"{INSERT_RUN} ON CONFLICT (job_id, run_id, execution_id) DO UPDATE SET {_UPDATES}"
INSERT_SNAPSHOT = _insert("input_snapshots")
INSERT_ARTIFACT = _insert("artifacts")
DELETE_CHILDREN = tuple(
    f"DELETE FROM {{s}}{table} WHERE job_id = ? AND run_id = ? AND execution_id = ?"  # noqa: S608
    for table in ("input_snapshots", "artifacts")
)
DELETE_EXECUTION = "DELETE FROM {s}executions WHERE job_id = ? AND run_id = ? AND execution_id = ?"
SELECT_EXECUTION_IDS = "SELECT execution_id FROM {s}executions WHERE job_id = ? AND run_id = ?"

# Filters of ``sigilctl runs``: each is a column compared with one parameter.
FILTER_CLAUSES: dict[str, str] = {
    "job_id": "job_id = ?",
    "brand": "brand = ?",
    "job_type": "job_type = ?",
    "status": "status = ?",
    "since": f"{SINCE_EXPR} >= ?",
}


def select_runs(filters: list[str], *, history: bool) -> str:
    """Executions matching every named filter, newest first, one page (LIMIT ? OFFSET ?).

    ``is_current = 1`` is a literal so the planner can use the partial indexes.
    """
    clauses = [] if history else ["is_current = 1"]
    clauses += [FILTER_CLAUSES[name] for name in filters]
    sql = f"SELECT {_COLUMNS} FROM {{s}}executions"  # noqa: S608 (constant columns, bound values)
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    return sql + f" ORDER BY {ORDER} LIMIT ? OFFSET ?"


# The latest current execution of every job: a loose scan over the job ids (one index probe per
# job, not a pass over every row), then each job's newest current run by the partial index.
SELECT_LATEST_PER_JOB = f"""
WITH RECURSIVE jobs(job_id) AS (
    SELECT MIN(job_id) FROM {{s}}executions WHERE is_current = 1
    UNION ALL
    SELECT (SELECT MIN(e.job_id) FROM {{s}}executions e
            WHERE e.is_current = 1 AND e.job_id > jobs.job_id)
    FROM jobs WHERE jobs.job_id IS NOT NULL
)
SELECT {", ".join(f"x.{c}" for c in RUN_COLUMNS)}
FROM jobs JOIN {{s}}executions x ON x.job_id = jobs.job_id AND x.is_current = 1
    AND x.run_id = (
        SELECT y.run_id FROM {{s}}executions y
        WHERE y.job_id = jobs.job_id AND y.is_current = 1
        ORDER BY COALESCE(y.finished_at, '') DESC, y.run_id DESC LIMIT 1
    )
ORDER BY x.job_id
"""  # noqa: S608 (constant columns)

STATS_KEYS: dict[str, str] = {
    "job_id": "job_id",
    "brand": "brand",
    "job_type": "job_type",
    "day": f"SUBSTR({SINCE_EXPR}, 1, 10)",
}


def select_stats(by: str, *, since: bool) -> str:
    """Counts, tokens and cost per key over every execution (history included)."""
    key = STATS_KEYS[by]
    sql = (
        f"SELECT {key} AS k, COUNT(*), "  # noqa: S608 (constant expressions)
        "SUM(CASE WHEN status = 'succeeded' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), "
        "CAST(COALESCE(SUM(prompt_tokens), 0) AS BIGINT), "
        "CAST(COALESCE(SUM(completion_tokens), 0) AS BIGINT), "
        "CAST(SUM(cost_nanousd) AS BIGINT), "
        "SUM(CASE WHEN cost_nanousd IS NULL THEN 1 ELSE 0 END) "
        "FROM {s}executions"
    )
    if since:
        sql += f" WHERE {SINCE_EXPR} >= ?"
    return sql + f" GROUP BY {key}"


def fresh_migrations() -> tuple[Migration, ...]:
    """What a new, empty index applies: the latest baseline and everything after it."""
    start = max(i for i, m in enumerate(MIGRATIONS) if m.baseline)
    return MIGRATIONS[start:]


def latest_baseline() -> int:
    return max(m.version for m in MIGRATIONS if m.baseline)


SELECT_STATUS_COUNTS = (
    "SELECT status, COUNT(*) FROM {s}executions WHERE is_current = 1 GROUP BY status"
)


def select_durations(buckets: int) -> str:
    """Current runs with a duration: count, total ms, and how many at or under each bound."""
    cases = "".join(", SUM(CASE WHEN duration_ms <= ? THEN 1 ELSE 0 END)" for _ in range(buckets))
    return (
        "SELECT COUNT(*), CAST(COALESCE(SUM(duration_ms), 0) AS BIGINT)"  # noqa: S608
        f"{cases} FROM {{s}}executions WHERE is_current = 1 AND duration_ms IS NOT NULL"
    )


def classify(tables: set[str], applied: set[int]) -> str:
    """The state of an index from its tables and the migrations recorded in it (both
    backends): foreign/damaged, newer, older, damaged, current or behind. ``tables`` is not
    empty and holds ``schema_migrations`` (the callers tell those cases apart first)."""
    known = {m.version for m in MIGRATIONS}
    if applied - known:
        return "newer"
    if latest_baseline() not in applied:
        return "older" if applied else "damaged"
    if not set(TABLES) <= tables:
        return "damaged"
    return "current" if applied == known else "behind"
