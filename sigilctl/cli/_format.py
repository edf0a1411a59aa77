"""Small text forms shared by the human renderers: times, durations, counts, money, ids."""

from __future__ import annotations

from datetime import UTC, datetime

SHORT_ID = 12  # ``show`` and ``diff`` take any unique prefix of at least 6


def short_id(run_id: str | None) -> str:
    return (run_id or "?")[:SHORT_ID]


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def utc(text: str | None) -> str:
    """``2026-11-26 15:16:23Z``: UTC to the second, marked as UTC."""
    moment = parse_time(text)
    if moment is None:
        return "?"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def age(text: str | None, now: datetime | None = None) -> str:
    """How long ago, to the minute, compact for tables: ``<1m``, ``5m``, ``3h``, ``12d``."""
    moment = parse_time(text)
    if moment is None:
        return "?"
    seconds = ((now or datetime.now(UTC)) - moment).total_seconds()
    if seconds < 0:
        return "future"
    if seconds < 60:
        return "<1m"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return "?"  # pragma: no cover - unreachable


def ago(text: str | None, now: datetime | None = None) -> str:
    """``<1m ago``, ``5m ago``, ``3h ago``, ``12d ago``."""
    shown = age(text, now)
    return shown if shown in ("?", "future") else f"{shown} ago"


def duration(ms: int | None) -> str:
    """``850ms``, ``8.2s``, ``3m05s``."""
    if ms is None:
        return "-"
    if ms < 1000:
        return f"{ms}ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f}s"
    minutes, seconds = divmod(round(ms / 1000), 60)
    return f"{minutes}m{seconds:02d}s"


def count(value: int | None) -> str:
    """Token counts: ``-`` when unknown, ``1,234``, ``12.3k`` beyond 100,000."""
    if value is None:
        return "-"
    if value >= 100_000:
        return f"{value / 1000:.0f}k"
    return f"{value:,}"


def usd(value: float | None) -> str:
    """``$0.0042``; ``-`` when unknown (never a made-up 0)."""
    if value is None:
        return "-"
    if value == 0:
        return "$0"
    if value < 0.01:
        return f"${value:.4f}"
    return f"${value:,.2f}"


def first_words(text: str | None, words: int = 6) -> str:
    """The start of an error message, for a table cell."""
    if not text:
        return ""
    parts = text.split()
    shown = " ".join(parts[:words])
    return shown + ("…" if len(parts) > words else "")
