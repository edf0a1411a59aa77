"""The PostgreSQL index: a rebuild against a plain COPY, and ``runs --job X --limit 50`` at a
million rows (server time from EXPLAIN ANALYZE, and the plan).

Needs PostgreSQL at 127.0.0.1:5432 (SIGILCTL_TEST_PGHOST/PORT move it); each run works in a
database of its own, dropped afterwards. The rebuild's baseline is the least any PostgreSQL
indexer must do: list the run folders, parse every manifest with orjson and COPY the same rows
into the same tables (primary keys included) in one transaction. Ours also validates every
manifest, walks history, builds the secondary indexes, ANALYZEs, takes a second look at what
changed under the writer lock and swaps the schema in.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson

from benchmarks import Row, best_of
from benchmarks.reindex import generate
from sigilctl.index import index_location, open_index, schema
from sigilctl.index.query import RunFilters

HOST = os.environ.get("SIGILCTL_TEST_PGHOST", "127.0.0.1")
PORT = os.environ.get("SIGILCTL_TEST_PGPORT", "5432")
MILLION = 1_000_000


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"postgresql://{HOST}:{PORT}/test", autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def _floor(artifacts: Path, url: str) -> int:
    """List, parse with orjson, COPY the same rows into fresh tables: nothing else."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS floor CASCADE")
        conn.execute("CREATE SCHEMA floor")
        for migration in schema.fresh_migrations():
            for statement in migration.statements:
                conn.execute(schema.POSTGRES.sql(statement, "floor."))  # type: ignore[arg-type]
        runs: list[tuple[Any, ...]] = []
        snapshots: list[tuple[Any, ...]] = []
        files: list[tuple[Any, ...]] = []
        for job in os.scandir(artifacts):
            if job.name.startswith("."):
                continue
            for run in os.scandir(job.path):
                with open(os.path.join(run.path, "manifest.json"), "rb") as handle:
                    m = orjson.loads(handle.read())
                key = (m["job_id"], m["run_id"], m["execution_id"])
                usage, provider = m.get("usage") or {}, m.get("provider") or {}
                cost = (m.get("cost") or {}).get("total")
                runs.append((*key, 1, m["inputs_hash"], m.get("job_type"), m.get("brand"),
                    m["status"], m.get("started_at"), m.get("finished_at"), m.get("duration_ms"),
                    provider.get("name"), provider.get("model"), int(provider.get("offline")),
                    usage.get("prompt_tokens"), usage.get("completion_tokens"),
                    usage.get("total_tokens"), cost, None if cost is None else round(cost * 1e9),
                    m.get("langfuse_trace_id"), m.get("langfuse_host"), m.get("queue_job_id"),
                    m.get("error"), m.get("schema_version"), m.get("sigilctl_version"),
                    m.get("pipeline_version"), f"{job.name}/{run.name}"))  # fmt: skip
                for name, e in m["input_snapshots"].items():
                    snapshots.append((*key, name, e["path"], e["sha256"], e["bytes"]))
                for a in m["artifacts"]:
                    files.append((*key, a["path"], a["sha256"], a["bytes"]))
        with conn.transaction(), conn.cursor() as cursor:
            for table, rows in (
                ("executions", runs),
                ("input_snapshots", snapshots),
                ("artifacts", files),
            ):
                columns = ", ".join(schema.TABLES[table])
                with cursor.copy(f"COPY floor.{table} ({columns}) FROM STDIN") as copy:  # type: ignore[arg-type]
                    for row in rows:
                        copy.write_row(row)
        return len(runs)


def _rebuild(quick: bool, url: str) -> Row:
    count = 10_000 if quick else 100_000
    with tempfile.TemporaryDirectory(prefix="sigilctl-bench-pg-") as tmp:
        artifacts = generate(Path(tmp), count)
        index = open_index(index_location(artifacts, url), artifacts)
        assert index.reindex().indexed == count
        assert _floor(artifacts, url) == count
        ours, base = float("inf"), float("inf")
        for _ in range(2 if not quick else 3):
            ours = min(ours, best_of(index.reindex, repeat=1))
            base = min(base, best_of(lambda: _floor(artifacts, url), repeat=1))
    return Row(
        f"PostgreSQL reindex {count:,} runs",
        ours,
        "orjson parse + COPY of the same rows",
        base,
        goal="≤ 1.5",
        extra=f"{count / ours:,.0f} runs/s (baseline {count / base:,.0f} runs/s)",
    )


FILL = """
INSERT INTO sigilctl.executions
SELECT 'job-' || lpad((i %% 1000)::text, 4, '0'),
       md5(i::text), 'e-' || i, 1, md5('h' || i) || md5('i' || i),
       'instagram_copy', (ARRAY['acme', 'north', 'sigilzero'])[1 + i %% 3],
       (ARRAY['succeeded', 'succeeded', 'succeeded', 'failed'])[1 + i %% 4],
       to_char(timestamp '2026-01-01' + i * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
       to_char(timestamp '2026-01-01' + i * interval '1 second' + interval '500 ms',
               'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
       500, 'openai', 'gpt-4o-mini', 0, 900, 300, 1200, 0.000315, 315000,
       NULL, NULL, NULL, NULL, '1.2.0', '0.1.0', '1.0.0',
       'job-' || lpad((i %% 1000)::text, 4, '0') || '/' || md5(i::text)
FROM generate_series(1, %s) AS i
"""


def _latency(quick: bool, url: str) -> list[Row]:
    import psycopg

    count = 100_000 if quick else MILLION
    job = "job-0042"
    with tempfile.TemporaryDirectory(prefix="sigilctl-bench-pg-runs-") as tmp:
        artifacts = Path(tmp, "artifacts")
        index = open_index(index_location(artifacts, url), artifacts)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP SCHEMA IF EXISTS sigilctl CASCADE")
            from sigilctl.index import postgres

            postgres.migrate(conn, "sigilctl.", indexes=False)
            conn.execute(FILL, (count,))  # type: ignore[arg-type]
            postgres.create_indexes(postgres.PgExecutor(conn, "sigilctl."))
            conn.execute("ANALYZE sigilctl.executions")
            run_ids = [
                r[0]
                for r in conn.execute(
                    "SELECT run_id FROM sigilctl.executions WHERE job_id = %s", (job,)
                )
            ]
            latest = conn.execute(
                "SELECT DISTINCT ON (job_id) run_dir FROM sigilctl.executions "
                "ORDER BY job_id, finished_at DESC"
            ).fetchall()
            # The folders exist (readers list only runs on disk): this job's, and each latest.
            for stored in [f"{job}/{r}" for r in run_ids] + [r for (r,) in latest]:
                Path(artifacts, stored).mkdir(parents=True, exist_ok=True)
            names, params = RunFilters(job_id=job, limit=50).clauses()
            sql = schema.POSTGRES.sql(schema.select_runs(names, history=False), "sigilctl.")
            plan = conn.execute(
                f"EXPLAIN (ANALYZE, BUFFERS) {sql}",  # type: ignore[arg-type]
                [*params, 50, 0],
            ).fetchall()
            server_ms = _execution_ms(plan)
            print(f"\n-- plan of runs --job {job} --limit 50 over {count:,} rows")
            print("\n".join(line for (line,) in plan))
            pk = "SELECT * FROM sigilctl.executions WHERE job_id = %s AND run_id = %s"
            pk_plan = conn.execute(f"EXPLAIN ANALYZE {pk}", (job, run_ids[0])).fetchall()  # type: ignore[arg-type]
            pk_ms = _execution_ms(pk_plan)
        client = best_of(lambda: index.runs(RunFilters(job_id=job, limit=50)), repeat=7)
        latest = best_of(index.latest_per_job, repeat=3)
        stats = best_of(index.stats, repeat=3)
        one = best_of(
            lambda: index.runs(RunFilters(job_id=job, limit=1)),
            repeat=7,
        )
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP SCHEMA sigilctl CASCADE")
    return [
        Row(
            f"runs --job X --limit 50, {count:,} rows (server)",
            server_ms / 1000,
            "primary-key lookup of one row (server)",
            pk_ms / 1000,
            goal="< 50 ms",
        ),
        Row(
            f"runs --job X --limit 50, {count:,} rows (client)",
            client,
            "the same with --limit 1 (client)",
            one,
            extra="connect + state check + query + folder checks",
        ),
        Row(f"latest run of each of 1,000 jobs, {count:,} rows", latest, "runs --limit 50", client),
        Row(f"stats --by job_id, {count:,} rows", stats, "runs --limit 50", client),
    ]


def _execution_ms(plan: list[tuple[Any, ...]]) -> float:
    for (line,) in plan:
        if line.startswith("Execution Time:"):
            return float(line.split()[2])
    raise ValueError("no execution time in the plan")


def run(quick: bool) -> list[Row]:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        print("postgres_index: psycopg is not installed (pip install 'sigilctl[postgres]')")
        return []
    name = f"sigilctl_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        _admin(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        print(f"postgres_index: PostgreSQL is not reachable at {HOST}:{PORT} ({exc})")
        return []
    url = f"postgresql://{HOST}:{PORT}/{name}"
    try:
        started = time.perf_counter()
        rows = [_rebuild(quick, url)]
        rows += _latency(quick, url)
        print(f"(postgres_index took {time.perf_counter() - started:.0f} s)")
        return rows
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
