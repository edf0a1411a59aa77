"""Measured steps. Steps 1–6 of a run happen before any trace may exist (SPEC §5), so their
timings are kept as plain records and handed to tracing only after run_id is known.

A step's input and output are typed payloads (frozen dataclasses below), not dicts keyed by
strings shared across modules: a renamed field is a type error, and the trace renders any
payload generically (its fields become the span's input or output).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class BriefRequest:
    path: str


@dataclass(frozen=True)
class DoctrineRequest:
    doctrine_id: str


@dataclass(frozen=True)
class DoctrineLoaded:
    id: str
    version: str
    path: str
    sha256: str
    bytes: int


@dataclass(frozen=True)
class ContextRequest:
    query: str | None
    top_k: int | None


@dataclass(frozen=True)
class ContextRetrieved:
    mode: str
    method: str
    files: tuple[str, ...]


@dataclass(frozen=True)
class SnapshotFrozen:
    path: str
    sha256: str
    bytes: int


@dataclass(frozen=True)
class IdentityDerived:
    inputs_hash: str
    run_id: str


StepPayload = (
    BriefRequest
    | DoctrineRequest
    | DoctrineLoaded
    | ContextRequest
    | ContextRetrieved
    | SnapshotFrozen
    | IdentityDerived
)


def payload_fields(payload: StepPayload | None) -> dict[str, Any] | None:
    """A payload as plain JSON-able fields (tuples become lists), or None."""
    if payload is None:
        return None
    return {
        f.name: list(value) if isinstance(value := getattr(payload, f.name), tuple) else value
        for f in dataclasses.fields(payload)
    }


@dataclass
class StepRecord:
    """One measured step; ``parent`` names the enclosing step (None: directly under the run)."""

    name: str
    start_ns: int
    end_ns: int = 0
    input: StepPayload | None = None
    output: StepPayload | None = None
    parent: str | None = None


@dataclass
class StepLog:
    """An ordered list of measured steps plus named events (used to prove ordering)."""

    records: list[StepRecord] = field(default_factory=list)
    events: list[str] = field(default_factory=list)

    @contextmanager
    def step(
        self, name: str, input: StepPayload | None = None, parent: str | None = None
    ) -> Iterator[StepRecord]:
        record = StepRecord(name, time.time_ns(), input=input, parent=parent)
        try:
            yield record
        finally:
            record.end_ns = time.time_ns()
            self.records.append(record)

    def event(self, name: str) -> None:
        self.events.append(name)
