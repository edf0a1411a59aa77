"""What a pipeline may read to build its request: the run's frozen snapshots, nothing else.

A run's request is built from the snapshot *bytes* (as written to ``inputs/*.resolved.json``),
parsed back, with ``inputs_hash`` recomputed from them. The runner and a replay of a finished
run therefore hand a pipeline exactly the same values, and a pipeline that needs a file, the
jobs/ folder or its installed template to build a request cannot be written against this type.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from sigilctl.errors import InputError
from sigilctl.identity import Identity, compute_inputs_hash, sha256_hex

SNAPSHOT_NAMES = ("brief", "doctrine", "context", "model_config", "pipeline")


@dataclass(frozen=True)
class PipelineInputs:
    """The five input snapshots of one run (SPEC §4), as plain JSON values, and inputs_hash."""

    brief: Mapping[str, Any]
    doctrine: Mapping[str, Any]
    context: Mapping[str, Any]
    model_config: Mapping[str, Any]
    pipeline: Mapping[str, Any]
    inputs_hash: str

    @classmethod
    def from_snapshots(cls, snapshots: Mapping[str, bytes]) -> PipelineInputs:
        """From canonical snapshot bytes (a run's ``inputs/`` files, or a frozen identity)."""
        missing = [name for name in SNAPSHOT_NAMES if name not in snapshots]
        if missing:
            raise InputError(f"the run's inputs lack the snapshot(s) {', '.join(missing)}")
        values: dict[str, Mapping[str, Any]] = {}
        for name in SNAPSHOT_NAMES:
            try:
                value = orjson.loads(snapshots[name])
            except orjson.JSONDecodeError:
                raise InputError(f"snapshot '{name}' is not JSON") from None
            if not isinstance(value, dict):
                raise InputError(f"snapshot '{name}' is not a JSON object")
            values[name] = value
        hashes = {name: sha256_hex(data) for name, data in snapshots.items()}
        return cls(**values, inputs_hash=compute_inputs_hash(hashes))

    @classmethod
    def from_identity(cls, identity: Identity) -> PipelineInputs:
        """The inputs of a run whose identity was just frozen (steps 3–6 of SPEC §5)."""
        return cls.from_snapshots(identity.snapshots)

    @property
    def brand(self) -> str:
        return str(self.brief.get("brand", ""))

    @property
    def raw_params(self) -> Mapping[str, Any]:
        """The brief's ``params`` as the snapshot holds them (validate with the pipeline)."""
        params = self.brief.get("params")
        return params if isinstance(params, Mapping) else {}

    @property
    def documents(self) -> list[Mapping[str, Any]]:
        """The retrieved context documents, in rank order (path, text, sha256, ...)."""
        documents = self.context.get("documents")
        return list(documents) if isinstance(documents, list) else []
