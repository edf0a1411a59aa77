"""``sigilctl reindex`` over thousands of generated manifests vs a plain parse-and-insert.

The manifests follow SPEC §6 (five input snapshots, three artifacts, usage, provider, cost,
execution_id); the snapshot and output files themselves are not written, since reindex reads
manifests alone. The floor is the least any indexer must do: list the run folders, parse every
manifest with orjson and insert the same rows into SQLite in one transaction. Both are measured
as whole processes (``python -m sigilctl reindex`` against ``python`` running the floor), as an
operator would time them, and in-process. Ours also validates every manifest (pydantic), checks
folder names, normalizes timestamps, walks history, takes a second look at what changed under
the writer lock, fsyncs the new file and swaps it in atomically.
"""

from __future__ import annotations

import hashlib
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson

from benchmarks import Row, best_of
from sigilctl.identity import derive_run_id
from sigilctl.index import index_location, open_index

REPO = Path(__file__).resolve().parents[2]

SNAPSHOTS = ("brief", "doctrine", "context", "model_config", "pipeline")
JOBS = 30


def _hex(rng: random.Random) -> str:
    return hashlib.sha256(rng.randbytes(16)).hexdigest()


def generate(root: Path, count: int, seed: int = 11) -> Path:
    """Write ``count`` manifests under ``root/artifacts/<job>/<run_id>/manifest.json``."""
    rng = random.Random(seed)
    artifacts = root / "artifacts"
    for index in range(count):
        job_id = f"job-{index % JOBS:02d}"
        inputs_hash = _hex(rng)
        run_id = derive_run_id(inputs_hash)
        minute, second = divmod(index, 60)
        manifest = {
            "schema_version": "1.2.0",
            "job_id": job_id,
            "run_id": run_id,
            "inputs_hash": inputs_hash,
            "job_type": "instagram_copy",
            "brand": rng.choice(("acme", "sigilzero", "north")),
            "status": rng.choice(("succeeded",) * 8 + ("failed", "partial")),
            "input_snapshots": {
                name: {
                    "path": f"inputs/{name}.resolved.json",
                    "sha256": _hex(rng),
                    "bytes": rng.randint(200, 6000),
                }
                for name in SNAPSHOTS
            },
            "artifacts": [
                {"path": f"outputs/{name}", "sha256": _hex(rng), "bytes": rng.randint(100, 4000)}
                for name in ("captions.json", "captions.md", "report.json")
            ],
            "langfuse_trace_id": _hex(rng)[:32] if rng.random() < 0.5 else None,
            "started_at": f"2026-01-01T{minute // 60:02d}:{minute % 60:02d}:{second:02d}.000Z",
            "finished_at": f"2026-01-01T{minute // 60:02d}:{minute % 60:02d}:{second:02d}.500Z",
            "duration_ms": 500,
            "sigilctl_version": "0.1.0",
            "error": None,
            "usage": {"prompt_tokens": 900, "completion_tokens": 300, "total_tokens": 1200},
            "provider": {"name": "offline", "model": "offline", "offline": True},
            "pipeline_version": "1.0.0",
            "execution_id": f"20260101T{minute // 60:02d}{minute % 60:02d}{second:02d}.000Z-"
            + _hex(rng)[:8],
            "cost": {"currency": "USD", "total": rng.randint(1, 10**6) / 10**9, "source": "t"},
        }
        run_dir = artifacts / job_id / run_id
        run_dir.mkdir(parents=True)
        (run_dir / "manifest.json").write_bytes(
            orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
        )
    return artifacts


# The floor, as a script of its own: list, parse with orjson, insert the same rows.
FLOOR = r"""
import os, sqlite3, sys
import orjson
from sigilctl.index import schema

def main(artifacts, db):
    if os.path.exists(db):
        os.unlink(db)
    conn = sqlite3.connect(db, isolation_level=None)
    for migration in schema.fresh_migrations():
        for statement in migration.statements:
            conn.execute(schema.SQLITE.sql(statement))
    runs, snapshots, files = [], [], []
    for job in os.scandir(artifacts):
        if job.name.startswith("."):
            continue
        for run in os.scandir(job.path):
            if run.name.startswith("."):
                continue
            with open(os.path.join(run.path, "manifest.json"), "rb") as handle:
                m = orjson.loads(handle.read())
            key = (m["job_id"], m["run_id"], m.get("execution_id"))
            usage, provider = m.get("usage") or {}, m.get("provider") or {}
            cost = (m.get("cost") or {}).get("total")
            runs.append((*key, 1, m["inputs_hash"], m.get("job_type"), m.get("brand"),
                m["status"], m.get("started_at"), m.get("finished_at"), m.get("duration_ms"),
                provider.get("name"), provider.get("model"), provider.get("offline"),
                usage.get("prompt_tokens"), usage.get("completion_tokens"),
                usage.get("total_tokens"), cost, None if cost is None else round(cost * 1e9),
                m.get("langfuse_trace_id"), m.get("langfuse_host"), m.get("queue_job_id"),
                m.get("error"), m.get("schema_version"), m.get("sigilctl_version"),
                m.get("pipeline_version"), f"{job.name}/{run.name}"))
            for name, e in m["input_snapshots"].items():
                snapshots.append((*key, name, e["path"], e["sha256"], e["bytes"]))
            for a in m["artifacts"]:
                files.append((*key, a["path"], a["sha256"], a["bytes"]))
    conn.execute("BEGIN")
    conn.executemany(schema.SQLITE.sql(schema.INSERT_RUN), runs)
    conn.executemany(schema.SQLITE.sql(schema.INSERT_SNAPSHOT), snapshots)
    conn.executemany(schema.SQLITE.sql(schema.INSERT_ARTIFACT), files)
    for migration in schema.fresh_migrations():
        for statement in migration.indexes:
            conn.execute(schema.SQLITE.sql(statement))
    conn.execute("COMMIT")
    conn.close()
    return len(runs)

if __name__ == "__main__":
    print(main(sys.argv[1], sys.argv[2]))
"""


def _process(args: list[str]) -> None:
    subprocess.run([sys.executable, *args], cwd=REPO, check=True, capture_output=True)


def run(quick: bool) -> list[Row]:
    count = 300 if quick else 3000
    with tempfile.TemporaryDirectory(prefix="sigilctl-bench-reindex-") as tmp:
        artifacts = generate(Path(tmp), count)
        ours_db = Path(tmp) / "ours.sqlite"
        floor_db = Path(tmp) / "floor.sqlite"
        script = Path(tmp) / "floor.py"
        script.write_text(FLOOR)
        index = open_index(index_location(artifacts, ours_db), artifacts)
        assert index.reindex().indexed == count

        def ours_process() -> None:
            _process(["-m", "sigilctl", "reindex", "--artifacts", str(artifacts), "--db",
                      str(ours_db), "--json"])  # fmt: skip

        def floor_process() -> None:
            _process([str(script), str(artifacts), str(floor_db)])

        namespace: dict[str, object] = {}
        exec(compile(FLOOR, "floor", "exec"), namespace)
        floor_main = namespace["main"]

        def floor_inline() -> None:
            floor_main(str(artifacts), str(floor_db))  # type: ignore[operator]

        # Interleaved, best of each: a busy machine disturbs both sides alike.
        results = {"op": float("inf"), "fp": float("inf"), "oi": float("inf"), "fi": float("inf")}
        for _ in range(7):
            for name, fn in (
                ("op", ours_process),
                ("fp", floor_process),
                ("oi", index.reindex),
                ("fi", floor_inline),
            ):
                results[name] = min(results[name], best_of(fn, repeat=1))
    return [
        Row(
            f"reindex {count} runs (whole processes)",
            results["op"],
            "floor script: orjson + one insert",
            results["fp"],
            goal="≤ 1.5",
            extra=_rates(count, results["op"], results["fp"]),
        ),
        Row(
            f"reindex {count} runs (in-process)",
            results["oi"],
            "the same floor, in-process",
            results["fi"],
            extra=_rates(count, results["oi"], results["fi"]),
        ),
    ]


def _rates(count: int, ours: float, floor: float) -> str:
    return f"{count / ours:,.0f} runs/s (floor {count / floor:,.0f} runs/s)"
