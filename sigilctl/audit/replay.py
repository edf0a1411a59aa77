"""``sigilctl replay``: re-execute a run from its own input snapshots alone, and compare.

The request is rebuilt from ``inputs/*.resolved.json`` (no jobs/ folder, no workspace), the
pipeline's steps run confined (``confine``) in a scratch folder, and the result is compared
with the run: its ids recomputed from the snapshots, the rendered prompt against the
manifest's ``prompt_sha256``, and for the offline provider every output byte. A run made with
a model is re-sent to it and each output is reported same or changed; ``--provider offline``
replays such a run's prompt only.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sigilctl.audit.confine import Confinement, confined
from sigilctl.audit.loaded import LoadedRun, load_run
from sigilctl.audit.reading import UnsafeRunFile, read_run_file
from sigilctl.audit.request import (
    BuiltRequest,
    ReplayError,
    build_with,
    load_pipeline,
    prompt_bytes,
    prompt_sha256,
)
from sigilctl.errors import InputError
from sigilctl.identity import compute_identity, snapshot_path
from sigilctl.pipelines.base import OutputError
from sigilctl.pipelines.inputs import PipelineInputs
from sigilctl.providers.base import ProviderError

OutputStatus = Literal["same", "changed"]
PROMPT_FILE = "prompt.json"


@dataclass
class ReplayResult:
    run_id: str
    replay_run_id: str
    provider: str
    prompt_identical: bool | None = None
    prompt_only: bool = False
    outputs: dict[str, OutputStatus] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    error: str | None = None
    kept: Path | None = None

    @property
    def identical(self) -> bool:
        return (
            self.error is None
            and not self.problems
            and self.replay_run_id == self.run_id
            and self.prompt_identical is True
            and all(status == "same" for status in self.outputs.values())
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "replay_run_id": self.replay_run_id,
            "prompt_identical": self.prompt_identical,
            "outputs": dict(sorted(self.outputs.items())),
            "identical": self.identical,
            "provider": self.provider,
            "prompt_only": self.prompt_only,
            "problems": self.problems,
            "error": self.error,
            "kept": str(self.kept) if self.kept else None,
        }


def replay_run(
    run_dir: Path, *, provider: str | None = None, keep: Path | None = None
) -> ReplayResult:
    """Replay one run; everything found is in the result, nothing inside the run is written."""
    from sigilctl.verify import verify_run

    if provider not in (None, "offline"):
        raise InputError(f"--provider {provider}: replay accepts only 'offline' (prompt only)")
    report = verify_run(run_dir)
    run = load_run(run_dir)
    identity = compute_identity(run.snapshots)
    recorded = _recorded_provider(run)
    result = ReplayResult(
        run.run_id,
        identity.run_id,
        provider or recorded,
        prompt_only=provider == "offline" and recorded != "offline",
        problems=[p.message for p in report.problems],
    )
    if identity.run_id != run.run_id:
        result.problems.append(
            f"the snapshots give run_id {identity.run_id}, not {run.run_id}: an input was changed"
        )
    scratch = _scratch(keep)
    try:
        _replay(run, identity.inputs_hash, identity.snapshots, scratch, result)
    finally:
        if keep is None:
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            result.kept = scratch
    return result


def _recorded_provider(run: LoadedRun) -> str:
    name = run.snapshots.get("model_config", {}).get("provider")
    if not isinstance(name, str):
        raise ReplayError(f"{snapshot_path('model_config')} names no provider")
    return name


def _scratch(keep: Path | None) -> Path:
    if keep is None:
        return Path(tempfile.mkdtemp(prefix="sigilctl-replay-"))
    try:
        keep.mkdir(parents=True)
    except FileExistsError:
        raise InputError(f"--keep {keep} already exists; name a new folder") from None
    except OSError as exc:
        raise InputError(f"--keep {keep} cannot be created: {exc.strerror}") from None
    return keep.resolve()


def _replay(
    run: LoadedRun,
    inputs_hash: str,
    snapshot_bytes: dict[str, bytes],
    scratch: Path,
    result: ReplayResult,
) -> None:
    (scratch / "inputs").mkdir()
    for name, data in snapshot_bytes.items():
        (scratch / snapshot_path(name)).write_bytes(data)
    pipeline = load_pipeline(run.snapshots)  # installed code: loaded before confinement
    built: BuiltRequest | None = None
    with confined(Confinement([scratch])) as box:
        try:
            built = build_with(pipeline, PipelineInputs.from_snapshots(snapshot_bytes))
        except (InputError, OutputError) as exc:
            result.error = f"the request cannot be rebuilt from the snapshots: {exc}"
    if _leaked(box, "building the request", result) or built is None:
        return
    # The prompt as RFC 8785 bytes: its sha256 is what the manifest's prompt_sha256 records.
    (scratch / PROMPT_FILE).write_bytes(prompt_bytes(built.request))
    expected = run.manifest.prompt_sha256
    result.prompt_identical = None if expected is None else prompt_sha256(built.request) == expected
    if expected is None:
        result.problems.append(
            "the run recorded no prompt_sha256, so its prompt cannot be compared"
        )
    if result.prompt_only:
        return
    _execute(run, built, scratch, result)


def _execute(run: LoadedRun, built: BuiltRequest, scratch: Path, result: ReplayResult) -> None:
    from sigilctl.providers import get_provider

    provider = get_provider(result.provider)
    provider.check_ready()
    try:
        if provider.offline:  # an offline step may touch neither the network nor any file
            with confined(Confinement([scratch])) as box:
                reply = provider.generate(built.request)
            if _leaked(box, "generating", result):
                return
        else:
            reply = provider.generate(built.request)
        with confined(Confinement([scratch])) as box:
            parsed = built.pipeline.parse_reply(reply.text, built.inputs)
            written = built.pipeline.write_outputs(parsed, built.inputs, scratch / "outputs")
    except ProviderError as exc:
        result.error = f"the provider failed: {exc.message}"
        return
    except OutputError as exc:
        result.error = f"the reply does not parse: {exc}"
        return
    if _leaked(box, "writing outputs", result):
        return
    replayed = {path.relative_to(scratch).as_posix(): path.read_bytes() for path in written}
    for rel in sorted(replayed.keys() | run.output_hashes().keys()):
        try:
            original: bytes | None = read_run_file(run.run_dir, rel)
        except UnsafeRunFile:
            original = None
        result.outputs[rel] = "same" if replayed.get(rel) == original else "changed"


def _leaked(box: Confinement, step: str, result: ReplayResult) -> bool:
    if not box.leaks:
        return False
    shown = "; ".join(box.leaks[:3]) + (
        f" (and {len(box.leaks) - 3} more)" if len(box.leaks) > 3 else ""
    )
    result.error = (
        f"the pipeline reached beyond the run's snapshots while {step}: {shown}; "
        "a run must be reproducible from its inputs alone"
    )
    return True
