"""Logging for side channels (tracing, index upkeep): one short line on stderr, detail with -v.

Libraries we call (the OpenTelemetry exporter, httpx) log tracebacks on failures that must never
reach an operator as noise; they are routed here and shown only with ``-v``.
"""

from __future__ import annotations

import logging
import sys

LOGGER_NAME = "sigilctl"
_NOISY = ("opentelemetry", "langfuse", "httpx", "httpcore", "openai", "urllib3")


def get_logger(name: str = "") -> logging.Logger:
    return logging.getLogger(f"{LOGGER_NAME}.{name}" if name else LOGGER_NAME)


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is now (not the one at import), like print would."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:  # noqa: BLE001 - logging must never raise into the caller
            self.handleError(record)


class _Formatter(logging.Formatter):
    """``sigilctl: warning: ...``: the same prefix style as every other message."""

    def format(self, record: logging.LogRecord) -> str:
        return f"sigilctl: {record.levelname.lower()}: {record.getMessage()}" + (
            "\n" + self.formatException(record.exc_info) if record.exc_info else ""
        )


def _configure() -> None:
    root = logging.getLogger(LOGGER_NAME)
    if not root.handlers:
        handler = _StderrHandler()
        handler.setFormatter(_Formatter())
        root.addHandler(handler)
        root.setLevel(logging.WARNING)
        root.propagate = False
    for name in _NOISY:
        logging.getLogger(name).setLevel(logging.CRITICAL)


def set_verbose(verbose: bool) -> None:
    """-v shows debug lines of ours and the libraries' own warnings; otherwise they stay quiet."""
    _configure()
    logging.getLogger(LOGGER_NAME).setLevel(logging.DEBUG if verbose else logging.WARNING)
    for name in _NOISY:
        logging.getLogger(name).setLevel(logging.WARNING if verbose else logging.CRITICAL)


_configure()
