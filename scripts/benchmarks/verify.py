"""``verify --all`` core over thousands of generated runs vs a plain read-and-hash loop.

The runs are generated as SPEC §4/§6 describe (canonical snapshot files, their hashes,
inputs_hash, run_id, manifest), not by calling ``run``: five snapshots of ~1–6 KB and one output
file each. The baseline is the least any verifier must do: a single-threaded loop that parses
every manifest and reads and hashes every file it lists. Ours also checks canonical form, sizes,
ids, folder names, unlisted files and trace ids.
"""

from __future__ import annotations

import hashlib
import random
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson

from benchmarks import Row, best_of
from sigilctl.canonical import canonical_bytes
from sigilctl.identity import compute_inputs_hash, derive_run_id, snapshot_path
from sigilctl.verify.batch import default_workers, discover_runs, verify_many
from sigilctl.verify.run_check import verify_run

WORDS = (
    "brand",
    "voice",
    "caption",
    "audit",
    "provenance",
    "reproducible",
    "cache",
    "launch",
    "proof",
    "canonical",
    "snapshot",
    "governed",
    "pipeline",
    "doctrine",
    "context",
    "retrieval",
    "evidence",
    "trace",
    "model",
    "seed",
    "honest",
    "clear",
)


def _text(rng: random.Random, size: int) -> str:
    words: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(WORDS)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)


def _snapshots(rng: random.Random, index: int) -> dict[str, object]:
    def sized(low: int, high: int) -> str:
        return _text(rng, rng.randint(low, high))

    return {
        "brief": {
            "job_id": f"job-{index % 20:02d}",
            "brand": "acme",
            "params": {"topic": sized(200, 600), "count": 3, "notes": sized(600, 4000)},
        },
        "doctrine": {
            "id": "voice",
            "version": "1.0",
            "path": "brands/acme/doctrine.md",
            "text": sized(1000, 5500),
        },
        "context": {
            "query": "audit",
            "top_k": 3,
            "documents": [
                {"path": f"ctx/{i}.md", "rank": i, "text": sized(300, 1800)} for i in range(1, 4)
            ],
        },
        "model_config": {
            "provider": "offline",
            "name": "m",
            "temperature": 0.7,
            "max_tokens": 800,
            "seed": index,
            "pad": sized(900, 2000),
        },
        "pipeline": {
            "job_type": "instagram_copy",
            "version": "1.0.0",
            "template": sized(1000, 5000),
        },
    }


def generate(root: Path, count: int, seed: int = 7) -> Path:
    """Write ``count`` runs under ``root/artifacts`` and return that folder."""
    rng = random.Random(seed)
    artifacts = root / "artifacts"
    for index in range(count):
        data = {n: canonical_bytes(v) for n, v in _snapshots(rng, index).items()}
        hashes = {n: hashlib.sha256(b).hexdigest() for n, b in data.items()}
        inputs_hash = compute_inputs_hash(hashes)
        run_id = derive_run_id(inputs_hash)
        job_id = f"job-{index % 20:02d}"
        run_dir = artifacts / job_id / run_id
        (run_dir / "inputs").mkdir(parents=True)
        (run_dir / "outputs").mkdir()
        for name, blob in data.items():
            (run_dir / snapshot_path(name)).write_bytes(blob)
        output = orjson.dumps({"captions": [_text(rng, 300) for _ in range(3)]})
        (run_dir / "outputs/captions.json").write_bytes(output)
        manifest = {
            "schema_version": "1.2.0",
            "job_id": job_id,
            "run_id": run_id,
            "inputs_hash": inputs_hash,
            "job_type": "instagram_copy",
            "brand": "acme",
            "status": "succeeded",
            "input_snapshots": {
                n: {"path": snapshot_path(n), "sha256": hashes[n], "bytes": len(b)}
                for n, b in data.items()
            },
            "artifacts": [
                {
                    "path": "outputs/captions.json",
                    "sha256": hashlib.sha256(output).hexdigest(),
                    "bytes": len(output),
                }
            ],
            "langfuse_trace_id": None,
            "started_at": "2025-01-01T00:00:00.000Z",
            "finished_at": "2025-01-01T00:00:01.000Z",
            "sigilctl_version": "0",
            "error": None,
        }
        (run_dir / "manifest.json").write_bytes(
            orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
        )
    return artifacts


def baseline(run_dirs: list[Path]) -> int:
    """The floor: parse each manifest, read and hash each listed file, one thread."""
    hashed = 0
    for run_dir in run_dirs:
        manifest = orjson.loads((run_dir / "manifest.json").read_bytes())
        entries = list(manifest["input_snapshots"].values()) + manifest["artifacts"]
        for entry in entries:
            if (
                hashlib.sha256((run_dir / entry["path"]).read_bytes()).hexdigest()
                == entry["sha256"]
            ):
                hashed += 1
    return hashed


def _threads(run_dirs: list[Path], workers: int) -> list[object]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(verify_run, run_dirs, chunksize=64))


def run(quick: bool) -> list[Row]:
    count = 300 if quick else 3000
    repeat = 3 if quick else 5
    workers = default_workers()
    with tempfile.TemporaryDirectory(prefix="sigilctl-bench-verify-") as tmp:
        artifacts = generate(Path(tmp), count)
        run_dirs = discover_runs(artifacts)
        assert len(run_dirs) == count
        assert all(r.ok for r in verify_many(run_dirs)), "generated runs must verify clean"
        assert baseline(run_dirs) == count * 6
        base = best_of(lambda: baseline(run_dirs), repeat)
        ours = best_of(lambda: verify_many(discover_runs(artifacts)), repeat)
        serial = best_of(lambda: verify_many(discover_runs(artifacts), workers=1), repeat)
        threaded = best_of(lambda: _threads(discover_runs(artifacts), workers), repeat)
    label = f"{count} runs"
    return [
        Row(
            f"verify --all core, {workers} processes ({label})",
            ours,
            "read+hash+parse loop, 1 thread",
            base,
            goal="<= 1.2 (<= 1.0 on 2 cores)",
            extra=f"{count / ours:,.0f} runs/s",
        ),
        Row(
            f"verify --all core, 1 process ({label})",
            serial,
            "read+hash+parse loop, 1 thread",
            base,
            extra=f"{count / serial:,.0f} runs/s",
        ),
        Row(
            f"verify --all core, {workers} threads ({label})",
            threaded,
            "read+hash+parse loop, 1 thread",
            base,
            extra=f"{count / threaded:,.0f} runs/s",
        ),
    ]
