"""The invariant suite: the ordered list of checks, selection by ``-k``, and running them.

Each check runs in the one ``SmokeContext`` of the suite (a temp dir deleted at the end, the
environment sealed and restored). A check that raises anything other than ``CheckFailed`` fails
too, with the exception named: the suite itself never stops half-way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sigilctl import logs
from sigilctl.env import scrub
from sigilctl.errors import InputError
from sigilctl.smoke import checks_runs, checks_tracing
from sigilctl.smoke.context import SmokeContext
from sigilctl.smoke.registry import Check, CheckFailed

log = logs.get_logger("smoke")

CHECKS: tuple[Check, ...] = (
    Check(
        "graceful_degradation",
        "graceful degradation without Langfuse keys",
        checks_tracing.graceful_degradation,
    ),
    Check(
        "trace_ids_outside_identity",
        "trace ids excluded from inputs_hash and run_id",
        checks_runs.trace_ids_outside_identity,
    ),
    Check(
        "tracing_after_run_id", "tracing after run_id derivation", checks_runs.tracing_after_run_id
    ),
    Check(
        "trace_id_manifest_root",
        "langfuse_trace_id at the manifest root only",
        checks_runs.trace_id_manifest_root,
    ),
    Check(
        "tracing_failures_silent",
        "tracing failures are silent and bounded",
        checks_tracing.tracing_failures_silent,
    ),
    Check(
        "governance_ids_in_trace",
        "governance ids in the exported trace metadata",
        checks_tracing.governance_ids_in_trace,
    ),
    Check(
        "helpers_accept_missing_trace",
        "tracing helpers accept a missing trace",
        checks_tracing.helpers_accept_missing_trace,
    ),
    Check(
        "step_context_manager",
        "step context manager enters, exits and re-raises",
        checks_tracing.step_context_manager,
    ),
    Check(
        "same_inputs_same_run_id",
        "same inputs give the same run_id and a cache hit",
        checks_runs.same_inputs_same_run_id,
    ),
    Check(
        "verify_catches_tampering",
        "verify passes a fresh run and catches tampering",
        checks_runs.verify_catches_tampering,
    ),
    Check(
        "offline_example_end_to_end",
        "offline example job end to end",
        checks_runs.offline_example_end_to_end,
    ),
    Check(
        "spooled_trace_resent",
        "a spooled trace is re-sent whole",
        checks_tracing.spooled_trace_resent,
    ),
)


def check_named(name: str) -> Check:
    return next(c for c in CHECKS if c.name == name)


@dataclass(frozen=True)
class CheckResult:
    name: str
    title: str
    ok: bool
    ms: float
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "ok": self.ok,
            "ms": round(self.ms, 1),
            "detail": self.detail,
        }


@dataclass
class SmokeResult:
    results: list[CheckResult] = field(default_factory=list)
    ms: float = 0.0

    @property
    def passed(self) -> int:
        return sum(1 for r in self.results if r.ok)

    @property
    def failed(self) -> int:
        return len(self.results) - self.passed

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def as_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "failed": self.failed,
            "ms": round(self.ms, 1),
            "checks": [r.as_json() for r in self.results],
        }


def select(patterns: Sequence[str] = ()) -> list[Check]:
    """Checks matching any ``-k`` pattern (all without one); no match is a usage error."""
    if not patterns:
        return list(CHECKS)
    chosen = [c for c in CHECKS if any(c.matches(p) for p in patterns)]
    if not chosen:
        shown = ", ".join(repr(p) for p in patterns)
        names = ", ".join(c.name for c in CHECKS)
        raise InputError(f"no smoke check matches -k {shown} (checks: {names})")
    return chosen


def run_check(check: Check, ctx: SmokeContext) -> CheckResult:
    """Run one check; its failure (or crash) becomes a failed result, never an exception."""
    started = time.perf_counter()
    try:
        detail, ok = check.function(ctx), True
    except CheckFailed as exc:
        detail, ok = str(exc), False
    except Exception as exc:  # a crashing check is a failed check, named
        log.debug("smoke check %s crashed", check.name, exc_info=True)
        detail, ok = f"unexpected {type(exc).__name__}: {exc}", False
    ms = (time.perf_counter() - started) * 1000
    return CheckResult(check.name, check.title, ok, ms, scrub(detail))


Starting = Callable[[int, int, Check], None]
Finished = Callable[[int, int, CheckResult], None]


def run_smoke(
    checks: Sequence[Check],
    *,
    on_start: Starting | None = None,
    on_result: Finished | None = None,
    **hooks: Any,
) -> SmokeResult:
    """Run ``checks`` in order in one temporary context; ``hooks`` go to ``SmokeContext``."""
    result = SmokeResult()
    started = time.perf_counter()
    with SmokeContext.create(**hooks) as ctx:
        for index, check in enumerate(checks, start=1):
            if on_start is not None:
                on_start(index, len(checks), check)
            outcome = run_check(check, ctx)
            result.results.append(outcome)
            if on_result is not None:
                on_result(index, len(checks), outcome)
    result.ms = (time.perf_counter() - started) * 1000
    return result
