"""Run identity, exactly as SPEC §4 states it, so any outside tool can recompute it.

snapshot bytes = RFC 8785 of the resolved object; inputs_hash = sha256 of the RFC 8785 bytes
of ``{name: sha256(snapshot)}``; run_id = first 32 hex of sha256("sigilzero/run_id/v1:" +
inputs_hash).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sigilctl.canonical import canonical_bytes

RUN_ID_PREFIX = "sigilzero/run_id/v1:"
RUN_ID_LENGTH = 32


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def compute_inputs_hash(snapshot_hashes: Mapping[str, str]) -> str:
    """inputs_hash over ``{snapshot_name: sha256}`` of every input snapshot of a run."""
    return sha256_hex(canonical_bytes(dict(snapshot_hashes)))


def derive_run_id(inputs_hash: str) -> str:
    return sha256_hex((RUN_ID_PREFIX + inputs_hash).encode("ascii"))[:RUN_ID_LENGTH]


@dataclass(frozen=True)
class Identity:
    """The frozen snapshot bytes of a run and the ids derived from them."""

    snapshots: dict[str, bytes]
    snapshot_hashes: dict[str, str]
    inputs_hash: str
    run_id: str


def snapshot_path(name: str) -> str:
    """Where a snapshot lives inside a run directory."""
    return f"inputs/{name}.resolved.json"


def compute_identity(resolved: Mapping[str, Any]) -> Identity:
    """Canonicalize every resolved input, hash it, and derive inputs_hash and run_id."""
    snapshots = {name: canonical_bytes(value) for name, value in resolved.items()}
    hashes = {name: sha256_hex(data) for name, data in snapshots.items()}
    inputs_hash = compute_inputs_hash(hashes)
    return Identity(snapshots, hashes, inputs_hash, derive_run_id(inputs_hash))
