"""Whether a run is traced, decided from the environment, the brief and run_id alone.

No SDK import here: these decisions run on every traced command and must cost nothing.
Precedence: ``--no-trace`` and ``observability.enabled: false`` always switch tracing off;
``SIGILCTL_TRACE_SAMPLE_RATE`` overrides the brief's ``observability.sample_rate``; sampling is a
pure function of run_id, so a re-run of the same inputs is sampled the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from sigilctl import env

DEFAULT_FLUSH_TIMEOUT_S = 2.0
MAX_FLUSH_TIMEOUT_S = 60.0
KEY_VARIABLES = (env.LANGFUSE_PUBLIC_KEY, env.LANGFUSE_SECRET_KEY)


@dataclass(frozen=True)
class TraceDecision:
    """Whether to trace this run, why not if not, and a warning line for a bad setting."""

    traced: bool
    reason: str
    warning: str | None = None


def missing_keys() -> list[str]:
    """The Langfuse key variables that are not set (tracing needs both)."""
    return [name for name in KEY_VARIABLES if env.get(name) is None]


def sdk_tracing_switched_off() -> bool:
    """``LANGFUSE_TRACING_ENABLED=false`` is the SDK's own off switch; we honour it."""
    return (env.get(env.LANGFUSE_TRACING_ENABLED) or "true").strip().lower() == "false"


def is_observability_enabled() -> bool:
    """Langfuse is configured (both keys) and not switched off by its own variable."""
    return not missing_keys() and not sdk_tracing_switched_off()


def flush_timeout_s() -> float:
    """The bound on the end-of-run flush: ``SIGILCTL_TRACE_FLUSH_TIMEOUT`` seconds, default 2."""
    raw = env.get(env.SIGILCTL_TRACE_FLUSH_TIMEOUT)
    if raw is None:
        return DEFAULT_FLUSH_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_FLUSH_TIMEOUT_S
    if not 0 <= value <= MAX_FLUSH_TIMEOUT_S:
        return DEFAULT_FLUSH_TIMEOUT_S
    return value


def in_sample(run_id: str, rate: float) -> bool:
    """Deterministic sampling: the first 32 bits of run_id as a fraction, below the rate."""
    if rate >= 1:
        return True
    if rate <= 0:
        return False
    return int(run_id[:8], 16) / 2**32 < rate


def _env_sample_rate() -> tuple[float | None, str | None]:
    raw = env.get(env.SIGILCTL_TRACE_SAMPLE_RATE)
    if raw is None:
        return None, None
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0 <= value <= 1:
        return 0.0, (
            f"{env.SIGILCTL_TRACE_SAMPLE_RATE}={raw!r} is not a number from 0 to 1; "
            "this run is not traced"
        )
    return value, None


def decide(run_id: str, *, enabled: bool, sample_rate: float | None) -> TraceDecision:
    """Decide once, after run_id exists, whether this run is traced."""
    if not enabled:
        return TraceDecision(False, "tracing switched off for this run")
    missing = missing_keys()
    if missing:
        return TraceDecision(False, f"{' and '.join(missing)} not set")
    if sdk_tracing_switched_off():
        return TraceDecision(False, f"{env.LANGFUSE_TRACING_ENABLED}=false")
    env_rate, warning = _env_sample_rate()
    rate = env_rate if env_rate is not None else (1.0 if sample_rate is None else sample_rate)
    if warning is not None:
        return TraceDecision(False, "invalid sample rate", warning)
    if not in_sample(run_id, rate):
        return TraceDecision(False, f"sampled out (rate {rate:g})")
    return TraceDecision(True, f"sampled in (rate {rate:g})")
