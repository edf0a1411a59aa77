"""Measured steps. Steps 1–6 of a run happen before any trace may exist (SPEC §5), so their
timings are kept as plain records and handed to tracing only after run_id is known."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class StepRecord:
    name: str
    start_ns: int
    end_ns: int = 0
    input: dict[str, Any] = field(default_factory=dict)
    output: dict[str, Any] = field(default_factory=dict)
    parent: str | None = None


@dataclass
class StepLog:
    """An ordered list of measured steps plus named events (used to prove ordering)."""

    records: list[StepRecord] = field(default_factory=list)
    events: list[str] = field(default_factory=list)

    @contextmanager
    def step(self, name: str, parent: str | None = None, **inputs: Any) -> Iterator[StepRecord]:
        record = StepRecord(name, time.time_ns(), input=dict(inputs), parent=parent)
        try:
            yield record
        finally:
            record.end_ns = time.time_ns()
            self.records.append(record)

    def event(self, name: str) -> None:
        self.events.append(name)
