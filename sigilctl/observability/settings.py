"""Whether a run is traced and where its trace goes, decided from the environment, the brief
and run_id alone.

No SDK import here: these decisions run on every traced command and must cost nothing.
Precedence: ``--no-trace`` and ``observability.enabled: false`` always switch tracing off;
``SIGILCTL_TRACE_SAMPLE_RATE`` overrides the brief's ``observability.sample_rate``; sampling is a
pure function of run_id, so a re-run of the same inputs is sampled the same way. A malformed
value of ours is named in one warning line and replaced by its default; the Langfuse SDK's own
variables (``LANGFUSE_TIMEOUT``, ``LANGFUSE_FLUSH_INTERVAL``, ...) are not read at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sigilctl import __version__, env
from sigilctl.observability.links import langfuse_host

DEFAULT_FLUSH_TIMEOUT_S = 2.0
MAX_FLUSH_TIMEOUT_S = 60.0
DEFAULT_SPOOL_MAX_MB = 256.0
DEFAULT_ENVIRONMENT = "default"
SPOOL_DIR = Path(".sigilctl") / "trace-spool"
KEY_VARIABLES = (env.LANGFUSE_PUBLIC_KEY, env.LANGFUSE_SECRET_KEY)


@dataclass(frozen=True)
class TraceDecision:
    """Whether to trace this run, why not if not, and a warning line for a bad setting."""

    traced: bool
    reason: str
    warning: str | None = None


@dataclass(frozen=True)
class Destination:
    """A Langfuse project: its base URL (no credentials) and its keys (never printed)."""

    host: str
    public_key: str = field(repr=False)
    secret_key: str = field(repr=False)


@dataclass(frozen=True)
class Setting:
    """A numeric setting as read, with a warning line when the variable was malformed."""

    value: float
    warning: str | None = None


def missing_keys() -> list[str]:
    """The Langfuse key variables that are not set (tracing needs both)."""
    return [name for name in KEY_VARIABLES if env.get(name) is None]


def sdk_tracing_switched_off() -> bool:
    """``LANGFUSE_TRACING_ENABLED=false`` is the SDK's own off switch; we honour it."""
    return (env.get(env.LANGFUSE_TRACING_ENABLED) or "true").strip().lower() == "false"


def langfuse_configured() -> bool:
    """Langfuse is configured (both keys) and not switched off by its own variable."""
    return not missing_keys() and not sdk_tracing_switched_off()


def destination() -> Destination | None:
    """The configured Langfuse project, or None when tracing is not configured."""
    if not langfuse_configured():
        return None
    return Destination(
        langfuse_host(),
        env.get(env.LANGFUSE_PUBLIC_KEY) or "",
        env.get(env.LANGFUSE_SECRET_KEY) or "",
    )


def environment_name() -> str:
    """Langfuse's environment of every trace: ``LANGFUSE_TRACING_ENVIRONMENT``, else default."""
    return (env.get(env.LANGFUSE_TRACING_ENVIRONMENT) or DEFAULT_ENVIRONMENT).strip()


def release_name() -> str:
    """The release every trace carries: ``LANGFUSE_RELEASE``, else the sigilctl version."""
    return (env.get(env.LANGFUSE_RELEASE) or __version__).strip()


def _number(variable: str, default: float, low: float, high: float, unit: str) -> Setting:
    raw = env.get(variable)
    if raw is None:
        return Setting(default)
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:
        return Setting(
            default,
            f"{variable}={raw!r} is not a number from {low:g} to {high:g}; "
            f"using {default:g} {unit}",
        )
    return Setting(value)


def flush_timeout() -> Setting:
    """The bound on what tracing may add to a run: ``SIGILCTL_TRACE_FLUSH_TIMEOUT`` s, default 2."""
    return _number(
        env.SIGILCTL_TRACE_FLUSH_TIMEOUT,
        DEFAULT_FLUSH_TIMEOUT_S,
        0.0,
        MAX_FLUSH_TIMEOUT_S,
        "s",
    )


def spool_max() -> Setting:
    """The spool's size cap in bytes: ``SIGILCTL_TRACE_SPOOL_MAX_MB`` MiB, default 256."""
    setting = _number(
        env.SIGILCTL_TRACE_SPOOL_MAX_MB, DEFAULT_SPOOL_MAX_MB, 0.0, 1024.0 * 1024, "MB"
    )
    return Setting(setting.value * 1024 * 1024, setting.warning)


def spool_dir(artifacts: Path) -> Path:
    """``SIGILCTL_TRACE_SPOOL``, else ``<artifacts>/.sigilctl/trace-spool``."""
    return env.path_setting(None, env.SIGILCTL_TRACE_SPOOL, artifacts / SPOOL_DIR).absolute()


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
