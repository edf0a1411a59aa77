"""``sigilctl smoke``: the invariant suite operators run in CI, in a temporary workspace.

Each invariant of SPEC §1, §5 and §8 (identity before tracing, trace ids outside identity,
graceful degradation, silent tracing failures, governance ids exported, verify catches tampering,
the offline example end to end) is one named check function, defined once and used both by the
command and by the project's tests. See ``suite.CHECKS`` for the list and ``context`` for the
hook points (``run``, ``verify``).
"""

from __future__ import annotations

from sigilctl.smoke.context import SmokeContext
from sigilctl.smoke.registry import Check, CheckFailed
from sigilctl.smoke.suite import (
    CHECKS,
    CheckResult,
    SmokeResult,
    check_named,
    run_check,
    run_smoke,
    select,
)

__all__ = [
    "CHECKS",
    "Check",
    "CheckFailed",
    "CheckResult",
    "SmokeContext",
    "SmokeResult",
    "check_named",
    "run_check",
    "run_smoke",
    "select",
]
